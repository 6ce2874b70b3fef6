/**
 * Repair: bring a symbol's files back to what the registry promises, touching only what is
 * broken. Corrupt or missing 1m partitions are re-fetched for exactly their ranges (archive or
 * REST, as ingest does) and swapped in atomically; corrupt derived files and indicator caches are
 * rebuilt from 1m (no network); the symbol is verified again. A sound file is never rewritten,
 * and nothing is removed before its replacement is committed: an interrupted repair leaves the
 * damage where it was, recorded, for the next repair to finish.
 */
import { MINUTE_MS } from '../../schemas/intervals.ts';
import { type Candles, concatCandles } from '../../schemas/candles.ts';
import { parseBankKey as parseSymbol } from '../../schemas/common.ts';
import { parseSeriesKey } from '../../schemas/markets.ts';
import type { FileEntry, Range, VerifyIssue } from '../../schemas/registry.ts';
import { type ErrorCodeName, ThreadxError, isErrorCode } from '../../schemas/errors.ts';
import { subtractRanges } from '../engine/gaps.ts';
import { sortUnique } from '../engine/merge.ts';
import { SourceRoute, fetchSteps, planRanges, type IngestDeps } from './ingest.ts';
import { refreshStaleIndicators, updateIndicators } from './indicators.ts';

export interface RepairResult {
  symbol: string;
  /** True when the symbol's files all verify after the repair. */
  ok: boolean;
  /** What verify found before the repair (problems only). */
  found: VerifyIssue[];
  /** 1m ranges fetched again, [start, end) in ms. */
  refetched: [number, number][];
  /** Datasets rebuilt from 1m (`SYMBOL/interval`, `SYMBOL/interval/key`). */
  rebuilt: string[];
  /** What verify finds after the repair (problems only). */
  remaining: VerifyIssue[];
  /** Why the symbol could not be repaired (no network, no longer served ...). */
  error?: { code: string; message: string };
}

export interface RepairSummary {
  ok: boolean;
  results: RepairResult[];
  /** What a person should know about the whole repair, one sentence each (a source rerouted). */
  notes?: string[];
}

export interface RepairOptions {
  signal?: AbortSignal;
  onProgress?: (symbol: string, message: string) => void;
}

/** Repairs `symbols` (default: every symbol with a problem) and reports per symbol. */
export async function repairSymbols(
  deps: IngestDeps,
  symbols: readonly string[] | undefined,
  opts: RepairOptions = {},
): Promise<RepairSummary> {
  const { bank } = deps;
  const list = symbols?.length
    ? [...new Set(symbols.map((s) => parseSymbol(s)))]
    : [...new Set(bank.list().map((d) => d.symbol))].sort();
  const results: RepairResult[] = [];
  // One view of the two sources for the whole repair: an unreachable one is tried once.
  const route = new SourceRoute();
  for (const symbol of list) {
    opts.signal?.throwIfAborted();
    results.push(await repairSymbol(deps, symbol, opts, route));
  }
  const notes = route.notes();
  return { ok: results.every((r) => r.ok), results, ...(notes.length ? { notes } : {}) };
}

async function repairSymbol(
  deps: IngestDeps,
  symbol: string,
  opts: RepairOptions,
  route: SourceRoute,
): Promise<RepairResult> {
  const { bank } = deps;
  const say = (m: string): void => opts.onProgress?.(symbol, m);
  const res: RepairResult = {
    symbol,
    ok: false,
    found: [],
    refetched: [],
    rebuilt: [],
    remaining: [],
  };
  if (!bank.list().some((d) => d.symbol === symbol)) {
    res.error = {
      code: 'NOT_FOUND',
      message: `${symbol} is not in the bank: download it with "threadx ingest --symbols ${symbol} --start ..."`,
    };
    return res;
  }
  say('verifying');
  // The findings are recorded in the registry: until a replacement is committed, every read,
  // listing and later verify sees the file as damaged, whatever happens to this repair.
  res.found = (await bank.verify({ symbols: [symbol], signal: opts.signal })).filter(
    (i) => i.status !== 'ok',
  );
  const damagedPaths = new Set(res.found.map((i) => i.path));
  try {
    const m1 = bank.get(symbol, '1m');
    const bad = m1?.files.filter((f) => damagedPaths.has(f.path)) ?? [];
    if (bad.length) await refetch1m(deps, symbol, bad, res, opts, route);
    // Damaged derived files are rebuilt whole from 1m; a sound one is rewritten only when the
    // 1m it came from changed (so a repair interrupted after its 1m commit finishes here).
    const intervals = bank
      .list()
      .filter((d) => d.symbol === symbol && d.kind === 'candles' && d.interval !== '1m')
      .filter(
        (d) =>
          d.files.some((f) => damagedPaths.has(f.path)) ||
          d.sourceChecksum !== bank.datasetChecksum(symbol, '1m'),
      )
      .map((d) => d.interval);
    if (intervals.length && bank.get(symbol, '1m')?.rows) {
      say(`deriving ${intervals.join(', ')}`);
      const out = await bank.derive(symbol, intervals);
      res.rebuilt.push(...out.filter((r) => r.written).map((r) => `${symbol}/${r.interval}`));
    }
    const caches = bank
      .list()
      .filter(
        (d) =>
          d.symbol === symbol &&
          d.kind === 'indicator' &&
          d.indicator &&
          d.files.some((f) => damagedPaths.has(f.path)),
      );
    if (caches.length) {
      const s = await updateIndicators(bank, {
        symbols: [symbol],
        intervals: [],
        indicators: [],
        items: caches.map((c) => ({
          symbol,
          interval: c.interval,
          indicator: { name: c.indicator!.name, params: c.indicator!.params },
        })),
      });
      res.rebuilt.push(...s.items.filter((i) => i.status !== 'failed').map((i) => i.id));
    }
    const refreshed = await refreshStaleIndicators(bank, symbol);
    if (refreshed)
      res.rebuilt.push(...refreshed.items.filter((i) => i.status === 'updated').map((i) => i.id));
    res.rebuilt = [...new Set(res.rebuilt)];
  } catch (e) {
    const err = e as Error & { code?: unknown };
    res.error = {
      code: typeof err.code === 'string' ? err.code : 'INTERNAL',
      message: err.message,
    };
  }
  say('verifying the result');
  res.remaining = (await bank.verify({ symbols: [symbol], signal: opts.signal })).filter(
    (i) => i.status !== 'ok',
  );
  res.ok = !res.error && res.remaining.length === 0;
  return res;
}

