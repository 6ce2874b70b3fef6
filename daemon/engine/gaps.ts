import { type Candles, allocCandles, FLOAT_COLUMNS } from '../../schemas/candles.ts';
import { MINUTE_MS } from '../../schemas/intervals.ts';
import type { Gap, Range } from '../../schemas/registry.ts';

/** Row `k` of `dst` as a flagged filled candle: the prices given, no volume, no trades. */
export function setFilledRow(
  dst: Candles,
  k: number,
  openTime: number,
  open: number,
  high: number,
  low: number,
  close: number,
): void {
  dst.openTime[k] = openTime;
  dst.open[k] = open;
  dst.high[k] = high;
  dst.low[k] = low;
  dst.close[k] = close;
  dst.volume[k] = 0;
  dst.quoteVolume[k] = 0;
  dst.trades[k] = 0;
  dst.takerBuyBase[k] = 0;
  dst.takerBuyQuote[k] = 0;
  dst.filled[k] = 1;
}

/**
 * Missing 1m candles between the first and last row, as ranges. Filled rows count as present
 * (they are flagged, not missing); pass `ignoreFilled` to see the holes they cover.
 */
export function detectGaps(c: Candles, step = MINUTE_MS, ignoreFilled = false): Gap[] {
  const gaps: Gap[] = [];
  let prev = -1;
  for (let i = 0; i < c.length; i++) {
    if (ignoreFilled && c.filled[i] === 1) continue;
    const t = c.openTime[i];
    if (prev >= 0 && t - prev > step) {
      gaps.push({
        start: prev + step,
        end: t,
        missing: Math.round((t - prev) / step) - 1,
        filled: false,
      });
    }
    prev = t;
  }
  return gaps;
}

/**
 * Whether the gap [start, end) of `missing` minutes is filled: it is at most `maxFillMinutes`
 * long and, when `confirmed` (merged, sorted ranges) is given, lies wholly inside a range the
 * exchange confirmed empty. A minute nobody confirmed missing (a fetch that failed, the
 * frontier's "not yet") is never filled, since a filled minute stands for a minute without trades.
 */
export function isFillable(
  start: number,
  end: number,
  missing: number,
  maxFillMinutes: number,
  confirmed?: readonly Range[],
): boolean {
  if (missing > maxFillMinutes) return false;
  if (!confirmed) return true;
  let lo = 0;
  let hi = confirmed.length;
  // The last confirmed range starting at or before `start`.
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (confirmed[mid][0] <= start) lo = mid + 1;
    else hi = mid;
  }
  return lo > 0 && confirmed[lo - 1][1] >= end;
}

/**
 * Fills every gap of at most `maxFillMinutes` missing candles with flat candles at the previous
 * close (volume 0, `filled = 1`), conservatively: longer gaps are left as they are and reported,
 * and so are gaps outside `confirmed` when it is given (see `isFillable`). Filled rows never
 * change a resampled candle that has real minutes (a bucket of only filled minutes becomes a
 * filled candle: see `resample`). Returns the new series and every gap with its fate.
 */
export function fillGaps(
  c: Candles,
  maxFillMinutes: number,
  confirmed?: readonly Range[],
): { candles: Candles; gaps: Gap[]; filledCount: number } {
  const gaps = detectGaps(c);
  let extra = 0;
  const fills = new Set<number>();
  for (const g of gaps) {
    if (isFillable(g.start, g.end, g.missing, maxFillMinutes, confirmed)) {
      g.filled = true;
      extra += g.missing;
      fills.add(g.start);
    }
  }
  if (extra === 0) return { candles: c, gaps, filledCount: 0 };
  const out = allocCandles(c.length + extra);
  let k = 0;
  for (let i = 0; i < c.length; i++) {
    if (i > 0) {
      const gapMinutes = Math.round((c.openTime[i] - c.openTime[i - 1]) / MINUTE_MS) - 1;
      if (gapMinutes > 0 && fills.has(c.openTime[i - 1] + MINUTE_MS)) {
        const p = c.close[i - 1];
        for (let m = 1; m <= gapMinutes; m++) {
          setFilledRow(out, k++, c.openTime[i - 1] + m * MINUTE_MS, p, p, p, p);
        }
      }
    }
    out.openTime[k] = c.openTime[i];
    for (const col of FLOAT_COLUMNS) out[col][k] = c[col][i];
    out.filled[k] = c.filled[i];
    k++;
  }
  out.length = k;
  return { candles: out, gaps, filledCount: extra };
}

/** Missing ranges of `[start, end)` (1m open times) not covered by the rows of `c` nor `skip`. */
export function missingRanges(
  c: Candles,
  start: number,
  end: number,
  skip: readonly Range[] = [],
): Range[] {
  const present: Range[] = [];
  let runStart = -1;
  let prev = -1;
  for (let i = 0; i < c.length; i++) {
    const t = c.openTime[i];
    if (c.filled[i] === 1) {
      // A filled minute is a hole that may still be fetched: it does not count as present.
      if (runStart >= 0) present.push([runStart, prev + MINUTE_MS]);
      runStart = -1;
      continue;
    }
    if (runStart < 0 || t !== prev + MINUTE_MS) {
      if (runStart >= 0) present.push([runStart, prev + MINUTE_MS]);
      runStart = t;
    }
    prev = t;
  }
  if (runStart >= 0) present.push([runStart, prev + MINUTE_MS]);
  return subtractRanges([[start, end]], mergeRanges([...present, ...skip]));
}

/** Sorts and merges overlapping or touching ranges. */
export function mergeRanges(ranges: readonly Range[]): Range[] {
  const sorted = ranges.filter((r) => r[1] > r[0]).sort((a, b) => a[0] - b[0]);
  const out: Range[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else out.push([r[0], r[1]]);
  }
  return out;
}

/** `base` minus `remove`, both lists of half-open ranges; `remove` must be merged and sorted. */
export function subtractRanges(base: readonly Range[], remove: readonly Range[]): Range[] {
  const out: Range[] = [];
  for (const [s0, e0] of base) {
    let s = s0;
    for (const [rs, re] of remove) {
      if (re <= s) continue;
      if (rs >= e0) break;
      if (rs > s) out.push([s, Math.min(rs, e0)]);
      s = Math.max(s, re);
      if (s >= e0) break;
    }
    if (s < e0) out.push([s, e0]);
  }
  return out;
}
