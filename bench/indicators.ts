/**
 * Indicator benchmark: our engine against the TA-Lib C library (through the `talib` node
 * binding), `technicalindicators` and `trading-signals`, on a seeded synthetic 1m series of ten
 * years (5,259,600 rows). Reports the median of several runs, the ratio to TA-Lib and the largest
 * relative deviation from TA-Lib of each library (on the rows where both are defined).
 *
 * The pure-JS peers are slow (technicalindicators takes ~50 s per pass over the full size), so
 * they are measured on the first `slowRows` rows and their full-size time is extrapolated per row;
 * the table marks those figures with '*'.
 *
 * Run standalone: `node --import tsx bench/indicators.ts [rows] [runs] [slowRows]`.
 * The peers live in bench/node_modules (`cd bench && npm install`), never in the product.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pathToFileURL } from 'node:url';
import { type Ohlc, syntheticOhlc } from '../test/helpers/synth.ts';
import { performance } from 'node:perf_hooks';
import {
  atr,
  bbands,
  ema,
  macd,
  rsi,
  sma,
  type IndicatorName,
} from '../daemon/engine/indicators.ts';

/** Ten years of one-minute candles. */
export const TEN_YEARS_1M = 5_259_600;

export interface Row {
  indicator: IndicatorName;
  params: string;
  library:
    | 'ours'
    | 'ours (new buffers)'
    | 'TA-Lib C'
    | 'talib (node binding)'
    | 'technicalindicators'
    | 'trading-signals';
  /** Rows the library was timed on. */
  rows: number;
  /** Median wall time over the runs, on `rows` rows. */
  medianMs: number;
  /** Fastest run: steadier than the median on a machine shared with other work. */
  minMs: number;
  nsPerRow: number;
  /** Time for the full series: measured when rows = full size, else extrapolated per row. */
  fullMs: number;
  extrapolated: boolean;
  /** fullMs / TA-Lib C's time for the same indicator (the binding's when C could not be built). */
  ratioToTalib: number;
  /** Largest relative deviation from TA-Lib where both are defined (null for TA-Lib itself). */
  maxRelDev: number | null;
  /** Index of the row where the deviation is largest. */
  maxRelDevAt: number | null;
}

// ---------------------------------------------------------------------------------------------

interface Case {
  indicator: IndicatorName;
  params: string;
  /** Named outputs, aligned to the input, NaN where undefined. */
  ours: (d: Ohlc, out?: Float64Array[]) => Float64Array[];
  talib: (d: PlainOhlc, n: number) => Float64Array[];
  ti: (d: PlainOhlc, n: number) => Float64Array[];
  ts: (d: PlainOhlc, n: number) => Float64Array[];
}

interface PlainOhlc {
  high: number[];
  low: number[];
  close: number[];
}

interface TalibResult {
  begIndex: number;
  nbElement: number;
  result: Record<string, number[]>;
}
interface Talib {
  execute(opts: Record<string, unknown>): TalibResult;
}
type TiCalc<T> = { calculate(input: Record<string, unknown>): T[] };
interface TechnicalIndicators {
  SMA: TiCalc<number>;
  EMA: TiCalc<number>;
  RSI: TiCalc<number>;
  MACD: TiCalc<{ MACD?: number; signal?: number; histogram?: number }>;
  BollingerBands: TiCalc<{ middle: number; upper: number; lower: number }>;
  ATR: TiCalc<number>;
}
interface TsIndicator<R, I = number> {
  add(input: I): R | null;
}
type TsCtor<R, I = number> = new (...args: never[]) => TsIndicator<R, I>;
interface TradingSignals {
  SMA: TsCtor<number>;
  EMA: TsCtor<number>;
  RSI: TsCtor<number>;
  MACD: TsCtor<{ macd: number; signal: number; histogram: number }>;
  BollingerBands: TsCtor<{ middle: number; upper: number; lower: number }>;
  ATR: TsCtor<number, { high: number; low: number; close: number }>;
}

interface Peers {
  talib: Talib;
  ti: TechnicalIndicators;
  ts: TradingSignals;
}

