/**
 * Resample and Parquet benchmarks: the engine vs nodejs-polars `groupByDynamic` and DuckDB SQL
 * on the same in-memory synthetic 1m candles (1 and 10 years), every engine aggregating the same
 * nine columns (OHLC, volume, quote volume, trades, taker base/quote), and Parquet write/read of the
 * 10-year table vs DuckDB's own COPY / read_parquet. Medians of several runs.
 *
 * Run alone: `node --import tsx bench/resample.ts [--runs 5]` (after `cd bench && npm install`).
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- nodejs-polars is loaded at run time from
   bench/node_modules, which CI does not install, so it has no static types here. */
import { createRequire } from 'node:module';
import { mkdtemp, readFile, rm, writeFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { resample, resampleAll } from '../daemon/engine/resample.ts';
import { encodeCandles, decodeCandles } from '../daemon/store/parquet.ts';
import { Bank } from '../daemon/store/bank.ts';
import { type Interval, DERIVED_INTERVALS } from '../schemas/intervals.ts';
import type { Candles } from '../schemas/candles.ts';
import { synth1m } from '../test/helpers/synth.ts';

const require = createRequire(new URL('./package.json', import.meta.url));

export interface ResampleRow {
  rows: number;
  task: string;
  oursMs: number;
  polarsMs: number | null;
  duckdbMs: number | null;
}

export interface ParquetRow {
  op: 'write' | 'read' | 'bank write' | 'bank read';
  rows: number;
  oursMs: number;
  duckdbMs: number;
  oursBytes?: number;
  duckdbBytes?: number;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function timeIt(runs: number, fn: () => unknown): Promise<number> {
  const ts: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    ts.push(performance.now() - t);
  }
  return median(ts);
}

/** Polars duration strings and DuckDB bucket expressions for each interval. */
const POLARS_EVERY: Record<Exclude<Interval, '1m'>, string> = {
  '3m': '3m',
  '5m': '5m',
  '15m': '15m',
  '30m': '30m',
  '1h': '1h',
  '2h': '2h',
  '3h': '3h',
  '4h': '4h',
  '6h': '6h',
  '8h': '8h',
  '12h': '12h',
  '1d': '1d',
  '3d': '3d',
  '1w': '1w',
  '1M': '1mo',
};
const DUCK_BUCKET: Record<Exclude<Interval, '1m'>, string> = {
  '3m': "time_bucket(INTERVAL '3 minutes', ts, TIMESTAMP '1970-01-01')",
  '5m': "time_bucket(INTERVAL '5 minutes', ts, TIMESTAMP '1970-01-01')",
  '15m': "time_bucket(INTERVAL '15 minutes', ts, TIMESTAMP '1970-01-01')",
  '30m': "time_bucket(INTERVAL '30 minutes', ts, TIMESTAMP '1970-01-01')",
  '1h': "time_bucket(INTERVAL '1 hour', ts, TIMESTAMP '1970-01-01')",
  '2h': "time_bucket(INTERVAL '2 hours', ts, TIMESTAMP '1970-01-01')",
  '3h': "time_bucket(INTERVAL '3 hours', ts, TIMESTAMP '1970-01-01')",
  '4h': "time_bucket(INTERVAL '4 hours', ts, TIMESTAMP '1970-01-01')",
  '6h': "time_bucket(INTERVAL '6 hours', ts, TIMESTAMP '1970-01-01')",
  '8h': "time_bucket(INTERVAL '8 hours', ts, TIMESTAMP '1970-01-01')",
  '12h': "time_bucket(INTERVAL '12 hours', ts, TIMESTAMP '1970-01-01')",
  '1d': "time_bucket(INTERVAL '1 day', ts, TIMESTAMP '1970-01-01')",
  '3d': "time_bucket(INTERVAL '3 days', ts, TIMESTAMP '1970-01-01')",
  '1w': "time_bucket(INTERVAL '1 week', ts, TIMESTAMP '1970-01-05')",
  '1M': "time_bucket(INTERVAL '1 month', ts)",
};

function polarsFrame(pl: any, c: Candles): any {
  const ts = pl.Series('ts', Array.from(c.openTime.subarray(0, c.length))).cast(pl.Datetime('ms'));
  return pl.DataFrame([
    ts,
    pl.Series('open', c.open.subarray(0, c.length)),
    pl.Series('high', c.high.subarray(0, c.length)),
    pl.Series('low', c.low.subarray(0, c.length)),
    pl.Series('close', c.close.subarray(0, c.length)),
    pl.Series('volume', c.volume.subarray(0, c.length)),
    pl.Series('quote_volume', c.quoteVolume.subarray(0, c.length)),
    pl.Series('trades', c.trades.subarray(0, c.length)),
    pl.Series('taker_buy_base', c.takerBuyBase.subarray(0, c.length)),
    pl.Series('taker_buy_quote', c.takerBuyQuote.subarray(0, c.length)),
  ]);
}

function polarsResample(pl: any, df: any, every: string): any {
  return df
    .groupByDynamic({ indexColumn: 'ts', every, startBy: every === '1w' ? 'monday' : 'window' })
    .agg(
      pl.col('open').first(),
      pl.col('high').max(),
      pl.col('low').min(),
      pl.col('close').last(),
      pl.col('volume').sum(),
      pl.col('quote_volume').sum(),
      pl.col('trades').sum(),
      pl.col('taker_buy_base').sum(),
      pl.col('taker_buy_quote').sum(),
    );
}

async function duckResample(
  con: DuckDBConnection,
  interval: Exclude<Interval, '1m'>,
): Promise<void> {
  await con.run(
    `CREATE OR REPLACE TEMP TABLE r AS SELECT ${DUCK_BUCKET[interval]} AS b, first(open ORDER BY ts) AS open, max(high) AS high, min(low) AS low, last(close ORDER BY ts) AS close, sum(volume) AS volume, sum(quote_volume) AS quote_volume, sum(trades) AS trades, sum(taker_buy_base) AS taker_buy_base, sum(taker_buy_quote) AS taker_buy_quote FROM t GROUP BY b ORDER BY b`,
  );
}

export async function benchResample(
  opts: { runs?: number; years?: number[]; log?: (l: string) => void } = {},
): Promise<{ resample: ResampleRow[]; parquet: ParquetRow[] }> {
  const runs = opts.runs ?? 5;
  const log = opts.log ?? (() => undefined);
  let pl: any = null;
  try {
    pl = require('nodejs-polars');
  } catch {
    log('nodejs-polars not installed in bench/ (cd bench && npm install): Polars column skipped');
  }
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  const dir = await mkdtemp(path.join(tmpdir(), 'threadx-bench-resample-'));
  const out: ResampleRow[] = [];
  const parquet: ParquetRow[] = [];
  try {
    for (const years of opts.years ?? [1, 10]) {
      const rows = Math.round(years * 365.25 * 1440);
      log(`generating ${rows} synthetic 1m candles (${years} year(s))`);
      const c = synth1m(Date.UTC(2016, 0, 1), rows, 42);
      const file = path.join(dir, `t${years}.parquet`);
      await writeFile(file, encodeCandles(c, { symbol: 'BENCH', interval: '1m' }));
      await con.run(
        `CREATE OR REPLACE TABLE t AS SELECT timestamp::TIMESTAMP AS ts, open, high, low, close, volume, quote_volume, trades, taker_buy_base, taker_buy_quote FROM read_parquet('${file}')`,
      );
      const df = pl ? polarsFrame(pl, c) : null;
      resample(c, '1h'); // warm-up
      for (const task of ['1h', '1d', 'all'] as const) {
        const ivs = task === 'all' ? DERIVED_INTERVALS : [task];
        log(`  resample ${years}y -> ${task}`);
        // The bank derives several timeframes at once with resampleAll (each from a finer one).
        const oursMs = await timeIt(runs, () =>
          task === 'all' ? resampleAll(c, ivs) : resample(c, ivs[0]),
        );
        const polarsMs = df
          ? await timeIt(runs, () => {
              for (const iv of ivs) polarsResample(pl, df, POLARS_EVERY[iv]);
            })
          : null;
        const duckdbMs = await timeIt(runs, async () => {
          for (const iv of ivs) await duckResample(con, iv);
        });
        out.push({
          rows,
          task: task === 'all' ? `all ${DERIVED_INTERVALS.length} derived` : task,
          oursMs,
          polarsMs,
          duckdbMs,
        });
      }
      if (years === Math.max(...(opts.years ?? [1, 10]))) {
        log('  parquet write/read');
        const ours = path.join(dir, 'ours.parquet');
        const duck = path.join(dir, 'duck.parquet');
        const wOurs = await timeIt(runs, async () =>
          writeFile(ours, encodeCandles(c, { symbol: 'BENCH', interval: '1m' })),
        );
        await con.run(`CREATE OR REPLACE TABLE full_t AS SELECT * FROM read_parquet('${file}')`);
        const wDuck = await timeIt(runs, () =>
          con.run(`COPY full_t TO '${duck}' (FORMAT parquet, COMPRESSION zstd)`),
        );
        parquet.push({
          op: 'write',
          rows,
          oursMs: wOurs,
          duckdbMs: wDuck,
          oursBytes: (await stat(ours)).size,
          duckdbBytes: (await stat(duck)).size,
        });
        const rOurs = await timeIt(runs, async () => decodeCandles(await readFile(ours)));
        const rDuck = await timeIt(runs, () =>
          con.run(`CREATE OR REPLACE TEMP TABLE rr AS SELECT * FROM read_parquet('${duck}')`),
        );
        parquet.push({ op: 'read', rows, oursMs: rOurs, duckdbMs: rDuck });
        // What the product does with the same history: monthly partitions, coded in parallel
        // on the codec pool, each written atomically (fsync + rename), with journal and registry.
        let n = 0;
        const bankWrite = await timeIt(runs, async () => {
          const bank = await Bank.open(path.join(dir, `bank${n++}`));
          await bank.write1m('BENCH', c, 'bench');
        });
        const bank = await Bank.open(path.join(dir, 'bank0'));
        const bankRead = await timeIt(runs, () => bank.read1m('BENCH'));
        parquet.push({ op: 'bank write', rows, oursMs: bankWrite, duckdbMs: wDuck });
        parquet.push({ op: 'bank read', rows, oursMs: bankRead, duckdbMs: rDuck });
      }
    }
  } finally {
    con.closeSync();
    await rm(dir, { recursive: true, force: true });
  }
  return { resample: out, parquet };
}

export function formatResample(r: { resample: ResampleRow[]; parquet: ParquetRow[] }): string {
  const f = (x: number | null): string => (x === null ? '-' : x.toFixed(1));
  const ratio = (a: number, b: number | null): string => (b === null ? '-' : (a / b).toFixed(2));
  const lines = [
    'rows      task               ours ms   polars ms   duckdb ms   ours/polars   ours/duckdb',
    ...r.resample.map(
      (x) =>
        `${String(x.rows).padEnd(9)} ${x.task.padEnd(17)} ${f(x.oursMs).padStart(8)} ${f(x.polarsMs).padStart(11)} ${f(x.duckdbMs).padStart(11)} ${ratio(x.oursMs, x.polarsMs).padStart(13)} ${ratio(x.oursMs, x.duckdbMs).padStart(13)}`,
    ),
    '',
    'parquet (N 1m rows; DuckDB: one file) ours ms   duckdb ms   ours/duckdb   ours MB   duckdb MB',
    ...r.parquet.map(
      (p) =>
        `${`${p.op}, ${p.rows}`.padEnd(37)} ${f(p.oursMs).padStart(8)} ${f(p.duckdbMs).padStart(11)} ${ratio(p.oursMs, p.duckdbMs).padStart(13)} ${p.oursBytes ? (p.oursBytes / 1e6).toFixed(1).padStart(9) : ''.padStart(9)} ${p.duckdbBytes ? (p.duckdbBytes / 1e6).toFixed(1).padStart(11) : ''}`,
    ),
  ];
  return lines.join('\n');
}

const isMain =
  process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 5;
  const r = await benchResample({ runs, log: (l) => console.error(l) });
  console.log(formatResample(r));
}
