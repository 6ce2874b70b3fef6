import { replayAssets } from '../paths.ts';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync, strFromU8, unzipSync } from 'fflate';
import { DAY_MS, MINUTE_MS } from '../../schemas/intervals.ts';
import { gaussian, hash2, hashString, mulberry32 } from './rng.ts';

/**
 * The 1m series the replay exchange serves: Binance's own archive files where the product ships
 * them, a deterministic synthetic random walk everywhere else.
 *
 * Recorded series (assets/replay/klines, see SOURCES.md there): the original data.binance.vision
 * spot 1m daily archives `<SYMBOL>-1m-<YYYY-MM-DD>.zip` (today ETHUSDT 2022-08-14 and 2022-08-15:
 * all 12 columns real, served byte for byte as Binance printed them); USD-M futures archives in
 * assets/replay/futures/um (BTCUSDT 2022-09-05/06), served for the series
 * `um:<SYMBOL>`.
 *
 * Synthetic series: a geometric random walk seeded by the symbol. Day-open log prices follow a
 * slowly mean-reverting walk; minutes inside a day follow a Brownian bridge between two day
 * anchors, so any day can be generated on its own (random access, no replay from 2017).
 */

/** One kline as Binance's JSON carries it: times and trade count as numbers, the rest strings. */
export type Kline = [
  openTime: number,
  open: string,
  high: string,
  low: string,
  close: string,
  volume: string,
  closeTime: number,
  quoteVolume: string,
  trades: number,
  takerBuyBase: string,
  takerBuyQuote: string,
  ignore: string,
];

/** What the replay knows about a symbol's history. */
export interface SeriesSpec {
  /** First minute that has a kline (ms). */
  listedAt: number;
  /** First minute with no more klines (symbol in BREAK / delisted), or undefined. */
  delistedAt?: number;
  /** Half-open [start, end) ranges where the exchange has no klines (outages, suspensions). */
  gaps?: Array<[number, number]>;
  /** Reference price of the synthetic walk (quote units). */
  basePrice: number;
  /** Daily volatility of the log price. */
  dailyVol: number;
  /** Typical quote volume per minute. */
  quotePerMinute: number;
  /** Share of minutes without trades. */
  zeroVolumeShare: number;
}

/** Where the walk starts: 2017-01-01. Nothing synthetic exists before it. */
const ORIGIN_DAY = Date.UTC(2017, 0, 1) / DAY_MS;

interface Recorded {
  /** Sorted open times. */
  times: number[];
  rows: Kline[];
  /** Inclusive coverage of the recording: minutes inside with no row are real gaps. */
  first: number;
  last: number;
}

const recordedCache = new Map<string, Recorded[]>();

function fmt(x: number): string {
  return x.toFixed(8);
}

function closeTimeOf(openTime: number): number {
  return openTime + MINUTE_MS - 1;
}

function loadArchiveZip(file: string): Recorded {
  const bytes = readFileSync(file);
  const text = file.endsWith('.gz')
    ? strFromU8(gunzipSync(bytes))
    : strFromU8(Object.values(unzipSync(bytes))[0]);
  const out: Kline[] = [];
  for (const line of text.split(/\r?\n/)) {
    // Futures archives open with a header row.
    if (line.length === 0 || !/^\d/.test(line)) continue;
    const f = line.split(',');
    out.push([
      Number(f[0]),
      f[1],
      f[2],
      f[3],
      f[4],
      f[5],
      Number(f[6]),
      f[7],
      Number(f[8]),
      f[9],
      f[10],
      f[11],
    ]);
  }
  return finish(out);
}

function finish(rows: Kline[]): Recorded {
  rows.sort((a, b) => a[0] - b[0]);
  return { times: rows.map((r) => r[0]), rows, first: rows[0][0], last: rows[rows.length - 1][0] };
}

/**
 * The archive files shipped for `symbol`: `<SYMBOL>-1m-<date>.zip` in assets/replay/klines, and
 * for a futures series `um:<SYMBOL>` its `.zip` or `.csv.gz` files in assets/replay/futures/um.
 */
function archiveFiles(symbol: string): string[] {
  const colon = symbol.indexOf(':');
  const dir =
    colon < 0
      ? path.join(replayAssets(), 'klines')
      : path.join(replayAssets(), 'futures', symbol.slice(0, colon));
  const name = symbol.slice(colon + 1);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.startsWith(`${name}-1m-`) && (f.endsWith('.zip') || f.endsWith('.csv.gz')))
    .sort()
    .map((f) => path.join(dir, f));
}

/** The shipped archives of a symbol (loaded once per process). */
function shippedSegments(symbol: string): Recorded[] {
  let segs = recordedCache.get(symbol);
  if (!segs) {
    segs = mergeSegments(archiveFiles(symbol).map(loadArchiveZip));
    recordedCache.set(symbol, segs);
  }
  return segs;
}