async function loadPeers(): Promise<Peers> {
  const require = createRequire(new URL('./package.json', import.meta.url));
  try {
    const talib = require('talib') as Talib;
    const ti = require('technicalindicators') as TechnicalIndicators;
    // trading-signals is ESM-only: resolve it from bench/ and import it by URL.
    const ts = (await import(
      pathToFileURL(require.resolve('trading-signals')).href
    )) as TradingSignals;
    return { talib, ti, ts };
  } catch (err) {
    throw new Error(
      `benchmark peers missing: run \`cd bench && npm install\` (${(err as Error).message})`,
    );
  }
}

function nanArray(n: number): Float64Array {
  return new Float64Array(n).fill(NaN);
}

/** Places TA-Lib's compact output at its begIndex in a NaN-padded array. */
function fromTalib(r: TalibResult, key: string, n: number): Float64Array {
  const out = nanArray(n);
  const v = r.result[key];
  for (let i = 0; i < r.nbElement; i++) out[r.begIndex + i] = v[i];
  return out;
}

/** technicalindicators returns only the defined values, aligned to the end of the input. */
function fromTail<T>(values: T[], n: number, pick: (v: T) => number | undefined): Float64Array {
  const out = nanArray(n);
  const off = n - values.length;
  for (let i = 0; i < values.length; i++) {
    const x = pick(values[i]);
    if (x !== undefined) out[off + i] = x;
  }
  return out;
}

function streamed<R, I>(
  ind: TsIndicator<R, I>,
  inputs: (i: number) => I,
  n: number,
  picks: ((r: R) => number)[],
  firstDefined = 0,
): Float64Array[] {
  const outs = picks.map(() => nanArray(n));
  for (let i = 0; i < n; i++) {
    const r = ind.add(inputs(i));
    if (r !== null && i >= firstDefined) {
      for (let j = 0; j < picks.length; j++) outs[j][i] = picks[j](r);
    }
  }
  return outs;
}

