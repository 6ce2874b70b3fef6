"""The connection to the daemon and its typed requests.

The daemon speaks JSON-RPC 2.0 with LSP framing (`Content-Length` headers) over a Unix socket,
a TCP port or stdio; docs/protocol.md and schemas/json/ in the repository describe every
message. `ThreadxClient.connect` joins the daemon that serves a data folder (its discovery file
`<data>/.threadx-daemon.json`) or starts one on stdio.
"""

import itertools
import json
import os
import socket
import subprocess
import sys
import threading
from typing import IO, Any, Callable, Dict, List, Mapping, Optional, Sequence, cast

from .types import CandleRead, DatasetSummary, IndicatorSeries, Time

PROTOCOL_VERSION = "1.0"

#: The params each method the client sends may carry (its typed methods use no others). A test
#: checks them against the protocol's JSON Schema, so a renamed or removed param fails there.
METHOD_PARAMS: Dict[str, Sequence[str]] = {
    "initialize": ("processId", "clientInfo", "protocolVersion", "token"),
    "shutdown": (),
    "registry/list": ("filter", "details"),
    "registry/verify": ("workDoneToken",),
    "data/read": ("symbol", "interval", "start", "end", "maxPoints", "exact"),
    "data/export": ("symbol", "interval", "start", "end", "out", "format", "indicators", "overwrite"),
    "indicators/read": (
        "symbols",
        "intervals",
        "indicators",
        "start",
        "end",
        "maxPoints",
        "exact",
    ),
    "ingest/plan": ("symbols", "group", "intervals", "start", "end", "source"),
    "ingest/run": ("symbols", "group", "intervals", "start", "end", "source", "workDoneToken"),
}

Progress = Callable[[Dict[str, Any]], None]


class ResponseError(Exception):
    """An error answer: `code` is the JSON-RPC code, `reason` the stable ThreadX code (such as
    `INVALID_PARAMS` or `NOT_FOUND`), `hint` how to fix it."""

    def __init__(self, error: Mapping[str, Any]):
        super().__init__(error.get("message", "error"))
        self.code: Optional[int] = error.get("code")
        self.data: Dict[str, Any] = dict(error.get("data") or {})
        self.reason: Optional[str] = self.data.get("reason")
        self.hint: Optional[str] = self.data.get("hint")


def read_discovery(data_dir: str) -> Optional[Dict[str, Any]]:
    """The discovery file of the daemon serving `data_dir`, when that daemon is alive."""
    try:
        with open(os.path.join(data_dir, ".threadx-daemon.json"), encoding="utf-8") as f:
            info = cast(Dict[str, Any], json.load(f))
        os.kill(int(info["pid"]), 0)  # Raises when the daemon is gone.
        return info
    except (OSError, ValueError, KeyError):
        return None


def _drop_none(params: Dict[str, Any]) -> Dict[str, Any]:
    return {k: v for k, v in params.items() if v is not None}