/** Adjacent recordings (daily archives) form one continuous recording. */
function mergeSegments(segs: Recorded[]): Recorded[] {
  segs.sort((a, b) => a.first - b.first);
  const merged: Recorded[] = [];
  for (const s of segs) {
    const prev = merged[merged.length - 1];
    if (prev && s.first === prev.last + MINUTE_MS) {
      prev.rows.push(...s.rows);
      prev.times.push(...s.times);
      prev.last = s.last;
    } else merged.push({ ...s, rows: [...s.rows], times: [...s.times] });
  }
  return merged;
}

function lowerBound(a: number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Generates and caches a symbol's klines, one UTC day at a time.
 */
export class SeriesStore {
  private readonly days = new Map<string, Kline[]>();
  private readonly anchors = new Map<string, number[]>();

  private readonly segments = new Map<string, Recorded[]>();

  constructor(
    private readonly specOf: (symbol: string) => SeriesSpec | undefined,
    private readonly seed = 0,
    private readonly maxCachedDays = 512,
    private readonly recorded: Record<string, Kline[]> = {},
  ) {}

  /** The recordings of a symbol: the shipped archives and any given to this store. */
  recordedSegments(symbol: string): Recorded[] {
    let segs = this.segments.get(symbol);
    if (!segs) {
      const given = this.recorded[symbol];
      segs = given?.length
        ? mergeSegments([...shippedSegments(symbol), finish([...given])])
        : shippedSegments(symbol);
      this.segments.set(symbol, segs);
    }
    return segs;
  }

  /** The log price at the open of `day` (days since the epoch). */
  private anchor(symbol: string, spec: SeriesSpec, day: number): number {
    let a = this.anchors.get(symbol);
    const base = Math.log(spec.basePrice);
    if (!a) {
      a = [base];
      this.anchors.set(symbol, a);
    }
    const idx = Math.max(0, day - ORIGIN_DAY);
    const s = hashString(symbol) ^ this.seed;
    while (a.length <= idx) {
      const i = a.length - 1;
      const rand = mulberry32(hash2(s, i + 1_000_000));
      const prev = a[i];
      a.push(prev + 0.003 * (base - prev) + spec.dailyVol * gaussian(rand));
    }
    return a[idx];
  }

  /** All klines of one UTC day (without faults, without the open-candle treatment). */
  day(symbol: string, dayIndex: number): Kline[] {
    const key = `${symbol}|${dayIndex}`;
    const hit = this.days.get(key);
    if (hit) {
      // Refresh the LRU position.
      this.days.delete(key);
      this.days.set(key, hit);
      return hit;
    }
    const spec = this.specOf(symbol);
    const rows = spec ? this.buildDay(symbol, spec, dayIndex) : [];
    this.days.set(key, rows);
    if (this.days.size > this.maxCachedDays) {
      const oldest = this.days.keys().next().value;
      if (oldest !== undefined) this.days.delete(oldest);
    }
    return rows;
  }

  private buildDay(symbol: string, spec: SeriesSpec, dayIndex: number): Kline[] {
    const dayStart = dayIndex * DAY_MS;
    const dayEnd = dayStart + DAY_MS;
    const lo = Math.max(dayStart, spec.listedAt);
    const hi = Math.min(dayEnd, spec.delistedAt ?? Infinity);
    if (lo >= hi) return [];
    const segs = this.recordedSegments(symbol).filter(
      (s) => s.first < dayEnd && s.last >= dayStart,
    );
    const synth =
      segs.length === 0 || segs.some((s) => s.first > dayStart || s.last < dayEnd - MINUTE_MS);
    const synthetic = synth ? this.synthDay(symbol, spec, dayIndex) : [];
    const out: Kline[] = [];
    let si = 0;
    for (let t = lo; t < hi; t += MINUTE_MS) {
      const seg = segs.find((s) => t >= s.first && t <= s.last);
      let row: Kline | undefined;
      if (seg) {
        const i = lowerBound(seg.times, t);
        row = seg.times[i] === t ? seg.rows[i] : undefined;
      } else {
        si = (t - dayStart) / MINUTE_MS;
        row = synthetic[si];
      }
      if (!row) continue;
      if (spec.gaps?.some(([a, b]) => t >= a && t < b)) continue;
      out.push(row);
    }
    return out;
  }

  private synthDay(symbol: string, spec: SeriesSpec, dayIndex: number): Kline[] {
    const a0 = this.anchor(symbol, spec, dayIndex);
    const a1 = this.anchor(symbol, spec, dayIndex + 1);
    const seed = hash2(hashString(symbol) ^ this.seed, dayIndex);
    const rand = mulberry32(seed);
    const n = 1440;
    const sigma = spec.dailyVol / Math.sqrt(n);
    const walk = new Float64Array(n + 1);
    for (let i = 1; i <= n; i++) walk[i] = walk[i - 1] + sigma * gaussian(rand);
    const drift = walk[n] - (a1 - a0);
    const tick = tickFor(spec.basePrice);
    const round = (p: number) => Math.max(tick, Math.round(p / tick) * tick);
    const out: Kline[] = new Array(n);
    const dayStart = dayIndex * DAY_MS;
    // The last traded price: a minute without trades is flat at it, as on Binance (never at the
    // walk's price, which would put a derived candle's close above its high).
    let last: number | undefined;
    for (let i = 0; i < n; i++) {
      const t = dayStart + i * MINUTE_MS;
      const lo = a0 + walk[i] - (i / n) * drift;
      // The day's last close is the next day's anchor exactly, so days join without a jump.
      const lc = i + 1 === n ? a1 : a0 + walk[i + 1] - ((i + 1) / n) * drift;
      const o = round(Math.exp(lo));
      const noTrade = rand() < spec.zeroVolumeShare;
      const u1 = rand();
      const u2 = rand();
      const u3 = rand();
      const u4 = rand();
      if (noTrade) {
        const s = fmt(last ?? o);
        out[i] = [t, s, s, s, s, fmt(0), closeTimeOf(t), fmt(0), 0, fmt(0), fmt(0), '0'];
        continue;
      }
      const c = round(Math.exp(lc));
      last = c;
      const h = Math.max(round(Math.max(o, c) * Math.exp(u1 * sigma * 0.8)), o, c);
      const l = Math.min(round(Math.min(o, c) * Math.exp(-u2 * sigma * 0.8)), o, c);
      const vwap = (o + h + l + c) / 4;
      const quote = spec.quotePerMinute * Math.exp(1.2 * (u3 - 0.5) * 2);
      const v = Math.max(1e-8, Math.round((quote / vwap) * 1e8) / 1e8);
      const trades = Math.max(1, Math.round(quote / (200 + 800 * u4)));
      const takerBase = Math.round(v * (0.3 + 0.4 * u4) * 1e8) / 1e8;
      out[i] = [
        t,
        fmt(o),
        fmt(h),
        fmt(l),
        fmt(c),
        fmt(v),
        closeTimeOf(t),
        fmt(v * vwap),
        trades,
        fmt(takerBase),
        fmt(takerBase * vwap),
        '0',
      ];
    }
    return out;
  }

  /**
   * Klines with open time in [from, to] (inclusive, ms), oldest first, at most `limit`;
   * `newest` selects the newest `limit` instead of the oldest.
   */
  range(
    symbol: string,
    from: number,
    to: number,
    limit: number,
    newest = false,
    skip?: (t: number) => boolean,
  ): Kline[] {
    const spec = this.specOf(symbol);
    if (!spec || to < from) return [];
    const lo = Math.max(from, spec.listedAt);
    const hi = Math.min(to, (spec.delistedAt ?? Infinity) - 1);
    if (lo > hi) return [];
    const firstDay = Math.floor(lo / DAY_MS);
    const lastDay = Math.floor(hi / DAY_MS);
    const out: Kline[] = [];
    if (!newest) {
      for (let d = firstDay; d <= lastDay && out.length < limit; d++) {
        for (const r of this.day(symbol, d)) {
          if (r[0] < lo || r[0] > hi || skip?.(r[0])) continue;
          out.push(r);
          if (out.length >= limit) break;
        }
      }
      return out;
    }
    for (let d = lastDay; d >= firstDay && out.length < limit; d--) {
      const rows = this.day(symbol, d);
      for (let i = rows.length - 1; i >= 0; i--) {
        const r = rows[i];
        if (r[0] < lo || r[0] > hi || skip?.(r[0])) continue;
        out.push(r);
        if (out.length >= limit) break;
      }
    }
    return out.reverse();
  }
}

/** A price tick of about six significant digits, as Binance's filters give. */
function tickFor(price: number): number {
  const e = Math.floor(Math.log10(price)) - 5;
  return Math.min(0.01, Math.max(1e-8, 10 ** e));
}

/**
 * The still-open kline at `now`: same prices as the full minute, volumes scaled by the share of
 * the minute already elapsed (so a client that stores it stores something visibly different).
 */
export function openCandle(row: Kline, now: number): Kline {
  const share = Math.min(1, Math.max(0, (now - row[0]) / MINUTE_MS));
  const scale = (s: string) => fmt(Number(s) * share);
  return [
    row[0],
    row[1],
    row[2],
    row[3],
    row[4],
    scale(row[5]),
    row[6],
    scale(row[7]),
    Math.floor(row[8] * share),
    scale(row[9]),
    scale(row[10]),
    row[11],
  ];
}
