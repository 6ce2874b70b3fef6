/**
 * What the bank holds for a symbol and what it does not, and why: per candle dataset its rows
 * and span, the gaps not filled (minutes the exchange never confirmed empty: a failed or not yet
 * tried fetch), the short outages filled with flagged flat candles, the outages the exchange
 * confirmed, and the derived buckets still waiting for minutes. Built from what `registry/list`
 * with details already reports; nothing is computed over candles.
 */
import type { Interval } from '../../schemas/intervals.ts';
import type { DatasetSummary } from '../../schemas/protocol.ts';
import { ThreadxError } from '../../schemas/errors.ts';
import { parseSymbol } from '../../schemas/common.ts';
import type { DatasetEntry, Range } from '../../schemas/registry.ts';
import { mergeRanges, subtractRanges } from '../engine/gaps.ts';
import type { Bank } from '../store/bank.ts';
import type { Services } from './services.ts';

export interface CoverageRange {
  start: string;
  end: string;
  /** 1m candles in the range. */
  minutes: number;
}

export interface DatasetCoverage {
  id: string;
  interval: Interval;
  rows: number;
  first: string | null;
  last: string | null;
  integrity: string;
  /** Gaps that remain: no candle and no confirmation from the exchange. */
  missing: CoverageRange[];
  /** Gaps filled with flat candles flagged `filled` (outages the exchange confirmed, short). */
  filled: CoverageRange[];
  /** Derived buckets not stored yet: some of their minutes are unknown. */
  pending: number;
}

export interface Coverage {
  symbol: string;
  datasets: DatasetCoverage[];
  /** Minutes the exchange confirmed it has no candle for (outages), as ranges. */
  outages: CoverageRange[];
  /**
   * The 1m minutes of each class over what the bank knows of the symbol (see `coverageCounts`),
   * absent when it holds no 1m.
   */
  minutes?: ClassCounts;
  /** Why each kind of hole is there, for a reader of the answer. */
  notes: string[];
}

export const coverageNotes = {
  missing:
    'missing: minutes the bank has no candle for and the exchange never confirmed empty (a fetch that failed or was not tried yet); an ingest over the range fetches them again.',
  filled:
    'filled: short outages the exchange confirmed, filled with flat candles flagged filled=1 (up to max_gap_fill_hours).',
  outages:
    'outages: minutes the exchange confirmed it has no candle for; longer ones stay holes on purpose.',
  pending:
    'pending: derived buckets (an hour, a day ...) whose minutes are not all known yet; they become candles once their minutes are in.',
  minutes:
    'minutes: each 1m minute in one class: real, filled, outage (confirmed empty between candles), unlisted (confirmed empty before the first candle or after the last), notFetched (never asked), failed (inside the span, neither a candle nor confirmed: a fetch that did not complete).',
  frontier: (last: string) =>
    `After ${last} nothing is stored yet: plan an ingest from there to see what it would fetch.`,
} as const;

const iso = (t: number): string => new Date(t).toISOString();
const range = (start: number, end: number): CoverageRange => ({
  start: iso(start),
  end: iso(end),
  minutes: Math.round((end - start) / 60_000),
});

/** The coverage of `symbol` (one interval, or all its candle datasets). */
export async function coverage(
  svc: Services,
  symbol: string,
  interval?: Interval,
): Promise<Coverage> {
  const { bank } = svc.state;
  const listed = await svc.registry.list({
    symbol,
    kind: 'candles',
    ...(interval ? { interval } : {}),
  });
  if (listed.length === 0)
    throw new ThreadxError(
      'NOT_FOUND',
      interval
        ? `The bank holds no ${interval} candles of ${symbol}.`
        : `The bank holds no candles of ${symbol}.`,
      'List what the bank holds with list_datasets (or "threadx list"), or plan an ingest of the symbol.',
      { symbol },
    );
  const datasets = listed.map((d: DatasetSummary): DatasetCoverage => {
    const gaps = bank.registry().datasets[d.id]?.gaps ?? [];
    return {
      id: d.id,
      interval: d.interval,
      rows: d.rows,
      first: d.first === null ? null : iso(d.first),
      last: d.last === null ? null : iso(d.last),
      integrity: d.integrity?.state ?? 'not-verified',
      missing: gaps.filter((g) => !g.filled).map((g) => range(g.start, g.end)),
      filled: gaps.filter((g) => g.filled).map((g) => range(g.start, g.end)),
      pending: d.pending ?? 0,
    };
  });
  const m1 = listed.find((d) => d.interval === '1m');
  const notes: string[] = [
    coverageNotes.missing,
    coverageNotes.filled,
    coverageNotes.outages,
    coverageNotes.pending,
  ];
  if (m1?.last != null) notes.push(coverageNotes.frontier(iso(m1.last + 60_000)));
  const minutes = m1 ? coverageCounts(bank, { symbols: [symbol], bucket: 'day' }) : undefined;
  if (minutes) notes.push(coverageNotes.minutes);
  return {
    symbol,
    datasets,
    outages: bank.confirmedEmpty(symbol).map(([s, e]) => range(s, e)),
    ...(minutes ? { minutes: minutes.symbols[0].total } : {}),
    notes,
  };
}

