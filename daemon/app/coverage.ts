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
  return {
    symbol,
    datasets,
    outages: bank.confirmedEmpty(symbol).map(([s, e]) => range(s, e)),
    notes,
  };
}
