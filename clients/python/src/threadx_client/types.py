"""The shapes of the daemon's answers the client returns (see schemas/json/ for all of them)."""

import sys
from typing import Dict, List, Optional, Union

if sys.version_info >= (3, 11):
    from typing import NotRequired, TypedDict
else:  # pragma: no cover - older Pythons: every key typed as present
    from typing import TypedDict

    NotRequired = Optional  # type: ignore[assignment]

Time = Union[int, str]
"""A point in time: ms since the epoch (UTC) or UTC ISO-8601 text such as "2024-01-31"."""


class DatasetSummary(TypedDict):
    id: str
    symbol: str
    interval: str
    kind: str
    rows: int
    first: Optional[int]
    last: Optional[int]
    gaps: int
    missing: int
    filled: int
    files: int
    bytes: int
    updated: int
    derived: bool
    pending: "NotRequired[int]"
    path: "NotRequired[str]"


class CandleColumns(TypedDict):
    openTime: List[float]
    open: List[float]
    high: List[float]
    low: List[float]
    close: List[float]
    volume: List[float]
    quoteVolume: List[float]
    trades: List[float]
    takerBuyBase: List[float]
    takerBuyQuote: List[float]
    filled: List[int]


class CandleRead(TypedDict):
    symbol: str
    interval: str
    requestedInterval: str
    resampled: bool
    truncated: bool
    length: int
    columns: CandleColumns


class IndicatorValues(TypedDict):
    name: str
    key: str
    params: Dict[str, float]
    outputs: Dict[str, List[Optional[float]]]


class IndicatorSeries(TypedDict):
    symbol: str
    requestedInterval: str
    interval: str
    openTime: List[float]
    indicators: List[IndicatorValues]
