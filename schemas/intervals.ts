import { z } from 'zod';

/**
 * Every timeframe the bank knows. Only `1m` is ever downloaded; every other interval is derived
 * from it by resampling. `3h` has no Binance counterpart and exists here only by resampling.
 */
export const INTERVALS = [
  '1m',
  '3m',
  '5m',
  '15m',
  '30m',
  '1h',
  '2h',
  '3h',
  '4h',
  '6h',
  '8h',
  '12h',
  '1d',
  '3d',
  '1w',
  '1M',
] as const;

export type Interval = (typeof INTERVALS)[number];

/** Intervals that are derived from 1m (everything but 1m itself). */
export const DERIVED_INTERVALS = INTERVALS.filter((i) => i !== '1m') as Exclude<Interval, '1m'>[];

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
export const WEEK_MS = 7 * DAY_MS;
/** 1970-01-05 was a Monday: Binance's weekly candles open on Monday 00:00 UTC. */
export const WEEK_ORIGIN_MS = 4 * DAY_MS;

/**
 * How an interval's buckets are laid on the UTC time line.
 * - `fixed`: `floor((t - origin) / ms) * ms + origin`. Binance aligns minute/hour/day buckets
 *   (3d included) on the Unix epoch and 1w on Monday 00:00 UTC.
 * - `month`: calendar months in UTC.
 */
export type BucketRule = { kind: 'fixed'; ms: number; origin: number } | { kind: 'month' };

export const BUCKET_RULES: Record<Interval, BucketRule> = {
  '1m': { kind: 'fixed', ms: MINUTE_MS, origin: 0 },
  '3m': { kind: 'fixed', ms: 3 * MINUTE_MS, origin: 0 },
  '5m': { kind: 'fixed', ms: 5 * MINUTE_MS, origin: 0 },
  '15m': { kind: 'fixed', ms: 15 * MINUTE_MS, origin: 0 },
  '30m': { kind: 'fixed', ms: 30 * MINUTE_MS, origin: 0 },
  '1h': { kind: 'fixed', ms: HOUR_MS, origin: 0 },
  '2h': { kind: 'fixed', ms: 2 * HOUR_MS, origin: 0 },
  '3h': { kind: 'fixed', ms: 3 * HOUR_MS, origin: 0 },
  '4h': { kind: 'fixed', ms: 4 * HOUR_MS, origin: 0 },
  '6h': { kind: 'fixed', ms: 6 * HOUR_MS, origin: 0 },
  '8h': { kind: 'fixed', ms: 8 * HOUR_MS, origin: 0 },
  '12h': { kind: 'fixed', ms: 12 * HOUR_MS, origin: 0 },
  '1d': { kind: 'fixed', ms: DAY_MS, origin: 0 },
  '3d': { kind: 'fixed', ms: 3 * DAY_MS, origin: 0 },
  '1w': { kind: 'fixed', ms: WEEK_MS, origin: WEEK_ORIGIN_MS },
  '1M': { kind: 'month' },
};

// Pure: a bundle that uses only the constants above (the webviews) leaves zod out.
export const IntervalSchema = /* @__PURE__ */ z.enum(INTERVALS, {
  error: (issue) =>
    `unknown interval ${JSON.stringify(issue.input)}: expected one of ${INTERVALS.join(', ')}`,
});

export function isInterval(value: string): value is Interval {
  return (INTERVALS as readonly string[]).includes(value);
}

/** Open time of the bucket that contains `t` (ms since the epoch, UTC). */
export function bucketStart(t: number, interval: Interval): number {
  const rule = BUCKET_RULES[interval];
  if (rule.kind === 'fixed') {
    return Math.floor((t - rule.origin) / rule.ms) * rule.ms + rule.origin;
  }
  const d = new Date(t);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

/** Open time of the bucket after the one that opens at `start`. */
export function nextBucketStart(start: number, interval: Interval): number {
  const rule = BUCKET_RULES[interval];
  if (rule.kind === 'fixed') return start + rule.ms;
  const d = new Date(start);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

/** Nominal length of an interval in ms (a 1M bucket counts as 30 days; use for estimates only). */
export function intervalMs(interval: Interval): number {
  const rule = BUCKET_RULES[interval];
  return rule.kind === 'fixed' ? rule.ms : 30 * DAY_MS;
}

/** Parses a comma-separated interval list, rejecting unknown names with a message naming them. */
export function parseIntervals(text: string): Interval[] {
  const out: Interval[] = [];
  for (const part of text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    out.push(IntervalSchema.parse(part));
  }
  return out;
}
