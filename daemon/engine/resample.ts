import { setFilledRow } from './gaps.ts';
import {
  type Candles,
  type FloatColumn,
  allocCandles,
  FLOAT_COLUMNS,
} from '../../schemas/candles.ts';
import {
  type Interval,
  BUCKET_RULES,
  DERIVED_INTERVALS,
  bucketStart,
  nextBucketStart,
} from '../../schemas/intervals.ts';

/**
 * Resamples 1m candles (sorted by open time, unique) into `interval`, exactly as Binance builds
 * its own candles:
 * - buckets on the UTC epoch (1w from Monday 00:00 UTC, 1M on calendar months), labelled by
 *   their open time;
 * - a bucket with no 1m row does not exist; a bucket with missing minutes exists and is the
 *   aggregate of the minutes that do (Binance publishes it too, e.g. the 2023-03-24 outage);
 * - filled rows (`filled = 1`) never contribute to a bucket that has a real row; a bucket whose
 *   rows are all filled (a hole of up to the fill limit that covers it: the exchange confirmed
 *   it empty, or nobody traded) is itself a filled candle, flat at the price before the hole,
 *   volume 0, flagged `filled = 1` like the minutes under it. So every timeframe says the same
 *   thing about such a stretch: filled, never a gap at one timeframe and candles at another;
 * - open is the first, high the max, low the min and close the last price, volumes and trades
 *   are summed, **but open/high/low are taken over the minutes that traded** (volume or trades
 *   > 0) when the bucket has any: Binance's aggregation ignores no-trade minutes, whose flat
 *   price is only the previous close (ETH 2017-09-10 04:00, see ARCHITECTURE.md). When no minute
 *   in the bucket traded, the bucket is the plain aggregate of its flat minutes;
 * - volume sums are rounded to Binance's 8 decimal places (see `round8`).
 *
 * A single pass over the input with no per-row allocation. `out`, when given, must have room
 * for at least as many rows as the result (the input's length always suffices) and is reused.
 */
export function resample(src: Candles, interval: Interval, out?: Candles): Candles {
  const n = src.length;
  const dst = out ?? allocCandles(estimateBuckets(src, interval));
  const {
    openTime,
    open,
    high,
    low,
    close,
    volume,
    quoteVolume,
    trades,
    takerBuyBase,
    takerBuyQuote,
    filled,
  } = src;
  const rule = BUCKET_RULES[interval];
  const fixedMs = rule.kind === 'fixed' ? rule.ms : 0;
  const origin = rule.kind === 'fixed' ? rule.origin : 0;

  let k = 0;
  let i = 0;
  let prevT = -Infinity;
  // One bucket per outer iteration; the inner loop runs over its rows with the aggregates in
  // local variables, so the hot path does no typed-array stores and no calls.
  while (i < n) {
    if (filled[i] === 1) {
      // A bucket that opens with filled rows: real rows later in it make it a real candle (the
      // filled ones are skipped); with none, it is a filled candle over its filled rows.
      const ft = openTime[i];
      const fEnd =
        fixedMs > 0
          ? Math.floor((ft - origin) / fixedMs) * fixedMs + origin + fixedMs
          : nextBucketStart(bucketStart(ft, interval), interval);
      let j = i;
      while (j < n && openTime[j] < fEnd && filled[j] === 1) j++;
      if (j < n && openTime[j] < fEnd) {
        i = j;
      } else {
        if (ft <= prevT)
          throw new RangeError(`resample: open times must increase strictly (row ${i})`);
        let fh = high[i];
        let fl = low[i];
        for (let r = i + 1; r < j; r++) {
          if (high[r] > fh) fh = high[r];
          if (low[r] < fl) fl = low[r];
        }
        const t = fixedMs > 0 ? fEnd - fixedMs : bucketStart(ft, interval);
        setFilledRow(dst, k++, t, open[i], fh, fl, close[j - 1]);
        prevT = openTime[j - 1];
        i = j;
        continue;
      }
    }
    const t0 = openTime[i];
    if (t0 <= prevT) throw new RangeError(`resample: open times must increase strictly (row ${i})`);
    let start: number;
    let end: number;
    if (fixedMs > 0) {
      start = Math.floor((t0 - origin) / fixedMs) * fixedMs + origin;
      end = start + fixedMs;
    } else {
      start = bucketStart(t0, interval);
      end = nextBucketStart(start, interval);
    }
    const first = i;
    let c = close[i];
    let v = volume[i];
    let qv = quoteVolume[i];
    let tr = trades[i];
    let tb = takerBuyBase[i];
    let tq = takerBuyQuote[i];
    // Open/high/low over the minutes that traded; -1 while none has.
    let firstTraded = v > 0 || tr > 0 ? i : -1;
    let h = firstTraded >= 0 ? high[i] : -Infinity;
    let l = firstTraded >= 0 ? low[i] : Infinity;
    prevT = t0;
    i++;
    for (; i < n; i++) {
      const t = openTime[i];
      if (t >= end) break;
      if (filled[i] === 1) continue;
      if (t <= prevT)
        throw new RangeError(`resample: open times must increase strictly (row ${i})`);
      prevT = t;
      const vi = volume[i];
      const tri = trades[i];
      if (vi > 0 || tri > 0) {
        if (firstTraded < 0) firstTraded = i;
        const hi = high[i];
        const li = low[i];
        if (hi > h) h = hi;
        if (li < l) l = li;
      }
      c = close[i];
      v += vi;
      qv += quoteVolume[i];
      tr += tri;
      tb += takerBuyBase[i];
      tq += takerBuyQuote[i];
    }
    let o: number;
    if (firstTraded >= 0) {
      o = open[firstTraded];
    } else {
      // No minute traded: the plain aggregate of the flat minutes (a rare, second pass).
      o = open[first];
      for (let j = first; j < i; j++) {
        if (filled[j] === 1) continue;
        if (high[j] > h) h = high[j];
        if (low[j] < l) l = low[j];
      }
    }
    dst.openTime[k] = start;
    dst.open[k] = o;
    dst.high[k] = h;
    dst.low[k] = l;
    dst.close[k] = c;
    dst.volume[k] = round8(v);
    dst.quoteVolume[k] = round8(qv);
    dst.trades[k] = tr;
    dst.takerBuyBase[k] = round8(tb);
    dst.takerBuyQuote[k] = round8(tq);
    dst.filled[k] = 0;
    k++;
  }
  dst.length = k;
  return dst;
}

