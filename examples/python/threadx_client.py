#!/usr/bin/env python3
"""A walk through the daemon with the ThreadX Python client (clients/python, standard library only).

It joins the daemon that serves a data directory (through <data>/.threadx-daemon.json) or starts
one (`node dist/cli.js serve --stdio`), then prints one JSON object per line: the handshake, the
registry, an ingest's progress and result (with --start), and a chart-sized read.

    python3 examples/python/threadx_client.py --data-dir ./data \
        --symbol BTCUSDT --start 2024-01-01 --end 2024-01-03 --interval 1h

`pip install ./clients/python` makes `threadx_client` importable anywhere; run from the repository,
this script finds it in clients/python/src.
"""

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
DEFAULT_CLI = os.path.join(ROOT, "dist", "cli.js")
try:
    from threadx_client import ResponseError, ThreadxClient
except ImportError:  # Not installed: the package beside this script.
    sys.path.insert(0, os.path.join(ROOT, "clients", "python", "src"))
    from threadx_client import ResponseError, ThreadxClient


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

    with ThreadxClient.connect(args.data_dir, cli=args.cli, name="threadx-python-example") as client:
        init = client.server_info
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
            result = client.request("ingest/run", params, on_progress=lambda p: emit("progress", p))
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


if __name__ == "__main__":
    main()
