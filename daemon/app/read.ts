/**
 * Reading candles for a client: pick the interval that fits a chart's point budget, load it from
 * the bank or resample it from 1m on the fly, and lay it out as JSON columns.
 *
 * A stored derived timeframe is used only while it was built from the current 1m files (its
 * `sourceChecksum`); otherwise the exact resampler recomputes it, so a client never sees derived
 * candles that disagree with the 1m truth.
 */
import { type Candles, allocCandles, clipCandles, sliceCandles } from '../../schemas/candles.ts';
import {
  type Interval,
  INTERVALS,
  BUCKET_RULES,
  bucketStart,
  intervalMs,
  MINUTE_MS,
} from '../../schemas/intervals.ts';
import type { CandleColumns } from '../../schemas/protocol.ts';
import type { Bank } from '../store/bank.ts';
import { ThreadxError } from '../../schemas/errors.ts';
import { messages } from './messages.ts';

/** Buckets of `interval` that overlap [start, end). */
export function bucketCount(start: number, end: number, interval: Interval): number {
  if (end <= start) return 0;
  const rule = BUCKET_RULES[interval];
  const first = bucketStart(start, interval);
  const last = bucketStart(end - 1, interval);
  if (rule.kind === 'fixed') return Math.floor((last - first) / rule.ms) + 1;
  const a = new Date(first);
  const b = new Date(last);
  return (b.getUTCFullYear() - a.getUTCFullYear()) * 12 + b.getUTCMonth() - a.getUTCMonth() + 1;
}

export interface ReadPlan {
  symbol: string;
  requested: Interval;
  interval: Interval;
  start: number;
  end: number;
  /** Load from a stored, current file (else resample 1m). */
  stored: boolean;
  truncate: boolean;
}

/** The checksum a derived dataset must carry to be current (the bank's one formula). */
function current1mChecksum(bank: Bank, symbol: string): string | null {
  // Minutes in the tail (not yet folded into the partitions) are part of what a read sees.
  const tail = bank.tails.span(symbol);
  const sum = bank.datasetChecksum(symbol, '1m');
  return tail ? `${sum}+${tail.last}/${tail.rows}/${bank.tails.stamp()}` : sum;
}

/**
 * Chooses what to serve for `requested` over [start, end) within `maxPoints`: the finest interval
 * at least as coarse as the one asked for whose bucket count fits, among those stored or
 * derivable from 1m. The range is clipped to the data the bank holds.
 */
export function planRead(
  bank: Bank,
  symbol: string,
  requested: Interval,
  start: number | undefined,
  end: number | undefined,
  maxPoints: number,
  exact = false,
): ReadPlan {
  const m1 = bank.span1m(symbol);
  const has1m = m1 !== undefined;
  const own = bank.get(symbol, requested);
  if (!has1m && !(own && own.rows > 0)) {
    const any = bank.list().some((d) => d.symbol === symbol);
    throw new ThreadxError(
      'NOT_FOUND',
      any ? messages.noDataset(symbol, requested) : messages.noData(symbol),
      undefined,
      { symbol, dataset: `${symbol}/${requested}` },
    );
  }
  const checksum = bank.datasetChecksum(symbol, '1m');
  const usable = (iv: Interval): 'stored' | 'derive' | null => {
    if (iv === '1m') return has1m ? 'stored' : null;
    const e = bank.get(symbol, iv);
    if (e && e.rows > 0 && e.kind === 'candles' && (!has1m || e.sourceChecksum === checksum)) {
      return 'stored';
    }
    return has1m ? 'derive' : null;
  };
  // The span of the data: from 1m when there is any, else from the stored timeframe.
  const spanStart = has1m ? m1!.first! : own!.first!;
  const spanEnd = has1m
    ? m1!.last! + MINUTE_MS
    : own!.last! + (requested === '1M' ? 31 * 86_400_000 : intervalMs(requested));
  const s = Math.max(start ?? -Infinity, spanStart);
  const e = Math.min(end ?? Infinity, spanEnd);
  // The interval asked for when it fits (resampled from 1m if it is not stored); else the finest
  // stored, current timeframe that fits; else the finest that fits, resampled for this answer.
  const coarser = INTERVALS.slice(INTERVALS.indexOf(requested));
  const fits = (iv: Interval): boolean => bucketCount(s, e, iv) <= maxPoints;
  const stored = coarser.filter((iv) => usable(iv) === 'stored');
  const derivable = coarser.filter((iv) => usable(iv) !== null);
  let chosen: Interval | undefined =
    (exact || fits(requested)) && usable(requested) ? requested : undefined;
  let truncate = exact && chosen !== undefined && !fits(requested);
  chosen ??= stored.find(fits) ?? derivable.find(fits);
  if (!chosen) {
    chosen = derivable[derivable.length - 1];
    truncate = true;
  }
  return {
    symbol,
    requested,
    interval: chosen,
    start: s,
    end: e,
    stored: usable(chosen) === 'stored',
    truncate,
  };
}