// ---------------------------------------------------------------------------------------------
// Why a minute is missing: every minute of a range in one class, counted per bucket.
// ---------------------------------------------------------------------------------------------

/**
 * The class of a minute. `real`: a candle from the exchange. `filled`: a flat candle flagged
 * `filled`, in a short outage. `outage`: no candle, and the exchange confirmed it has none (it
 * answered a later minute and none in between). `unlisted`: confirmed empty before the first
 * candle or after the last (before listing, after delisting). `notFetched`: outside what the bank
 * was asked for (before its first minute or after its last, never confirmed). `failed`: inside the
 * bank's span with no candle and no confirmation: a fetch that did not complete (the next ingest
 * or the watcher asks again).
 */
export const MINUTE_CLASSES = [
  'real',
  'filled',
  'outage',
  'unlisted',
  'notFetched',
  'failed',
] as const;
export type MinuteClass = (typeof MINUTE_CLASSES)[number];
export type ClassCounts = Record<MinuteClass, number>;

export type CoverageBucket = 'day' | 'hour';
const MINUTE = 60_000;
const BUCKET_MS: Record<CoverageBucket, number> = { hour: 3_600_000, day: 86_400_000 };
/** Buckets x symbols one answer may hold (100 symbols x 5 years of days is 182,600). */
export const MAX_COVERAGE_CELLS = 2_000_000;

/** The bucket a range is counted in when none is asked: hours up to 3 days, else days. */
export function defaultBucket(start: number, end: number): CoverageBucket {
  return end - start <= 3 * BUCKET_MS.day ? 'hour' : 'day';
}

/** The minutes of one symbol, as sorted, disjoint ranges per class. */
export function minuteClasses(
  bank: Bank,
  symbol: string,
  start: number,
  end: number,
): Record<MinuteClass, Range[]> & { held: boolean } {
  const entry = bank.get(symbol, '1m');
  const tail = bank.tails.read(parseSymbol(symbol));
  const present: Range[] = [];
  const filled: Range[] = [];
  const holes: Range[] = [];
  if (entry && entry.first !== null && entry.last !== null && entry.rows > 0) {
    const span: Range = [entry.first, entry.last + MINUTE];
    const gaps = entry.gaps.map((g): Range => [g.start, g.end]);
    present.push(...subtractRanges([span], mergeRanges(gaps)));
    for (const g of entry.gaps) (g.filled ? filled : holes).push([g.start, g.end]);
  }
  for (let i = 0; i < tail.length;) {
    let j = i;
    while (j + 1 < tail.length && tail.openTime[j + 1] === tail.openTime[j] + MINUTE) j++;
    present.push([tail.openTime[i], tail.openTime[j] + MINUTE]);
    i = j + 1;
  }
  const held = mergeRanges([...present, ...filled]);
  const window: Range[] = [[start, end]];
  const within = (r: Range[]): Range[] => intersectRanges(mergeRanges(r), window);
  const confirmed = mergeRanges([...bank.confirmedEmpty(symbol)]);
  const out = { held: held.length > 0 } as Record<MinuteClass, Range[]> & { held: boolean };
  out.filled = within(subtractRanges(mergeRanges(filled), mergeRanges(present)));
  out.real = within(subtractRanges(held, out.filled));
  if (held.length === 0) {
    out.outage = [];
    out.failed = [];
    out.unlisted = within(confirmed);
  } else {
    const hull: Range[] = [[held[0][0], held[held.length - 1][1]]];
    const inside = subtractRanges(hull, held);
    out.outage = within(intersectRanges(inside, confirmed));
    out.failed = within(subtractRanges(inside, confirmed));
    out.unlisted = within(subtractRanges(confirmed, hull));
  }
  out.notFetched = within(
    subtractRanges(window, mergeRanges([...held, ...confirmed, ...out.failed])),
  );
  return out;
}

/** Sorted, merged ranges `a` and `b` intersected. */
function intersectRanges(a: readonly Range[], b: readonly Range[]): Range[] {
  const out: Range[] = [];
  let j = 0;
  for (const [s, e] of a) {
    while (j < b.length && b[j][1] <= s) j++;
    for (let k = j; k < b.length && b[k][0] < e; k++) {
      const lo = Math.max(s, b[k][0]);
      const hi = Math.min(e, b[k][1]);
      if (hi > lo) out.push([lo, hi]);
    }
  }
  return out;
}

export interface CoverageCountsRequest {
  symbols: string[];
  start?: number;
  end?: number;
  bucket?: CoverageBucket;
}

