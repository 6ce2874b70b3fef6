#!/usr/bin/env python3
"""A small ThreadX Data client using only the Python standard library.

It finds the daemon that serves a data directory (through <data>/.threadx-daemon.json) and
connects to its socket, or starts one (`node dist/cli.js serve --stdio`) and talks to it over
stdio. The protocol is JSON-RPC 2.0 with LSP framing (Content-Length headers); see
docs/protocol.md and the JSON Schemas in schemas/json/.

    python3 examples/python/threadx_client.py --data-dir ./data \
        --symbol BTCUSDT --start 2024-01-01 --end 2024-01-03 --interval 1h

prints one JSON object per line: the handshake, the registry, the ingest's progress and result,
and a chart-sized read. Use `ThreadxClient` from your own scripts the same way.
"""

import argparse
import itertools
import json
import os
import socket
import subprocess
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CLI = os.path.normpath(os.path.join(HERE, "..", "..", "dist", "cli.js"))


class ResponseError(Exception):
    """An error answer of the daemon: `code` is one of the protocol's error codes."""

    def __init__(self, error):
        super().__init__(error.get("message", "error"))
        self.code = error.get("code")
        self.data = error.get("data")


class ThreadxClient:
    """One connection to the daemon. Requests are sent one at a time (notifications that arrive
    meanwhile, such as $/progress, go to `on_notification`)."""

    def __init__(self, reader, writer, process=None):
        self._reader = reader
        self._writer = writer
        self._process = process
        self._ids = itertools.count(1)
        self._tokens = itertools.count(1)
        self._lock = threading.Lock()
        self.on_notification = lambda method, params: None

    # -- connecting ---------------------------------------------------------------------------

    @classmethod
    def connect(cls, data_dir, cli=DEFAULT_CLI, node="node"):
        """Joins the daemon already serving `data_dir`, or starts one on stdio."""
        info = read_discovery(data_dir)
        endpoint = info and info.get("endpoint")
        if endpoint and endpoint.get("kind") == "socket" and hasattr(socket, "AF_UNIX"):
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(endpoint["path"])
                f = s.makefile("rwb", buffering=0)
                return cls(f, f)
            except OSError:
                pass  # A stale discovery file: start our own.
        return cls.spawn(data_dir, cli, node)

    @classmethod
    def spawn(cls, data_dir, cli=DEFAULT_CLI, node="node"):
        process = subprocess.Popen(
            [node, cli, "serve", "--stdio", "--data-dir", data_dir],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=sys.stderr,
        )
        return cls(process.stdout, process.stdin, process)

    # -- framing ------------------------------------------------------------------------------

    def _send(self, message):
        body = json.dumps(message, separators=(",", ":")).encode("utf-8")
        with self._lock:
            self._writer.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
            self._writer.flush()

    def _read(self):
        length = None
        while True:
            line = self._reader.readline()
            if not line:
                raise EOFError("the daemon closed the connection")
            line = line.rstrip(b"\r\n")
            if not line:
                break
            name, _, value = line.decode("latin-1").partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        if length is None:
            raise ValueError("a message without Content-Length")
        body = b""
        while len(body) < length:
            chunk = self._reader.read(length - len(body))
            if not chunk:
                raise EOFError("the daemon closed the connection mid-message")
            body += chunk
        return json.loads(body.decode("utf-8"))

    # -- requests -----------------------------------------------------------------------------

    def request(self, method, params=None, on_progress=None):
        """Sends a request and returns its result; raises ResponseError on an error answer."""
        request_id = next(self._ids)
        message = {"jsonrpc": "2.0", "id": request_id, "method": method}
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
                if answer["method"] == "$/progress" and answer["params"]["token"] == token:
                    on_progress(answer["params"]["value"])
                else:
                    self.on_notification(answer["method"], answer.get("params"))
                continue
            if answer.get("id") != request_id:
                continue
            if "error" in answer:
                raise ResponseError(answer["error"])
            return answer.get("result")

    def notify(self, method, params=None):
        message = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        self._send(message)

    def initialize(self, name="threadx-python-example"):
        return self.request(
            "initialize",
            {"processId": os.getpid(), "clientInfo": {"name": name}, "protocolVersion": "1.0"},
        )

    def close(self):
        """LSP's polite stop for a daemon we started; a joined daemon is only disconnected."""
        if self._process is not None:
            try:
                self.request("shutdown")
                self.notify("exit")
            except (EOFError, BrokenPipeError, ResponseError):
                pass
            self._process.stdin.close()
            self._process.wait(timeout=10)
        else:
            self._writer.close()


def read_discovery(data_dir):
    try:
        with open(os.path.join(data_dir, ".threadx-daemon.json"), encoding="utf-8") as f:
            info = json.load(f)
        os.kill(int(info["pid"]), 0)  # Raises when the daemon is gone.
        return info
    except (OSError, ValueError, KeyError):
        return None


def emit(kind, value):
    print(json.dumps({"kind": kind, "value": value}), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--cli", default=DEFAULT_CLI)
    ap.add_argument("--symbol", default="BTCUSDC")
    ap.add_argument("--interval", default="1h")
    ap.add_argument("--start")
    ap.add_argument("--end")
    ap.add_argument("--source", default="auto")
    ap.add_argument("--max-points", type=int, default=500)
    args = ap.parse_args()

    client = ThreadxClient.connect(os.path.abspath(args.data_dir), cli=args.cli)
    try:
        init = client.initialize()
        emit("initialize", {"protocolVersion": init["protocolVersion"], "dataDir": init["dataDir"]})
        emit("registry", client.request("registry/list", {})["datasets"])
        if args.start:
            params = {
                "symbols": [args.symbol],
                "intervals": [args.interval],
                "start": args.start,
                "source": args.source,
            }
            if args.end:
                params["end"] = args.end
            result = client.request(
                "ingest/run", params, on_progress=lambda p: emit("progress", p)
            )
            emit("ingest", result)
        try:
            data = client.request(
                "data/read",
                {"symbol": args.symbol, "interval": "1m", "maxPoints": args.max_points},
            )
            cols = data["columns"]
            emit(
                "read",
                {
                    "interval": data["interval"],
                    "length": data["length"],
                    "first": cols["openTime"][0] if cols["openTime"] else None,
                    "lastClose": cols["close"][-1] if cols["close"] else None,
                },
            )
        except ResponseError as e:
            emit("error", {"code": e.code, "message": str(e)})
    finally:
        client.close()


if __name__ == "__main__":
    main()