function cases(p: Peers): Case[] {
  const run = (name: string, d: PlainOhlc, n: number, opts: Record<string, unknown>) =>
    p.talib.execute({ name, startIdx: 0, endIdx: n - 1, ...opts });
  const prefix = (a: number[], n: number): number[] => (n === a.length ? a : a.slice(0, n));
  return [
    {
      indicator: 'sma',
      params: '20',
      ours: (d, o) => [sma(d.close, 20, o?.[0])],
      talib: (d, n) => [
        fromTalib(run('SMA', d, n, { inReal: d.close, optInTimePeriod: 20 }), 'outReal', n),
      ],
      ti: (d, n) => [
        fromTail(p.ti.SMA.calculate({ period: 20, values: prefix(d.close, n) }), n, (v) => v),
      ],
      ts: (d, n) => streamed(new p.ts.SMA(20 as never), (i) => d.close[i], n, [(r) => r]),
    },
    {
      indicator: 'ema',
      params: '20',
      ours: (d, o) => [ema(d.close, 20, o?.[0])],
      talib: (d, n) => [
        fromTalib(run('EMA', d, n, { inReal: d.close, optInTimePeriod: 20 }), 'outReal', n),
      ],
      ti: (d, n) => [
        fromTail(p.ti.EMA.calculate({ period: 20, values: prefix(d.close, n) }), n, (v) => v),
      ],
      // trading-signals' EMA returns a value from the first input; it calls it stable at 20.
      ts: (d, n) => streamed(new p.ts.EMA(20 as never), (i) => d.close[i], n, [(r) => r], 19),
    },
    {
      indicator: 'rsi',
      params: '14',
      ours: (d, o) => [rsi(d.close, 14, o?.[0])],
      talib: (d, n) => [
        fromTalib(run('RSI', d, n, { inReal: d.close, optInTimePeriod: 14 }), 'outReal', n),
      ],
      ti: (d, n) => [
        fromTail(p.ti.RSI.calculate({ period: 14, values: prefix(d.close, n) }), n, (v) => v),
      ],
      ts: (d, n) => streamed(new p.ts.RSI(14 as never), (i) => d.close[i], n, [(r) => r]),
    },
    {
      indicator: 'macd',
      params: '12/26/9',
      ours: (d, o) => {
        const m = macd(d.close, 12, 26, 9, o && { macd: o[0], signal: o[1], hist: o[2] });
        return [m.macd, m.signal, m.hist];
      },
      talib: (d, n) => {
        const r = run('MACD', d, n, {
          inReal: d.close,
          optInFastPeriod: 12,
          optInSlowPeriod: 26,
          optInSignalPeriod: 9,
        });
        return [
          fromTalib(r, 'outMACD', n),
          fromTalib(r, 'outMACDSignal', n),
          fromTalib(r, 'outMACDHist', n),
        ];
      },
      ti: (d, n) => {
        const r = p.ti.MACD.calculate({
          values: prefix(d.close, n),
          fastPeriod: 12,
          slowPeriod: 26,
          signalPeriod: 9,
          SimpleMAOscillator: false,
          SimpleMASignal: false,
        });
        // Keep the MACD line only where the signal is defined, as TA-Lib does.
        const defined = (v: { signal?: number }) => v.signal !== undefined;
        return [
          fromTail(r, n, (v) => (defined(v) ? v.MACD : undefined)),
          fromTail(r, n, (v) => v.signal),
          fromTail(r, n, (v) => (defined(v) ? v.histogram : undefined)),
        ];
      },
      ts: (d, n) =>
        streamed(
          new p.ts.MACD(
            new p.ts.EMA(12 as never) as never,
            new p.ts.EMA(26 as never) as never,
            new p.ts.EMA(9 as never) as never,
          ),
          (i) => d.close[i],
          n,
          [(r) => r.macd, (r) => r.signal, (r) => r.histogram],
          33,
        ),
    },
    {
      indicator: 'bbands',
      params: '20/2',
      ours: (d, o) => {
        const b = bbands(d.close, 20, 2, o && { middle: o[0], upper: o[1], lower: o[2] });
        return [b.middle, b.upper, b.lower];
      },
      talib: (d, n) => {
        const r = run('BBANDS', d, n, {
          inReal: d.close,
          optInTimePeriod: 20,
          optInNbDevUp: 2,
          optInNbDevDn: 2,
          optInMAType: 0,
        });
        return [
          fromTalib(r, 'outRealMiddleBand', n),
          fromTalib(r, 'outRealUpperBand', n),
          fromTalib(r, 'outRealLowerBand', n),
        ];
      },
      ti: (d, n) => {
        const r = p.ti.BollingerBands.calculate({
          period: 20,
          stdDev: 2,
          values: prefix(d.close, n),
        });
        return [
          fromTail(r, n, (v) => v.middle),
          fromTail(r, n, (v) => v.upper),
          fromTail(r, n, (v) => v.lower),
        ];
      },
      ts: (d, n) =>
        streamed(new p.ts.BollingerBands(20 as never, 2 as never), (i) => d.close[i], n, [
          (r) => r.middle,
          (r) => r.upper,
          (r) => r.lower,
        ]),
    },
    {
      indicator: 'atr',
      params: '14',
      ours: (d, o) => [atr(d.high, d.low, d.close, 14, o?.[0])],
      talib: (d, n) => [
        fromTalib(
          run('ATR', d, n, { high: d.high, low: d.low, close: d.close, optInTimePeriod: 14 }),
          'outReal',
          n,
        ),
      ],
      ti: (d, n) => [
        fromTail(
          p.ti.ATR.calculate({
            period: 14,
            high: prefix(d.high, n),
            low: prefix(d.low, n),
            close: prefix(d.close, n),
          }),
          n,
          (v) => v,
        ),
      ],
      ts: (d, n) =>
        streamed(
          new p.ts.ATR(14 as never),
          (i) => ({ high: d.high[i], low: d.low[i], close: d.close[i] }),
          n,
          [(r) => r],
        ),
    },
  ];
}