class ThreadxClient:
    """One connection to the daemon. Requests are sent one at a time; notifications that arrive
    meanwhile (`registry/changed`, `log/message`) go to `on_notification`."""

    def __init__(self, reader: IO[bytes], writer: IO[bytes], process: Optional[subprocess.Popen] = None):
        self._reader = reader
        self._writer = writer
        self._process = process
        self._ids = itertools.count(1)
        self._tokens = itertools.count(1)
        self._lock = threading.Lock()
        self.on_notification: Callable[[str, Any], None] = lambda method, params: None
        #: The daemon's answer to `initialize` (protocol version, data folder), once connected.
        self.server_info: Dict[str, Any] = {}

    # -- connecting ---------------------------------------------------------------------------

    @classmethod
    def connect(
        cls,
        data_dir: str,
        cli: str = "threadx",
        node: Optional[str] = None,
        name: str = "threadx-python",
    ) -> "ThreadxClient":
        """Joins the daemon serving `data_dir` over its socket, or starts one on stdio with the
        `threadx` program (`cli`: the program, or the path of `dist/cli.js` run by `node`).
        The connection is initialized; the daemon's answer is kept in `server_info`."""
        data_dir = os.path.abspath(data_dir)
        client: Optional[ThreadxClient] = None
        info = read_discovery(data_dir)
        endpoint = info.get("endpoint") if info else None
        if endpoint and endpoint.get("kind") == "socket" and hasattr(socket, "AF_UNIX"):
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(endpoint["path"])
                f = s.makefile("rwb", buffering=0)
                client = cls(cast(IO[bytes], f), cast(IO[bytes], f))
            except OSError:
                client = None  # A stale discovery file: start our own.
        if client is None:
            client = cls.spawn(data_dir, cli, node)
        client.server_info = client.initialize(name)
        return client

    @classmethod
    def spawn(cls, data_dir: str, cli: str = "threadx", node: Optional[str] = None) -> "ThreadxClient":
        """Starts a daemon on stdio for `data_dir` (it joins a running one itself)."""
        program = [node or "node", cli] if cli.endswith(".js") else [cli]
        process = subprocess.Popen(
            [*program, "serve", "--stdio", "--join", "--data-dir", os.path.abspath(data_dir)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=sys.stderr,
        )
        assert process.stdout is not None and process.stdin is not None
        return cls(process.stdout, process.stdin, process)

    def __enter__(self) -> "ThreadxClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- framing ------------------------------------------------------------------------------

    def _send(self, message: Dict[str, Any]) -> None:
        body = json.dumps(message, separators=(",", ":")).encode("utf-8")
        with self._lock:
            self._writer.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
            self._writer.flush()

    def _read(self) -> Dict[str, Any]:
        length = None
        while True:
            line = self._reader.readline()
            if not line:
                raise EOFError("the daemon closed the connection")
            line = line.rstrip(b"\r\n")
            if not line:
                break
            key, _, value = line.decode("latin-1").partition(":")
            if key.strip().lower() == "content-length":
                length = int(value.strip())
        if length is None:
            raise ValueError("a message without Content-Length")
        body = b""
        while len(body) < length:
            chunk = self._reader.read(length - len(body))
            if not chunk:
                raise EOFError("the daemon closed the connection mid-message")
            body += chunk
        return cast(Dict[str, Any], json.loads(body.decode("utf-8")))

    # -- requests -----------------------------------------------------------------------------

    def request(self, method: str, params: Optional[Dict[str, Any]] = None, on_progress: Optional[Progress] = None) -> Any:
        """Sends a request and returns its result; raises ResponseError on an error answer."""
        request_id = next(self._ids)
        message: Dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
        token = None
        if on_progress is not None:
            token = "py%d" % next(self._tokens)
            params = dict(params or {}, workDoneToken=token)
        if params is not None:
            message["params"] = params
        self._send(message)
        while True:
            answer = self._read()
            if "method" in answer:
                if answer["method"] == "$/progress" and answer["params"].get("token") == token:
                    if on_progress is not None:
                        on_progress(answer["params"]["value"])
                else:
                    self.on_notification(answer["method"], answer.get("params"))
                continue
            if answer.get("id") != request_id:
                continue
            if "error" in answer:
                raise ResponseError(answer["error"])
            return answer.get("result")

    def notify(self, method: str, params: Optional[Dict[str, Any]] = None) -> None:
        message: Dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        self._send(message)

    def initialize(self, name: str = "threadx-python") -> Dict[str, Any]:
        return cast(
            Dict[str, Any],
            self.request(
                "initialize",
                {
                    "processId": os.getpid(),
                    "clientInfo": {"name": name},
                    "protocolVersion": PROTOCOL_VERSION,
                },
            ),
        )

    def list_datasets(
        self, symbol: Optional[str] = None, interval: Optional[str] = None, kind: Optional[str] = None
    ) -> List[DatasetSummary]:
        """The bank's datasets, sorted by id."""
        flt = _drop_none({"symbol": symbol, "interval": interval, "kind": kind})
        result = self.request("registry/list", {"filter": flt} if flt else {})
        return cast(List[DatasetSummary], result["datasets"])

    def read_candles(
        self,
        symbol: str,
        interval: str,
        start: Optional[Time] = None,
        end: Optional[Time] = None,
        max_points: int = 1_000_000,
    ) -> CandleRead:
        """Candles of exactly `interval` in [start, end) as columns (`truncated` is true when the
        range held more than `max_points`: the last ones are returned)."""
        params = _drop_none(
            {
                "symbol": symbol,
                "interval": interval,
                "start": start,
                "end": end,
                "maxPoints": max_points,
                "exact": True,
            }
        )
        return cast(CandleRead, self.request("data/read", params))

    def read_indicators(
        self,
        symbol: str,
        interval: str,
        indicators: Sequence[Mapping[str, Any]],
        start: Optional[Time] = None,
        end: Optional[Time] = None,
        max_points: int = 1_000_000,
    ) -> IndicatorSeries:
        """Indicator values (identical to TA-Lib), e.g. `[{"name": "rsi", "params": {"period": 14}}]`."""
        params = _drop_none(
            {
                "symbols": [symbol],
                "intervals": [interval],
                "indicators": [dict(i) for i in indicators],
                "start": start,
                "end": end,
                "maxPoints": max_points,
                "exact": True,
            }
        )
        return cast(IndicatorSeries, self.request("indicators/read", params)["series"][0])

    def export(
        self,
        symbol: str,
        interval: str,
        out: str,
        format: str = "csv",
        start: Optional[Time] = None,
        end: Optional[Time] = None,
        overwrite: bool = False,
    ) -> Dict[str, Any]:
        """Writes the range to `out` (absolute; .csv, .xlsx or .parquet as `format` says)."""
        params = _drop_none(
            {
                "symbol": symbol,
                "interval": interval,
                "out": os.path.abspath(out),
                "format": format,
                "start": start,
                "end": end,
                "overwrite": overwrite,
            }
        )
        return cast(Dict[str, Any], self.request("data/export", params))

    def plan_ingest(
        self, symbols: Sequence[str], start: Time, end: Optional[Time] = None, intervals: Optional[Sequence[str]] = None
    ) -> Dict[str, Any]:
        """What an ingest would download (a dry run: nothing is fetched or written)."""
        params = _drop_none(
            {"symbols": list(symbols), "start": start, "end": end, "intervals": list(intervals) if intervals else None}
        )
        return cast(Dict[str, Any], self.request("ingest/plan", params))

    def ingest(
        self,
        symbols: Sequence[str],
        start: Time,
        end: Optional[Time] = None,
        intervals: Optional[Sequence[str]] = None,
        source: str = "auto",
        on_progress: Optional[Progress] = None,
    ) -> Dict[str, Any]:
        """Downloads what is missing and derives `intervals`; `on_progress` gets `$/progress`."""
        params = _drop_none(
            {
                "symbols": list(symbols),
                "start": start,
                "end": end,
                "intervals": list(intervals) if intervals else None,
                "source": source,
            }
        )
        return cast(Dict[str, Any], self.request("ingest/run", params, on_progress=on_progress))

    def close(self) -> None:
        """LSP's polite stop for a daemon this client started; a joined one is only left."""
        if self._process is not None:
            try:
                self.request("shutdown")
                self.notify("exit")
            except (EOFError, BrokenPipeError, ResponseError):
                pass
            if self._process.stdin:
                self._process.stdin.close()
            self._process.wait(timeout=10)
            if self._process.stdout:
                self._process.stdout.close()
        else:
            self._writer.close()