/**
 * The finer interval each one is derived from in `resampleAll`: every bucket of an interval is
 * a whole number of buckets of its source, aligned the same way (weeks start on a Monday, which
 * is a day boundary; months start on a day boundary).
 */
const CASCADE: Record<Exclude<Interval, '1m'>, Interval> = {
  '3m': '1m',
  '5m': '1m',
  '15m': '5m',
  '30m': '15m',
  '1h': '30m',
  '2h': '1h',
  '3h': '1h',
  '4h': '2h',
  '6h': '3h',
  '8h': '4h',
  '12h': '6h',
  '1d': '12h',
  '3d': '1d',
  '1w': '1d',
  '1M': '1d',
};

/**
 * Resamples 1m candles into several intervals at once, deriving each from the finest interval
 * already computed that divides it (1m -> 5m -> 15m -> ...). The aggregation composes exactly:
 * first/last/max/min and sums are associative, and a coarser bucket of no-trade buckets is
 * itself a no-trade bucket, so the traded-minute rule gives the same answer as from 1m.
 * About 2.5 passes over the 1m data instead of one per interval.
 */
export function resampleAll(src: Candles, intervals: readonly Interval[]): Map<Interval, Candles> {
  const want = new Set(intervals.filter((i) => i !== '1m'));
  const need = new Set<Interval>();
  const add = (iv: Interval): void => {
    if (iv === '1m' || need.has(iv)) return;
    need.add(iv);
    add(CASCADE[iv as Exclude<Interval, '1m'>]);
  };
  for (const iv of want) add(iv);
  const done = new Map<Interval, Candles>([['1m', src]]);
  for (const iv of DERIVED_INTERVALS) {
    if (!need.has(iv)) continue;
    done.set(iv, resample(done.get(CASCADE[iv as Exclude<Interval, '1m'>])!, iv));
  }
  const out = new Map<Interval, Candles>();
  for (const iv of intervals) {
    const c = done.get(iv);
    if (c) out.set(iv, c);
  }
  return out;
}

/**
 * Binance publishes every volume with 8 decimal places. Rounding a float sum back to 8 places
 * recovers the exchange's exact decimal sum (while it has fewer than 16 significant digits),
 * instead of a value off in the last bits.
 */
function round8(x: number): number {
  return Math.abs(x) < 9e7 ? Math.round(x * 1e8) / 1e8 : x;
}

/** An upper bound on the number of buckets `resample` produces, for sizing output buffers. */
export function estimateBuckets(src: Candles, interval: Interval): number {
  if (src.length === 0) return 0;
  const rule = BUCKET_RULES[interval];
  const span = src.openTime[src.length - 1] - src.openTime[0];
  const approx =
    rule.kind === 'fixed'
      ? Math.floor(span / rule.ms) + 2
      : Math.floor(span / (28 * 86_400_000)) + 2;
  return Math.min(src.length, approx);
}

