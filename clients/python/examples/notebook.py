# %% [markdown]
# # ThreadX candles in pandas and polars
# Run cell by cell in Jupyter or VS Code (`# %%` cells), or as a script:
# `python3 clients/python/examples/notebook.py --data-dir ./data`.
# pandas and polars are optional; each cell says so when its library is missing.

# %%
import argparse
import os

from threadx_client import ThreadxClient, to_pandas, to_polars

ap = argparse.ArgumentParser()
ap.add_argument("--data-dir", default="./data")
ap.add_argument("--cli", default=os.environ.get("THREADX_CLI", "threadx"))
ap.add_argument("--symbol", default="ETHUSDT")
ap.add_argument("--interval", default="1h")
args, _ = ap.parse_known_args()

tx = ThreadxClient.connect(args.data_dir, cli=args.cli)
print([d["id"] for d in tx.list_datasets()])
read = tx.read_candles(args.symbol, args.interval)
columns = read["columns"]
print(f"{read['length']} {read['interval']} candles of {read['symbol']}")

# %% pandas: a UTC DatetimeIndex, then a daily close
try:
    df = to_pandas(columns)
    print(df[["open", "high", "low", "close", "volume"]].tail())
    print(df["close"].resample("1D").last())
except ImportError as e:
    print(f"skipped: {e}")

# %% polars
try:
    pl_df = to_polars(columns)
    print(pl_df.select(["openTime", "close"]).tail())
except ImportError as e:
    print(f"skipped: {e}")

# %%
tx.close()