/**
 * Fetches the damaged 1m months again (archive or REST, as ingest plans them, each standing in
 * for the other), one month at a time in memory, and swaps each in with one journaled write:
 * nothing is removed before its replacement is committed, so an interruption leaves every month
 * not yet swapped exactly as damaged as before, still recorded so.
 */
async function refetch1m(
  deps: IngestDeps,
  symbol: string,
  bad: readonly FileEntry[],
  res: RepairResult,
  opts: RepairOptions,
  route: SourceRoute,
): Promise<void> {
  const { bank } = deps;
  /** Damaged months not swapped in yet: never read as a neighbour of the month being written. */
  const replace = new Set(bad.map((f) => f.path));
  let now: number | undefined;
  // The series' own market: its client, its symbol (or pair) at the exchange, its kline kind.
  const series = parseSeriesKey(symbol) ?? { market: 'spot', kind: 'klines', symbol };
  const market: IngestDeps =
    series.market === deps.rest.market
      ? deps
      : { ...deps, rest: deps.restFor?.(series.market) ?? deps.rest };
  if (market.rest.market !== series.market)
    throw new ThreadxError(
      'INVALID_PARAMS',
      `${symbol} is a ${series.market} series and this repair has no ${series.market} exchange client`,
      `Run "threadx repair --symbol ${series.symbol} --market ${series.market}".`,
    );
  for (const f of bad) {
    if (f.first === null || f.last === null) continue;
    const range: Range = [f.first, f.last + MINUTE_MS];
    const parts: Candles[] = [];
    const empty: Range[] = [];
    opts.onProgress?.(
      symbol,
      `fetching ${new Date(range[0]).toISOString()} .. ${new Date(range[1]).toISOString()}`,
    );
    try {
      now ??= await market.rest.serverTime({ signal: opts.signal });
      const plan = planRanges(
        symbol,
        subtractRanges([range], bank.confirmedEmpty(symbol)),
        'auto',
        now,
        undefined,
        series.market,
      );
      await fetchSteps(market, series.symbol, plan.steps, {
        kind: series.kind,
        mode: 'auto',
        signal: opts.signal,
        route,
        counts: { requests: 0, archiveFiles: 0, rangesFetched: 0 },
        countRequests: () => undefined,
        onData: async (c, e) => {
          if (c.length) parts.push(c);
          empty.push(...e);
        },
        report: (m) => opts.onProgress?.(symbol, m),
      });
    } catch (e) {
      if (opts.signal?.aborted) throw e;
      const err = e as Error & { code?: unknown };
      throw new ThreadxError(
        codeOf(typeof err.code === 'string' ? err.code : 'NETWORK', 'NETWORK'),
        `${symbol} could not be fetched again (${err.message}). Nothing was removed: ${f.path} is still recorded as damaged, and the rest of the bank is sound. Run "threadx repair --symbol ${symbol}" again when the exchange is reachable.`,
        undefined,
        { symbol, file: f.path, start: range[0], end: range[1] },
      );
    }
    const fresh = sortUnique(concatCandles(parts));
    if (fresh.length === 0)
      throw new ThreadxError(
        'NOT_FOUND',
        `The exchange serves no candles of ${symbol} for ${f.path}. Nothing was removed: the month is still recorded as damaged.`,
        undefined,
        { symbol, file: f.path, start: range[0], end: range[1] },
      );
    opts.onProgress?.(symbol, `writing ${fresh.length} candle(s)`);
    // What the exchange confirmed empty is recorded first: the write fills only those minutes.
    await bank.addConfirmedEmpty(symbol, empty);
    await bank.write1m(symbol, fresh, 'repair', { replace: [...replace] });
    replace.delete(f.path);
    res.refetched.push(range);
  }
}

/** `code` when the error table knows it, else `fallback`. */
function codeOf(code: string, fallback: ErrorCodeName): ErrorCodeName {
  return isErrorCode(code) ? code : fallback;
}
