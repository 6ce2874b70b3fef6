import { type Candles, allocCandles } from '../../schemas/candles.ts';
import {
  type Interval,
  BUCKET_RULES,
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
 * - filled rows (`filled = 1`) never contribute;
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
  const fixed = BUCKET_RULES[interval];
  const fixedMs = fixed.kind === 'fixed' ? fixed.ms : 0;
  const origin = fixed.kind === 'fixed' ? fixed.origin : 0;

  let k = -1;
  let curStart = 0;
  let curEnd = -Infinity;
  // Per-bucket accumulators: the traded-only open/high/low, and the plain ones as a fallback.
  let tOpen = 0;
  let tHigh = 0;
  let tLow = 0;
  let traded = false;
  let pHigh = 0;
  let pLow = 0;
  let lastT = -Infinity;

  const flush = (): void => {
    if (k < 0) return;
    dst.volume[k] = round8(dst.volume[k]);
    dst.quoteVolume[k] = round8(dst.quoteVolume[k]);
    dst.takerBuyBase[k] = round8(dst.takerBuyBase[k]);
    dst.takerBuyQuote[k] = round8(dst.takerBuyQuote[k]);
    if (traded) {
      dst.open[k] = tOpen;
      dst.high[k] = tHigh;
      dst.low[k] = tLow;
    } else {
      dst.high[k] = pHigh;
      dst.low[k] = pLow;
    }
  };

  for (let i = 0; i < n; i++) {
    if (filled[i] === 1) continue;
    const t = openTime[i];
    if (t <= lastT) throw new RangeError(`resample: open times must increase strictly (row ${i})`);
    lastT = t;
    if (t >= curEnd) {
      flush();
      k++;
      if (fixedMs > 0) {
        curStart = Math.floor((t - origin) / fixedMs) * fixedMs + origin;
        curEnd = curStart + fixedMs;
      } else {
        curStart = bucketStart(t, interval);
        curEnd = nextBucketStart(curStart, interval);
      }
      dst.openTime[k] = curStart;
      dst.open[k] = open[i];
      dst.close[k] = close[i];
      dst.volume[k] = volume[i];
      dst.quoteVolume[k] = quoteVolume[i];
      dst.trades[k] = trades[i];
      dst.takerBuyBase[k] = takerBuyBase[i];
      dst.takerBuyQuote[k] = takerBuyQuote[i];
      dst.filled[k] = 0;
      pHigh = high[i];
      pLow = low[i];
      traded = volume[i] > 0 || trades[i] > 0;
      if (traded) {
        tOpen = open[i];
        tHigh = high[i];
        tLow = low[i];
      }
      continue;
    }
    const h = high[i];
    const l = low[i];
    if (h > pHigh) pHigh = h;
    if (l < pLow) pLow = l;
    if (volume[i] > 0 || trades[i] > 0) {
      if (!traded) {
        traded = true;
        tOpen = open[i];
        tHigh = h;
        tLow = l;
      } else {
        if (h > tHigh) tHigh = h;
        if (l < tLow) tLow = l;
      }
    }
    dst.close[k] = close[i];
    dst.volume[k] += volume[i];
    dst.quoteVolume[k] += quoteVolume[i];
    dst.trades[k] += trades[i];
    dst.takerBuyBase[k] += takerBuyBase[i];
    dst.takerBuyQuote[k] += takerBuyQuote[i];
  }
  flush();
  dst.length = k + 1;
  return dst;
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
  opts: { volumeRelTol?: number; limit?: number; columns?: readonly (keyof Candles)[] } = {},
): { diffs: CandleDiff[]; total: number } {
  const tol = opts.volumeRelTol ?? 1e-9;
  const limit = opts.limit ?? 50;
  const cols = (opts.columns ?? [
    'open',
    'high',
    'low',
    'close',
    'volume',
    'quoteVolume',
    'trades',
    'takerBuyBase',
    'takerBuyQuote',
  ]) as (
    | 'open'
    | 'high'
    | 'low'
    | 'close'
    | 'volume'
    | 'quoteVolume'
    | 'trades'
    | 'takerBuyBase'
    | 'takerBuyQuote'
  )[];
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
