/**
 * A synthetic registry of many datasets (item 6 of issue 16: 200,000 datasets, about 118 MB), for
 * the CLI's `list` and `verify` at scale. The files it names are absent: verify reports each one
 * missing, which exercises every per-file path without writing 200,000 Parquet files.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { INTERVALS } from '../../schemas/intervals.ts';

/** `n` distinct valid symbols: `AAAUSDT`, `AABUSDT`, ... */
function symbolName(i: number): string {
  let s = '';
  let x = i;
  for (let k = 0; k < 4; k++) {
    s = String.fromCharCode(65 + (x % 26)) + s;
    x = Math.floor(x / 26);
  }
  return `${s}USDT`;
}

/**
 * Writes `dir/registry.json` with `datasets` datasets (every interval of `datasets / 16`
 * symbols), each with one registered, verified file, the way a real bank's entries look (200,000
 * datasets: about 150 MB).
 */
export async function writeBigRegistry(dir: string, datasets: number): Promise<number> {
  const JAN = Date.UTC(2024, 0, 1);
  const reg: { version: 1; datasets: Record<string, unknown>; confirmedEmpty: object } = {
    version: 1,
    datasets: {},
    confirmedEmpty: {},
  };
  const symbols = Math.ceil(datasets / INTERVALS.length);
  let n = 0;
  for (let s = 0; s < symbols && n < datasets; s++) {
    const symbol = symbolName(s);
    for (const interval of INTERVALS) {
      if (n >= datasets) break;
      const id = `${symbol}/${interval}`;
      const file =
        interval === '1m'
          ? `processed/${symbol}/1m/2024-01.parquet`
          : `processed/${symbol}/${interval}.parquet`;
      reg.datasets[id] = {
        id,
        symbol,
        interval,
        kind: 'candles',
        files: [
          {
            path: file,
            sha256: 'ab'.repeat(32),
            bytes: 12_345,
            rows: 44_640,
            first: JAN,
            last: JAN + 44_639 * 60_000,
            gaps: [],
            filledCount: 0,
            writtenAt: JAN,
            verify: { at: JAN + 1, status: 'ok' },
          },
        ],
        rows: 44_640,
        first: JAN,
        last: JAN + 44_639 * 60_000,
        gaps: [],
        filledCount: 0,
        source: interval === '1m' ? ['BTCUSDT-1m-2024-01.zip'] : ['derived'],
        updated: JAN,
        ...(interval === '1m' ? {} : { sourceChecksum: 'cd'.repeat(32), pending: [] }),
      };
      n++;
    }
  }
  await fsp.mkdir(dir, { recursive: true });
  await fsp.writeFile(path.join(dir, 'registry.json'), JSON.stringify(reg, null, 1));
  return n;
}