/**
 * Series resampled on the fly, by symbol, interval, range and the 1m checksum they came from: a
 * chart asks for the same range again after a refresh or a `registry/changed` of another symbol.
 * Any write to the symbol's 1m changes the checksum, so an entry is never stale.
 */
const resampled = new Map<string, Candles>();
const RESAMPLED_MAX_ROWS = 2_000_000;
let resampledRows = 0;

function remember(key: string, c: Candles): void {
  resampled.set(key, c);
  resampledRows += c.length;
  for (const [k, v] of resampled) {
    if (resampledRows <= RESAMPLED_MAX_ROWS || k === key) break;
    resampled.delete(k);
    resampledRows -= v.length;
  }
}

/** Loads the candles of a plan (the first bucket may start before `start`: it is whole). */
export async function loadPlan(bank: Bank, plan: ReadPlan, maxPoints: number): Promise<Candles> {
  const { symbol, interval, start, end } = plan;
  if (!(end > start)) return allocCandles(0);
  const from = bucketStart(start, interval);
  let c: Candles;
  if (interval === '1m') c = await bank.read1m(symbol, start, end);
  else if (plan.stored) c = await bank.read(symbol, interval, from, end);
  else {
    const key = `${symbol}/${interval}/${from}/${end}/${current1mChecksum(bank, symbol)}`;
    const hit = resampled.get(key);
    if (hit) {
      // Most recently used last.
      resampled.delete(key);
      resampled.set(key, hit);
      c = hit;
    } else {
      c = (await bank.resampleComplete(symbol, interval, from, end)).candles;
      remember(key, c);
    }
  }
  c = clipCandles(c, from, end);
  if (plan.truncate && c.length > maxPoints) c = sliceCandles(c, c.length - maxPoints, c.length);
  return c;
}

/** Candles as JSON columns. */
export function toColumns(c: Candles): CandleColumns {
  const n = c.length;
  const col = (a: Float64Array | Uint8Array): number[] => Array.from(a.subarray(0, n));
  return {
    openTime: col(c.openTime),
    open: col(c.open),
    high: col(c.high),
    low: col(c.low),
    close: col(c.close),
    volume: col(c.volume),
    quoteVolume: col(c.quoteVolume),
    trades: col(c.trades),
    takerBuyBase: col(c.takerBuyBase),
    takerBuyQuote: col(c.takerBuyQuote),
    filled: col(c.filled),
  };
}

/** Candles of `symbol` at `interval` over [start, end), stored or resampled (for export). */
export async function readExact(
  bank: Bank,
  symbol: string,
  interval: Interval,
  start: number,
  end: number,
): Promise<Candles> {
  const plan = planRead(bank, symbol, interval, start, end, Number.MAX_SAFE_INTEGER);
  return loadPlan(
    bank,
    { ...plan, interval, stored: plan.interval === interval && plan.stored },
    Infinity,
  );
}