/**
 * Largest relative deviation of `got` from `ref` over the rows where both are defined. Values
 * smaller than 1e-8 of the reference's magnitude (a MACD histogram crossing zero) are compared
 * against that floor instead of themselves, so a crossing does not read as an infinite error.
 */
export function maxRelativeDeviation(
  got: readonly Float64Array[],
  ref: readonly Float64Array[],
  upTo: number,
): { dev: number; at: number | null } {
  let dev = 0;
  let at: number | null = null;
  let overlap = 0;
  for (let k = 0; k < ref.length; k++) {
    const g = got[k];
    const r = ref[k];
    let scale = 0;
    for (let i = 0; i < upTo; i++) if (Math.abs(r[i]) > scale) scale = Math.abs(r[i]);
    const floor = scale * 1e-8;
    for (let i = 0; i < upTo; i++) {
      if (Number.isNaN(g[i]) || Number.isNaN(r[i])) continue;
      overlap++;
      const e = Math.abs(g[i] - r[i]) / Math.max(Math.abs(r[i]), floor);
      if (e > dev) {
        dev = e;
        at = i;
      }
    }
  }
  return overlap === 0 ? { dev: NaN, at: null } : { dev, at };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function time<T>(runs: number, f: () => T): { ms: number; min: number; last: T } {
  // Warm-up: two calls, because V8 first optimizes a long loop on stack (OSR) and may deoptimize
  // once at its end; the third call runs the steady-state code.
  f();
  f();
  const times: number[] = [];
  let last: T = undefined as T;
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    last = f();
    times.push(performance.now() - t0);
  }
  return { ms: median(times), min: Math.min(...times), last };
}

/**
 * The same six functions timed in C against the TA-Lib static libraries that talib@1.1.6 built
 * in bench/node_modules (gcc -O2, preallocated output buffers, median of `runs` after one warm-up).
 * This is the figure to compare with: the node binding adds marshalling of JS arrays in and out.
 * Returns undefined when no C compiler or no built library is available.
 */
