"""A typed client for the ThreadX Data daemon (JSON-RPC 2.0 with LSP framing), stdlib only."""

from .client import (
    METHOD_PARAMS,
    PROTOCOL_VERSION,
    ResponseError,
    ThreadxClient,
    read_discovery,
)
from .frames import to_pandas, to_polars
from .types import CandleColumns, CandleRead, DatasetSummary, IndicatorSeries

__all__ = [
    "METHOD_PARAMS",
    "PROTOCOL_VERSION",
    "CandleColumns",
    "CandleRead",
    "DatasetSummary",
    "IndicatorSeries",
    "ResponseError",
    "ThreadxClient",
    "read_discovery",
    "to_pandas",
    "to_polars",
]
