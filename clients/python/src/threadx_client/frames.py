"""Candle columns as a pandas or polars frame. Both libraries are optional: a function whose
library is missing says how to install it."""

from typing import Any

from .types import CandleColumns


def to_pandas(columns: CandleColumns) -> Any:
    """A pandas DataFrame indexed by the candles' UTC open time."""
    try:
        import pandas as pd
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("to_pandas needs pandas: pip install pandas") from e
    frame = pd.DataFrame({k: v for k, v in columns.items() if k != "openTime"})
    frame.index = pd.to_datetime(columns["openTime"], unit="ms", utc=True)
    frame.index.name = "openTime"
    return frame


def to_polars(columns: CandleColumns) -> Any:
    """A polars DataFrame with `openTime` as a UTC datetime column."""
    try:
        import polars as pl
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("to_polars needs polars: pip install polars") from e
    frame = pl.DataFrame(dict(columns))
    return frame.with_columns(
        pl.from_epoch(pl.col("openTime").cast(pl.Int64), time_unit="ms")
        .dt.replace_time_zone("UTC")
        .alias("openTime")
    )