function talibC(
  d: Ohlc,
  runs: number,
): Map<IndicatorName, { ms: number; min: number }> | undefined {
  const require = createRequire(new URL('./package.json', import.meta.url));
  let lib: string;
  try {
    lib = join(
      fileURLToPath(new URL('.', pathToFileURL(require.resolve('talib/package.json')))),
      'src/lib',
    );
  } catch {
    return undefined;
  }
  const dir = mkdtempSync(join(tmpdir(), 'threadx-talib-c-'));
  try {
    writeFileSync(join(dir, 'bench.c'), C_HARNESS);
    const n = d.close.length;
    const bytes = Buffer.concat(
      [d.high, d.low, d.close].map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength)),
    );
    writeFileSync(join(dir, 'data.bin'), bytes);
    const libs = [
      'libta_libc_csr.a',
      'libta_func_csr.a',
      'libta_abstract_csr.a',
      'libta_common_csr.a',
    ];
    execFileSync(
      'cc',
      [
        '-O2',
        `-I${join(lib, 'include')}`,
        join(dir, 'bench.c'),
        '-o',
        join(dir, 'bench'),
        ...libs.map((l) => join(lib, 'lib', l)),
        '-lm',
      ],
      { stdio: 'pipe' },
    );
    const text = execFileSync(
      join(dir, 'bench'),
      [join(dir, 'data.bin'), String(n), String(runs)],
      {
        encoding: 'utf8',
      },
    );
    const out = new Map<IndicatorName, { ms: number; min: number }>();
    for (const line of text.trim().split('\n')) {
      const [name, ms, min] = line.split(' ');
      out.set(name as IndicatorName, { ms: Number(ms), min: Number(min) });
    }
    return out;
  } catch {
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const C_HARNESS = `
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "ta_libc.h"
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e3 + t.tv_nsec / 1e6; }
static int cmp(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return x < y ? -1 : x > y; }
int main(int argc, char **argv) {
  (void)argc;
  int n = atoi(argv[2]), runs = atoi(argv[3]), b, m;
  double *h = malloc(8.0 * n), *l = malloc(8.0 * n), *c = malloc(8.0 * n);
  double *o1 = malloc(8.0 * n), *o2 = malloc(8.0 * n), *o3 = malloc(8.0 * n), *ts = malloc(8.0 * runs);
  FILE *f = fopen(argv[1], "rb");
  if (!f || fread(h, 8, n, f) != (size_t)n || fread(l, 8, n, f) != (size_t)n || fread(c, 8, n, f) != (size_t)n) return 1;
  fclose(f);
  TA_Initialize();
  const char *names[] = {"sma", "ema", "rsi", "macd", "bbands", "atr"};
  for (int k = 0; k < 6; k++) {
    for (int r = -1; r < runs; r++) {
      double t0 = now();
      switch (k) {
        case 0: TA_SMA(0, n - 1, c, 20, &b, &m, o1); break;
        case 1: TA_EMA(0, n - 1, c, 20, &b, &m, o1); break;
        case 2: TA_RSI(0, n - 1, c, 14, &b, &m, o1); break;
        case 3: TA_MACD(0, n - 1, c, 12, 26, 9, &b, &m, o1, o2, o3); break;
        case 4: TA_BBANDS(0, n - 1, c, 20, 2, 2, TA_MAType_SMA, &b, &m, o1, o2, o3); break;
        case 5: TA_ATR(0, n - 1, h, l, c, 14, &b, &m, o1); break;
      }
      if (r >= 0) ts[r] = now() - t0;
    }
    qsort(ts, runs, sizeof(double), cmp);
    printf("%s %.3f %.3f\\n", names[k], runs % 2 ? ts[runs / 2] : (ts[runs / 2 - 1] + ts[runs / 2]) / 2, ts[0]);
  }
  return 0;
}
`;

export interface BenchOptions {
  /** Rows for ours and TA-Lib (default ten years of 1m). */
  rows: number;
  /** Timed runs per library and indicator; the median is reported. */
  runs: number;
  /** Rows for the pure-JS peers (default min(rows, 500k)); their full-size time is extrapolated. */
  slowRows?: number;
  /** Runs for the pure-JS peers (default min(runs, 3)). */
  slowRuns?: number;
  /** Only these indicators (default all six). */
  only?: readonly IndicatorName[];
}

export async function benchIndicators(opts: BenchOptions): Promise<Row[]> {
  const rows = opts.rows;
  const slowRows = Math.min(opts.slowRows ?? 500_000, rows);
  const slowRuns = opts.slowRuns ?? Math.min(opts.runs, 3);
  // The peers are loaded after our timings: merely loading technicalindicators makes V8 run our
  // typed-array loops measurably slower in the same process (~2x for SMA), and the daemon never
  // loads it. `peers` is filled in before any peer closure runs.
  const peers = {} as Peers;
  const data = syntheticOhlc(rows);
  // TA-Lib's binding and the pure-JS peers take plain arrays (the binding silently misreads
  // typed arrays); the conversion happens once, outside the timings.
  const plain: PlainOhlc = {
    high: Array.from(data.high),
    low: Array.from(data.low),
    close: Array.from(data.close),
  };
  const bufs = [new Float64Array(rows), new Float64Array(rows), new Float64Array(rows)];
  const out: Row[] = [];
  const selected = cases(peers).filter((c) => !opts.only || opts.only.includes(c.indicator));
  // Our timings first, before the binding and the pure-JS peers leave garbage for the GC to
  // collect in the middle of someone else's timing.
  const oursTimes = selected.map((c) => {
    const reused = time(opts.runs, () => c.ours(data, bufs));
    const fresh = time(opts.runs, () => c.ours(data));
    return { reused: { ...reused, last: [] }, fresh: { ...fresh, last: [] } };
  });
  const cMs = talibC(data, opts.runs);
  Object.assign(peers, await loadPeers());
  for (const [ci, c] of selected.entries()) {
    const tl = time(opts.runs, () => c.talib(plain, rows));
    const ref = tl.last;
    const last = c.ours(data);
    const ours = { ...oursTimes[ci].reused, last };
    const oursNew = { ...oursTimes[ci].fresh, last };
    const base = cMs?.get(c.indicator)?.ms ?? tl.ms;
    const ti = time(slowRuns, () => c.ti(plain, slowRows));
    const ts = time(slowRuns, () => c.ts(plain, slowRows));
    const row = (
      library: Row['library'],
      measured: { ms: number; min: number; last: Float64Array[] },
      n: number,
    ): Row => {
      const fullMs = (measured.ms * rows) / n;
      const d = library.startsWith('talib') ? null : maxRelativeDeviation(measured.last, ref, n);
      return {
        indicator: c.indicator,
        params: c.params,
        library,
        rows: n,
        medianMs: measured.ms,
        minMs: measured.min,
        nsPerRow: (measured.ms * 1e6) / n,
        fullMs,
        extrapolated: n !== rows,
        ratioToTalib: fullMs / base,
        maxRelDev: d === null ? null : d.dev,
        maxRelDevAt: d === null ? null : d.at,
      };
    };
    const cRow = cMs?.get(c.indicator);
    if (cRow !== undefined) {
      out.push({
        indicator: c.indicator,
        params: c.params,
        library: 'TA-Lib C',
        rows,
        medianMs: cRow.ms,
        minMs: cRow.min,
        nsPerRow: (cRow.ms * 1e6) / rows,
        fullMs: cRow.ms,
        extrapolated: false,
        ratioToTalib: 1,
        maxRelDev: null,
        maxRelDevAt: null,
      });
    }
    out.push(
      row('ours', ours, rows),
      row('ours (new buffers)', oursNew, rows),
      row('talib (node binding)', tl, rows),
      row('technicalindicators', ti, slowRows),
      row('trading-signals', ts, slowRows),
    );
  }
  return out;
}

/** Renders the rows as a fixed-width table; '*' marks per-row extrapolated full-size times. */
export function formatIndicatorTable(rows: readonly Row[], fullRows: number): string {
  const head = [
    'indicator',
    'library',
    'rows timed',
    'median ms',
    'min ms',
    `ms @ ${fullRows}`,
    'x TA-Lib',
    'max rel dev vs TA-Lib',
  ];
  const body = rows.map((r) => [
    `${r.indicator}(${r.params})`,
    r.library,
    String(r.rows),
    r.medianMs.toFixed(1),
    r.minMs.toFixed(1),
    `${r.fullMs.toFixed(1)}${r.extrapolated ? '*' : ''}`,
    r.ratioToTalib.toFixed(2),
    r.maxRelDev === null ? '(reference)' : r.maxRelDev.toExponential(2),
  ]);
  const widths = head.map((h, j) => Math.max(h.length, ...body.map((b) => b[j].length)));
  const line = (cells: string[]) => cells.map((s, j) => s.padEnd(widths[j])).join('  ');
  return [
    line(head),
    line(widths.map((w) => '-'.repeat(w))),
    ...body.map(line),
    '',
    `* measured on the first rows shown and extrapolated per row to ${fullRows} rows.`,
    'x TA-Lib: full-size time over TA-Lib C (compiled from the talib package, preallocated outputs).',
    "'ours' writes into reused output buffers (as the C harness does); 'ours (new buffers)' allocates.",
    "'talib (node binding)' adds converting JS arrays into C and the results back into JS arrays.",
  ].join('\n');
}

const isMain =
  process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  const rows = Number(process.argv[2] ?? TEN_YEARS_1M);
  const runs = Number(process.argv[3] ?? 5);
  const slowRows = Number(process.argv[4] ?? 500_000);
  const result = await benchIndicators({ rows, runs, slowRows });
  console.log(
    `indicators on ${rows} synthetic 1m rows; median of ${runs} runs (pure-JS peers: ${Math.min(3, runs)} runs on ${Math.min(slowRows, rows)} rows); node ${process.version}`,
  );
  console.log(formatIndicatorTable(result, rows));
}