/** Difference between two candle series found by `compareCandles`. */
export interface CandleDiff {
  openTime: number;
  column: string;
  expected: number | null;
  actual: number | null;
}

/**
 * Compares two series row by row on open time. Prices must be equal exactly; volumes within
 * `volumeRelTol` (float sums differ from the exchange's decimal sums in the last digits).
 * Returns at most `limit` differences and the total count.
 */
export function compareCandles(
  expected: Candles,
  actual: Candles,
  opts: { volumeRelTol?: number; limit?: number; columns?: readonly FloatColumn[] } = {},
): { diffs: CandleDiff[]; total: number } {
  const tol = opts.volumeRelTol ?? 1e-9;
  const limit = opts.limit ?? 50;
  const cols = opts.columns ?? FLOAT_COLUMNS;
  const diffs: CandleDiff[] = [];
  let total = 0;
  const push = (d: CandleDiff): void => {
    total++;
    if (diffs.length < limit) diffs.push(d);
  };
  let i = 0;
  let j = 0;
  while (i < expected.length || j < actual.length) {
    const te = i < expected.length ? expected.openTime[i] : Infinity;
    const ta = j < actual.length ? actual.openTime[j] : Infinity;
    if (te < ta) {
      push({ openTime: te, column: 'row', expected: te, actual: null });
      i++;
      continue;
    }
    if (ta < te) {
      push({ openTime: ta, column: 'row', expected: null, actual: ta });
      j++;
      continue;
    }
    for (const c of cols) {
      const e = expected[c][i];
      const a = actual[c][j];
      const isPrice = c === 'open' || c === 'high' || c === 'low' || c === 'close';
      const ok = isPrice
        ? e === a
        : Math.abs(e - a) <= tol * Math.max(Math.abs(e), Math.abs(a), 1e-12);
      if (!ok) push({ openTime: te, column: c, expected: e, actual: a });
    }
    i++;
    j++;
  }
  return { diffs, total };
}

/**
 * The 1m minutes whose content is known, as sorted, merged half-open ranges: every minute with a
 * 1m row (a filled row stands for a minute known to have no trade), plus `absent`, minutes the
 * exchange confirmed empty (outages, before the first trade). A bucket is complete only when
 * all its minutes are known.
 */
export function knownMinutes(
  m1: Candles,
  absent: readonly (readonly [number, number])[] = [],
): [number, number][] {
  const runs: [number, number][] = [];
  const t = m1.openTime;
  let i = 0;
  while (i < m1.length) {
    const s = t[i];
    let e = s + 60_000;
    i++;
    while (i < m1.length && t[i] === e) {
      e += 60_000;
      i++;
    }
    runs.push([s, e]);
  }
  const all = [...runs, ...absent.map(([s, e]): [number, number] => [s, e])].sort(
    (a, b) => a[0] - b[0],
  );
  const out: [number, number][] = [];
  for (const [s, e] of all) {
    const last = out[out.length - 1];
    if (last && s <= last[1]) last[1] = Math.max(last[1], e);
    else out.push([s, e]);
  }
  return out;
}

/** True when [start, end) lies inside one of the merged, sorted `known` ranges. */
function covered(known: readonly [number, number][], start: number, end: number): boolean {
  let lo = 0;
  let hi = known.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (known[mid][0] <= start) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found >= 0 && known[found][1] >= end;
}

/**
 * Keeps only the candles of `series` (an `interval` resample) whose whole bucket is known (see
 * `knownMinutes`): the exchange's candle for a bucket with unknown minutes (the running hour,
 * day, week or month, or a first week or month that began before the history) may differ, so
 * such a bucket is not a candle yet. Returns the complete candles and the open times of the
 * pending buckets.
 */
export function completeBuckets(
  series: Candles,
  interval: Interval,
  known: readonly [number, number][],
): { candles: Candles; pending: number[] } {
  const pending: number[] = [];
  const keep: number[] = [];
  for (let i = 0; i < series.length; i++) {
    const s = series.openTime[i];
    if (covered(known, s, nextBucketStart(s, interval))) keep.push(i);
    else pending.push(s);
  }
  if (pending.length === 0) return { candles: series, pending };
  const out = allocCandles(keep.length);
  for (let k = 0; k < keep.length; k++) {
    const i = keep[k];
    out.openTime[k] = series.openTime[i];
    for (const c of FLOAT_COLUMNS) out[c][k] = series[c][i];
    out.filled[k] = series.filled[i];
  }
  out.length = keep.length;
  return { candles: out, pending };
}
