"""The client against the real daemon (the repository's bundled `dist/cli.js`, or THREADX_CLI)
over a bank built from recorded Binance files."""

import os
import shutil
import subprocess
import tempfile
import unittest

from threadx_client import ResponseError, ThreadxClient, to_pandas

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
CLI = os.environ.get("THREADX_CLI", os.path.join(ROOT, "dist", "cli.js"))
NODE = os.environ.get("THREADX_NODE", "node")
ZIPS = [
    os.path.join(ROOT, "test", "fixtures", "binance", "klines", "hal9000cc", f"ETHUSDT-1m-2022-08-{d}.zip")
    for d in ("14", "15")
]


class ClientTest(unittest.TestCase):
    data: str
    tmp: str

    @classmethod
    def setUpClass(cls) -> None:
        if not os.path.exists(CLI):
            raise unittest.SkipTest(f"{CLI} is not built (npm run build)")
        cls.tmp = tempfile.mkdtemp(prefix="threadx-py-")
        cls.data = os.path.join(cls.tmp, "data")
        subprocess.run(
            [NODE, CLI, "import", *ZIPS, "--intervals", "1h", "--data-dir", cls.data],
            check=True,
            capture_output=True,
        )

    @classmethod
    def tearDownClass(cls) -> None:
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_reads_what_export_writes(self) -> None:
        with ThreadxClient.connect(self.data, cli=CLI, node=NODE) as tx:
            ids = [d["id"] for d in tx.list_datasets()]
            self.assertEqual(ids, ["ETHUSDT/1h", "ETHUSDT/1m"])
            read = tx.read_candles("ETHUSDT", "1h", start="2022-08-15")
            self.assertEqual(read["interval"], "1h")
            self.assertEqual(read["length"], 24)
            csv = os.path.join(self.tmp, "eth.csv")
            done = tx.export("ETHUSDT", "1h", csv, start="2022-08-15", overwrite=True)
            self.assertEqual(done["rows"], 24)
            with open(csv, encoding="utf-8") as f:
                rows = [line.split(",") for line in f.read().strip().split("\n")[1:]]
            self.assertEqual([float(r[4]) for r in rows], read["columns"]["close"])

            ind = tx.read_indicators("ETHUSDT", "1h", [{"name": "rsi"}], start="2022-08-15")
            self.assertEqual(ind["openTime"], read["columns"]["openTime"])
            self.assertEqual(ind["indicators"][0]["key"], "rsi-14")

    def test_errors_carry_the_reason_and_the_hint(self) -> None:
        with ThreadxClient.connect(self.data, cli=CLI, node=NODE) as tx:
            with self.assertRaises(ResponseError) as bad:
                tx.read_candles("ETH-USDT", "1h")
            self.assertEqual(bad.exception.code, -32602)
            self.assertEqual(bad.exception.reason, "INVALID_PARAMS")
            self.assertIn("invalid symbol", str(bad.exception))
            with self.assertRaises(ResponseError) as absent:
                tx.read_candles("BTCUSDT", "1h")
            self.assertEqual(absent.exception.code, -32002)

    def test_to_pandas_says_how_to_install_it_when_missing(self) -> None:
        try:
            import pandas  # noqa: F401
        except ImportError:
            with self.assertRaisesRegex(ImportError, "pip install pandas"):
                to_pandas({"openTime": [0.0]})  # type: ignore[typeddict-item]
        else:
            with ThreadxClient.connect(self.data, cli=CLI, node=NODE) as tx:
                frame = to_pandas(tx.read_candles("ETHUSDT", "1h")["columns"])
            self.assertEqual(len(frame), 48)


if __name__ == "__main__":
    unittest.main()