export interface SymbolCoverageCounts {
  symbol: string;
  /** False when the bank holds no minute of the symbol. */
  held: boolean;
  /** Minutes of each class over the whole range. */
  total: ClassCounts;
  /** Per class, minutes in each bucket (aligned with `buckets`). */
  counts: Record<MinuteClass, number[]>;
}

export interface CoverageCounts {
  bucket: CoverageBucket;
  /** The range counted, [start, end) in ms, on whole minutes. */
  start: number;
  end: number;
  /** Open time of each bucket (UTC hours or days); the first and last may be partial. */
  buckets: number[];
  symbols: SymbolCoverageCounts[];
}

const zeroCounts = (): ClassCounts =>
  Object.fromEntries(MINUTE_CLASSES.map((c) => [c, 0])) as ClassCounts;

/**
 * How many minutes of each class every symbol has in [start, end), per hour or day. Without a
 * start or end, the range is what the bank knows of the symbols (their minutes and confirmed
 * empty ranges). Computed from the registry and the tail, never over candles.
 */
export function coverageCounts(bank: Bank, req: CoverageCountsRequest): CoverageCounts {
  const symbols = req.symbols.map((s) => parseSymbol(s));
  let lo = req.start ?? Infinity;
  let hi = req.end ?? -Infinity;
  if (req.start === undefined || req.end === undefined) {
    for (const s of symbols) {
      const span = bank.span1m(s);
      const conf = bank.confirmedEmpty(s);
      if (req.start === undefined) {
        if (span) lo = Math.min(lo, span.first);
        if (conf.length) lo = Math.min(lo, conf[0][0]);
      }
      if (req.end === undefined) {
        if (span) hi = Math.max(hi, span.last + MINUTE);
        if (conf.length) hi = Math.max(hi, conf[conf.length - 1][1]);
      }
    }
  }
  if (!Number.isFinite(lo) || !Number.isFinite(hi))
    throw new ThreadxError(
      'NOT_FOUND',
      `The bank holds nothing of ${symbols.join(', ')} to take a range from.`,
      'Give a start and an end, or ingest the symbols first.',
      { symbol: symbols[0] },
    );
  const start = Math.floor(lo / MINUTE) * MINUTE;
  const end = Math.ceil(hi / MINUTE) * MINUTE;
  if (end <= start)
    throw new ThreadxError(
      'INVALID_RANGE',
      `The range is empty: start ${iso(start)} is not before end ${iso(end)}.`,
      'Give a start before the end.',
    );
  const bucket = req.bucket ?? defaultBucket(start, end);
  const size = BUCKET_MS[bucket];
  const first = Math.floor(start / size) * size;
  const n = Math.ceil((end - first) / size);
  if (n * symbols.length > MAX_COVERAGE_CELLS)
    throw new ThreadxError(
      'INVALID_RANGE',
      `${n} ${bucket}s x ${symbols.length} symbol(s) is more than ${MAX_COVERAGE_CELLS} cells.`,
      bucket === 'hour'
        ? 'Count by day, or ask for a shorter range or fewer symbols.'
        : 'Ask for a shorter range or fewer symbols.',
    );
  const buckets = Array.from({ length: n }, (_, i) => first + i * size);
  return {
    bucket,
    start,
    end,
    buckets,
    symbols: symbols.map((symbol): SymbolCoverageCounts => {
      const ranges = minuteClasses(bank, symbol, start, end);
      const total = zeroCounts();
      const counts = {} as Record<MinuteClass, number[]>;
      for (const c of MINUTE_CLASSES) {
        const col = new Array<number>(n).fill(0);
        for (const [s, e] of ranges[c]) {
          total[c] += (e - s) / MINUTE;
          for (let b = Math.floor((s - first) / size); b < n; b++) {
            const bs = first + b * size;
            if (bs >= e) break;
            col[b] += (Math.min(e, bs + size) - Math.max(s, bs)) / MINUTE;
          }
        }
        counts[c] = col;
      }
      return { symbol, held: ranges.held, total, counts };
    }),
  };
}

/**
 * The missing minutes inside a 1m dataset's span, by class, from its registry entry alone (what
 * `threadx list` shows): `outage` confirmed empty by the exchange, `failed` not.
 */
export function missingMinutes(
  entry: DatasetEntry,
  confirmed: readonly Range[],
): { outage: number; failed: number } {
  const holes = mergeRanges(
    entry.gaps.filter((g) => !g.filled).map((g): Range => [g.start, g.end]),
  );
  const sure = mergeRanges(confirmed);
  const minutes = (r: Range[]): number => r.reduce((n, [s, e]) => n + (e - s) / MINUTE, 0);
  return {
    outage: minutes(intersectRanges(holes, sure)),
    failed: minutes(subtractRanges(holes, sure)),
  };
}
