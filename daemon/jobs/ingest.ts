import { estimateSeconds } from '../../schemas/contracts.ts';
import {
  type KlineKind,
  type Market,
  MARKET_NAMES,
  kindsOf,
  klinesPage,
  klinesWeight,
  seriesKey,
} from '../../schemas/markets.ts';
import { ThreadxError } from '../../schemas/errors.ts';
import pLimit from 'p-limit';
import type { Candles } from '../../schemas/candles.ts';
import { concatCandles } from '../../schemas/candles.ts';
import type { Config } from '../../schemas/config.ts';
import {
  type Interval,
  DERIVED_INTERVALS,
  MINUTE_MS,
  DAY_MS,
  bucketStart,
  nextBucketStart,
} from '../../schemas/intervals.ts';
import type { DatasetEntry, Range } from '../../schemas/registry.ts';
import { mergeRanges, subtractRanges } from '../engine/gaps.ts';
import { sortUnique } from '../engine/merge.ts';
import type { Bank } from '../store/bank.ts';
import {
  type BinanceRestClient,
  FINAL_AFTER_MS,
  fetchRange1m,
  requestsFor,
  settledByClock,
} from '../sources/rest.ts';
import { type ArchivePiece, downloadArchive, planArchive } from '../sources/archive.ts';
import { SourceError } from '../sources/errors.ts';
import { groupSymbols, resolveSymbols, topSymbols, type SymbolStatus } from './universe.ts';
import { refreshStaleIndicators } from './indicators.ts';

/**
 * The ingest pipeline. Per symbol: plan the missing 1m ranges from the registry (holes in the
 * middle included, ranges confirmed empty at the exchange excluded) -> fetch (archive files for
 * complete past periods, REST for the rest) -> validate -> merge -> fill short gaps -> atomic
 * partition writes -> re-derive the affected buckets of each requested timeframe -> registry.
 * Data is written every few thousand candles, so an interrupted job keeps what it fetched and a
 * re-run downloads only what is still missing.
 */

export type SourceMode = 'auto' | 'rest' | 'archive';

export interface IngestRequest {
  symbols?: string[];
  top?: number;
  group?: string;
  intervals: Interval[];
  /** Window start (ms, UTC). */
  start: number;
  /** Window end, exclusive (ms); default: now. The still-open minute is never included. */
  end?: number;
  source?: SourceMode;
  concurrency?: number;
  quote?: string;
  /** The market (default spot); `deps.rest` must be that market's client. */
  market?: Market;
  /** The kline kind (default trade klines); index klines are asked for by pair. */
  kind?: KlineKind;
}

export interface IngestDeps {
  bank: Bank;
  config: Config;
  /** The exchange client of the market being ingested. */
  rest: BinanceRestClient;
  /** Another market's client (repair of a bank holding several markets). */
  restFor?: (market: Market) => BinanceRestClient;
  archiveBaseUrl?: string;
  fetch?: typeof fetch;
  log?: (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void;
}

export interface FetchStep {
  kind: 'rest' | 'archive-monthly' | 'archive-daily';
  start: number;
  end: number;
  /** Archive period key (YYYY-MM or YYYY-MM-DD). */
  key?: string;
  requests: number;
  weight: number;
}

export interface SymbolPlan {
  /** The series' bank key (`seriesKey`): the symbol for spot trade klines. */
  symbol: string;
  /** The symbol (or pair) the exchange is asked about, when it differs from `symbol`. */
  exchangeSymbol?: string;
  missing: Range[];
  minutes: number;
  steps: FetchStep[];
  requests: number;
  weight: number;
  /** A delivered contract: its delivery, and the window's minutes after it (never fetched). */
  afterDelivery?: AfterDelivery;
}

/**
 * The minutes of a window after its contract's delivery: a class of their own, neither missing
 * nor failed, since the contract has no candle after it.
 */
export interface AfterDelivery {
  deliveredAt: number;
  minutes: number;
}

export interface IngestPlan {
  window: Range;
  symbols: SymbolPlan[];
  /** Symbols that will not be downloaded, with the reason (unknown, not trading). */
  skipped: SymbolStatus[];
  requests: number;
  weight: number;
  archiveFiles: number;
  estimatedSeconds: number;
  ranking?: { kind: 'volume' | 'market-cap+volume'; note: string };
}

export interface SymbolResult {
  symbol: string;
  ok: boolean;
  rowsAdded: number;
  rangesFetched: number;
  requests: number;
  archiveFiles: number;
  gaps: number;
  filled: number;
  seconds: number;
  derived: Interval[];
  error?: { code: string; message: string };
  afterDelivery?: AfterDelivery;
}

export interface IngestSummary {
  plan: IngestPlan;
  results: SymbolResult[];
  skipped: SymbolStatus[];
  /** What a person should know about the whole job, one sentence each (a source rerouted). */
  notes: string[];
  cancelled: boolean;
  seconds: number;
}

export interface IngestProgress {
  symbol?: string;
  phase: 'plan' | 'fetch' | 'write' | 'derive' | 'done' | 'error' | 'skipped';
  message: string;
  requestsDone: number;
  requestsTotal: number;
  rows: number;
  symbolsDone: number;
  symbolsTotal: number;
  /** This symbol's requests done and planned (REST pages, archive files and checksums). */
  symbolRequestsDone?: number;
  symbolRequestsTotal?: number;
}

/** Ranges shorter than a day go to REST even in auto mode: one request beats a day's archive. */
const ARCHIVE_MIN_MS = DAY_MS;
/** REST chunk length (20 pages of the market) and how many chunks of one symbol run at once. */
const CHUNK_PAGES = 20;
const CHUNKS_IN_PARALLEL = 3;
/** Candles buffered before a write, so an interruption loses at most this much work. */
const FLUSH_ROWS = 20_000;

/** A failure of an ingest request (bad window or selection, or a derived check that failed). */
export class IngestError extends ThreadxError {
  override readonly name = 'IngestError';
}

/** The 1m ranges a dataset holds: its files' spans minus their gaps (filled gaps count as missing). */
export function presentRanges(entry: DatasetEntry | undefined): Range[] {
  if (!entry) return [];
  const spans: Range[] = entry.files
    .filter((f) => f.first !== null && f.last !== null)
    .map((f) => [f.first!, f.last! + MINUTE_MS]);
  const holes = mergeRanges(entry.files.flatMap((f) => f.gaps.map((g): Range => [g.start, g.end])));
  return subtractRanges(mergeRanges(spans), holes);
}

async function universe(
  deps: IngestDeps,
  req: IngestRequest,
  signal?: AbortSignal,
): Promise<{ statuses: SymbolStatus[]; ranking?: IngestPlan['ranking'] }> {
  const given = [req.symbols?.length ? 1 : 0, req.top ? 1 : 0, req.group ? 1 : 0].reduce(
    (a, b) => a + b,
    0,
  );
  if (given !== 1)
    throw new IngestError('INVALID_PARAMS', 'choose exactly one of symbols, top or group');
  if (req.top) {
    const top = await topSymbols(deps.rest, req.top, {
      quote: req.quote,
      marketCapUrl: deps.config.data.api.market_cap_url,
      fetch: deps.fetch,
      signal,
    });
    return {
      statuses: await resolveSymbols(
        deps.rest,
        top.symbols.map((s) => s.symbol),
        signal,
      ),
      ranking: { kind: top.ranking, note: top.note },
    };
  }
  const list = req.group ? groupSymbols(deps.config, req.group) : req.symbols!;
  return {
    statuses: await resolveSymbols(deps.rest, [...new Set(list)], signal, {
      byPair: req.kind === 'index',
    }),
  };
}

function planSymbol(
  deps: IngestDeps,
  status: SymbolStatus,
  window: Range,
  mode: SourceMode,
  now: number,
  req: IngestRequest,
): SymbolPlan {
  const { symbol, deliveredAt } = status;
  const market = req.market ?? 'spot';
  const key = seriesKey({ market, kind: req.kind ?? 'klines', symbol });
  const entry = deps.bank.get(key, '1m');
  const skip = mergeRanges([...presentRanges(entry), ...deps.bank.confirmedEmpty(key)]);
  // A delivered contract's klines end at its delivery: the window stops there.
  const [start, end] = window;
  const until = deliveredAt === undefined ? end : Math.min(end, deliveredAt);
  const plan = planRanges(
    key,
    start < until ? subtractRanges([[start, until]], skip) : [],
    mode,
    now,
    finalAfterMs(deps.config),
    market,
  );
  if (deliveredAt !== undefined && end > deliveredAt)
    plan.afterDelivery = {
      deliveredAt,
      minutes: (end - Math.max(start, deliveredAt)) / MINUTE_MS,
    };
  return key === symbol ? plan : { ...plan, exchangeSymbol: symbol };
}

/** Refuses a series the market does not publish and a client of another market. */
function checkSeries(deps: IngestDeps, req: IngestRequest): void {
  const market = req.market ?? 'spot';
  const kind = req.kind ?? 'klines';
  if (deps.rest.market !== market)
    throw new IngestError(
      'INVALID_PARAMS',
      `the exchange client is for ${MARKET_NAMES[deps.rest.market]}, not ${MARKET_NAMES[market]}`,
    );
  if (!kindsOf(market).includes(kind))
    throw new IngestError(
      'INVALID_PARAMS',
      `${MARKET_NAMES[market]} has no ${kind} klines`,
      `Spot has trade klines only: pick --market um or --market cm for ${kind} klines.`,
      { market, kind },
    );
}

/** See `FINAL_AFTER_MS` in sources/rest.ts. */
function finalAfterMs(config: Config): number {
  return config.data.api.final_after_minutes * MINUTE_MS;
}

/**
 * How `missing` 1m ranges of `symbol` are fetched: archive files for complete past periods (in
 * `auto` and `archive` modes), REST for the rest and for ranges shorter than a day. REST requests
 * are counted as the fetch makes them at `now` (see `requestsFor`).
 */
export function planRanges(
  symbol: string,
  missing: Range[],
  mode: SourceMode,
  now: number,
  finalAfter: number = FINAL_AFTER_MS,
  market: Market = 'spot',
): SymbolPlan {
  const steps: FetchStep[] = [];
  for (const [start, end] of missing) {
    if (mode === 'rest' || (mode === 'auto' && end - start < ARCHIVE_MIN_MS)) {
      steps.push(restStepOf(start, end, now, finalAfter, market));
      continue;
    }
    const p = planArchive(start, end, now);
    for (const piece of [...p.months, ...p.days]) {
      steps.push({
        kind: piece.kind === 'monthly' ? 'archive-monthly' : 'archive-daily',
        start: piece.start,
        end: piece.end,
        key: piece.key,
        requests: 2,
        weight: 0,
      });
    }
    if (p.rest && mode === 'auto')
      steps.push(restStepOf(p.rest.start, p.rest.end, now, finalAfter, market));
  }
  const minutes = missing.reduce((a, [s, e]) => a + (e - s) / MINUTE_MS, 0);
  return {
    symbol,
    missing,
    minutes,
    steps,
    requests: steps.reduce((a, s) => a + s.requests, 0),
    weight: steps.reduce((a, s) => a + s.weight, 0),
  };
}

/**
 * A REST step over [start, end): one request per page of klines, and room in the last page for
 * the row that proves a last minute too recent at `now` to be final by the clock. By default
 * (an archive period fetched over REST instead) the range is long closed.
 */
function restStepOf(
  start: number,
  end: number,
  now = Infinity,
  finalAfter = FINAL_AFTER_MS,
  market: Market = 'spot',
): FetchStep {
  const page = klinesPage(market);
  const requests = requestsFor(start, end, now, finalAfter, page);
  return { kind: 'rest', start, end, requests, weight: requests * klinesWeight(market, page) };
}

/** What a job would download, computed from the registry alone: downloads nothing. */
export async function planIngest(
  deps: IngestDeps,
  req: IngestRequest,
  signal?: AbortSignal,
): Promise<IngestPlan> {
  if (!(req.start >= 0)) throw new IngestError('INVALID_DATE', 'start must be a UTC time');
  checkSeries(deps, req);
  const serverTime = await deps.rest.serverTime({ signal });
  const lastClosed = Math.floor(serverTime / MINUTE_MS) * MINUTE_MS;
  const start = Math.floor(req.start / MINUTE_MS) * MINUTE_MS;
  const end = Math.min(req.end ?? lastClosed, lastClosed);
  if (start >= lastClosed)
    throw new IngestError(
      'INVALID_RANGE',
      `The start ${new Date(start).toISOString()} is not before the exchange's current time ${new Date(serverTime).toISOString()}: nothing has closed since.`,
      'Give an earlier --start.',
      { start, serverTime },
    );
  if (end <= start)
    throw new IngestError(
      'INVALID_RANGE',
      `the window is empty: start ${new Date(start).toISOString()} is not before end ${new Date(end).toISOString()} (the exchange's last closed minute)`,
      'Pick a start before the end and before now.',
      { start, end, lastClosed },
    );
  const { statuses, ranking } = await universe(deps, req, signal);
  const mode = req.source ?? 'auto';
  const symbols = statuses
    .filter((s) => s.ok)
    .map((s) => planSymbol(deps, s, [start, end], mode, serverTime, req));
  const requests = symbols.reduce((a, s) => a + s.requests, 0);
  const weight = symbols.reduce((a, s) => a + s.weight, 0);
  const archiveFiles = symbols.reduce(
    (a, s) => a + s.steps.filter((x) => x.kind !== 'rest').length,
    0,
  );
  const { limit, windowMs } = deps.rest.governor.limits;
  const budgetPerSecond =
    (limit * (1 - deps.config.data.api.weight_safety_margin)) / (windowMs / 1000);

  return {
    window: [start, end],
    symbols,
    skipped: statuses.filter((s) => !s.ok),
    requests,
    weight,
    archiveFiles,
    estimatedSeconds: estimateSeconds({
      requests,
      archives: archiveFiles,
      weight,
      concurrency: req.concurrency ?? deps.config.data.api.concurrency,
      weightPerSecond: budgetPerSecond,
    }),
    ...(ranking ? { ranking } : {}),
  };
}

/** Runs the plan: fetch, validate, merge, fill, write, derive, per symbol in parallel. */
export async function runIngest(
  deps: IngestDeps,
  req: IngestRequest,
  opts: { signal?: AbortSignal; onProgress?: (p: IngestProgress) => void; plan?: IngestPlan } = {},
): Promise<IngestSummary> {
  const t0 = performance.now();
  const plan = opts.plan ?? (await planIngest(deps, req, opts.signal));
  const total = { requests: plan.requests, done: 0, symbolsDone: 0, symbols: plan.symbols.length };
  const report = (
    p: Omit<IngestProgress, 'requestsDone' | 'requestsTotal' | 'symbolsDone' | 'symbolsTotal'>,
  ): void =>
    opts.onProgress?.({
      ...p,
      requestsDone: total.done,
      requestsTotal: total.requests,
      symbolsDone: total.symbolsDone,
      symbolsTotal: total.symbols,
    });
  for (const s of plan.skipped)
    report({ symbol: s.symbol, phase: 'skipped', message: s.reason ?? s.status, rows: 0 });
  const limit = pLimit(req.concurrency ?? deps.config.data.api.concurrency);
  const route = new SourceRoute();
  const results = await Promise.all(
    plan.symbols.map((sp) =>
      limit(async () => {
        let mine = 0;
        const mineReport: typeof report = (p) =>
          report({ ...p, symbolRequestsDone: mine, symbolRequestsTotal: sp.requests });
        const count = (n: number): void => {
          total.done += n;
          mine += n;
        };
        const r = await ingestSymbol(
          deps,
          req,
          sp,
          { signal: opts.signal, route },
          count,
          mineReport,
        );
        total.symbolsDone++;
        mineReport({
          symbol: sp.symbol,
          phase: r.ok ? 'done' : 'error',
          message: r.ok ? `${r.rowsAdded} new candle(s)` : (r.error?.message ?? 'failed'),
          rows: r.rowsAdded,
        });
        return r;
      }),
    ),
  );
  return {
    plan,
    results,
    skipped: plan.skipped,
    notes: [...route.notes(), ...deliveryNotes(plan)],
    cancelled: Boolean(opts.signal?.aborted),
    seconds: Math.round((performance.now() - t0) / 100) / 10,
  };
}

/** One sentence per delivered contract whose window runs past its delivery. */
function deliveryNotes(plan: IngestPlan): string[] {
  return plan.symbols.flatMap((s) =>
    s.afterDelivery
      ? [
          `${s.symbol} was delivered at ${new Date(s.afterDelivery.deliveredAt).toISOString()}: its last candle is final, and the ${s.afterDelivery.minutes} minute(s) of the window after delivery have no candle (after delivery, not missing).`,
        ]
      : [],
  );
}

/**
 * The minutes from a delivery to the end of the coarsest bucket it falls in: the exchange has
 * no candle there, so the last bucket of every timeframe is whole at delivery.
 */
function afterDeliveryRange(deliveredAt: number): Range {
  let end = deliveredAt;
  for (const iv of DERIVED_INTERVALS) {
    const open = bucketStart(deliveredAt, iv);
    if (open < deliveredAt) end = Math.max(end, nextBucketStart(open, iv));
  }
  return [deliveredAt, end];
}

async function ingestSymbol(
  deps: IngestDeps,
  req: IngestRequest,
  sp: SymbolPlan,
  opts: { signal?: AbortSignal; route: SourceRoute },
  countRequests: (n: number) => void,
  report: (
    p: Omit<IngestProgress, 'requestsDone' | 'requestsTotal' | 'symbolsDone' | 'symbolsTotal'>,
  ) => void,
): Promise<SymbolResult> {
  const t0 = performance.now();
  const { bank } = deps;
  const { signal } = opts;
  const res: SymbolResult = {
    symbol: sp.symbol,
    ok: false,
    rowsAdded: 0,
    rangesFetched: 0,
    requests: 0,
    archiveFiles: 0,
    gaps: 0,
    filled: 0,
    seconds: 0,
    derived: [],
    ...(sp.afterDelivery ? { afterDelivery: sp.afterDelivery } : {}),
  };
  let lo = Infinity;
  let hi = -Infinity;
  let buffer: Candles[] = [];
  let buffered = 0;
  let empty: Range[] = [];
  // Writes of one symbol are serialised (the bank merges month by month); pages arriving from
  // concurrent chunks are sorted before each write.
  let writing: Promise<void> = Promise.resolve();
  const flush = (): Promise<void> => {
    const parts = buffer;
    const emptyNow = empty;
    buffer = [];
    buffered = 0;
    empty = [];
    writing = writing.then(async () => {
      // Confirmed empty first: a write fills only the minutes the exchange confirmed missing.
      await bank.addConfirmedEmpty(sp.symbol, emptyNow);
      if (parts.length > 0) {
        const c = sortUnique(concatCandles(parts));
        report({
          symbol: sp.symbol,
          phase: 'write',
          message: `writing ${c.length} candle(s)`,
          rows: res.rowsAdded,
        });
        const w = await bank.write1m(sp.symbol, c, 'rest');
        res.rowsAdded += w.rowsAdded;
        lo = Math.min(lo, c.openTime[0]);
        hi = Math.max(hi, c.openTime[c.length - 1] + MINUTE_MS);
      }
      // Minutes confirmed empty can complete a pending bucket: derive over them too.
      for (const [s, e] of emptyNow) {
        lo = Math.min(lo, s);
        hi = Math.max(hi, e);
      }
    });
    return writing;
  };
  const add = async (c: Candles, emptyRanges: Range[]): Promise<void> => {
    if (c.length > 0) {
      buffer.push(c);
      buffered += c.length;
    }
    empty.push(...emptyRanges);
    if (buffered >= FLUSH_ROWS) await flush();
  };
  // After delivery the exchange has no candle: those minutes are known, so the buckets that
  // hold the last candle are whole.
  if (sp.afterDelivery) {
    const [s, e] = afterDeliveryRange(sp.afterDelivery.deliveredAt);
    if (e > s) empty.push([s, e]);
  }
  try {
    await fetchSteps(deps, sp.exchangeSymbol ?? sp.symbol, sp.steps, {
      kind: req.kind ?? 'klines',
      mode: req.source ?? 'auto',
      signal,
      route: opts.route,
      counts: res,
      countRequests,
      onData: add,
      report: (message) =>
        report({ symbol: sp.symbol, phase: 'fetch', message, rows: res.rowsAdded + buffered }),
    });
    await flush();
    await derive(deps, req, sp.symbol, lo, hi, res, report);
    res.ok = true;
  } catch (e) {
    // What was fetched before the failure is kept: write it, then report the error.
    try {
      await flush();
      if (res.rowsAdded > 0) await derive(deps, req, sp.symbol, lo, hi, res, report);
    } catch (inner) {
      deps.log?.('error', `${sp.symbol}: could not save fetched data: ${(inner as Error).message}`);
    }
    const err = e as Error & { code?: string };
    res.error = {
      code: signal?.aborted ? 'CANCELLED' : (err.code ?? 'FAILED'),
      message: signal?.aborted ? 'cancelled' : err.message,
    };
  }
  const entry = bank.get(sp.symbol, '1m');
  res.gaps = entry?.gaps.filter((g) => !g.filled).length ?? 0;
  res.filled = entry?.filledCount ?? 0;
  res.seconds = Math.round((performance.now() - t0) / 100) / 10;
  return res;
}

/**
 * A job's view of its two sources. The archive's first network failure (after the retries) marks
 * it unreachable: that file and every later archive file of the job are fetched over REST
 * instead. A file the archive does not publish (404) falls back alone. A REST range that fails
 * for the network and lies in complete past days is read from the archive. The job's summary
 * says each once.
 */
export class SourceRoute {
  /** Why the archive could not be reached, from its first network failure; null while it can. */
  unreachable: string | null = null;
  /** Archive files fetched over REST instead because the archive could not be reached. */
  rerouted = 0;
  /** Why REST failed for ranges the archive then covered, from the first such failure. */
  restFailed: string | null = null;
  /** REST ranges read from the archive instead. */
  fromArchive = 0;

  /** What a person should know, one sentence each: empty when nothing was rerouted. */
  notes(): string[] {
    return [
      ...(this.unreachable
        ? [
            `The archive could not be reached (${this.unreachable}); ${this.rerouted} archive file(s) were fetched from the REST API instead.`,
          ]
        : []),
      ...(this.restFailed
        ? [
            `The REST API failed (${this.restFailed}); ${this.fromArchive} range(s) were read from the archive instead.`,
          ]
        : []),
    ];
  }
}

/** Archive failures that say the host cannot be reached, not that a file is wrong. */
const UNREACHABLE = new Set(['NETWORK', 'TIMEOUT', 'SERVER_ERROR', 'FORBIDDEN']);

export interface FetchCounts {
  requests: number;
  archiveFiles: number;
  rangesFetched: number;
}

/**
 * Fetches a symbol's planned steps (archive files first, then REST in chunks a few at a time)
 * and hands every batch of candles, with the minutes the exchange confirmed empty, to `onData`.
 * In `auto` mode an archive file that is not published or cannot be reached is fetched from
 * REST instead. Every chunk has stopped before this returns or throws.
 */
export async function fetchSteps(
  deps: IngestDeps,
  symbol: string,
  steps: readonly FetchStep[],
  opts: {
    mode: SourceMode;
    signal?: AbortSignal;
    /** Shared by the job's symbols, so an unreachable archive is tried once, not per file. */
    route?: SourceRoute;
    counts: FetchCounts;
    countRequests: (n: number) => void;
    onData: (c: Candles, empty: Range[]) => Promise<void>;
    report: (message: string) => void;
    /** The kline kind (default trade klines) of `deps.rest`'s market. */
    kind?: KlineKind;
  },
): Promise<void> {
  const { signal, counts } = opts;
  const route = opts.route ?? new SourceRoute();
  const market = deps.rest.market;
  const kind = opts.kind ?? 'klines';
  const restStep = (start: number, end: number): FetchStep =>
    restStepOf(start, end, Infinity, FINAL_AFTER_MS, market);
  const chunkMs = CHUNK_PAGES * deps.rest.pageRows * MINUTE_MS;
  const fromArchive = async (piece: ArchivePiece): Promise<void> => {
    opts.report(`archive ${piece.key}`);
    opts.countRequests(2);
    const file = await downloadArchive(symbol, piece, {
      market,
      klineKind: kind,
      baseUrl: deps.archiveBaseUrl,
      fetch: deps.fetch,
      signal,
      maxRetries: deps.config.data.api.max_retries,
      retryDelay: deps.config.data.api.retry_delay,
    });
    counts.archiveFiles++;
    counts.rangesFetched++;
    await opts.onData(file.candles, emptyInside(file.candles, piece.start, piece.end));
  };
  const restSteps: FetchStep[] = [];
  for (const step of steps) {
    if (step.kind === 'rest') {
      restSteps.push(step);
      continue;
    }
    signal?.throwIfAborted();
    if (route.unreachable && opts.mode === 'auto') {
      route.rerouted++;
      restSteps.push(restStep(step.start, step.end));
      continue;
    }
    try {
      await fromArchive({
        kind: step.kind === 'archive-monthly' ? 'monthly' : 'daily',
        key: step.key!,
        start: step.start,
        end: step.end,
      });
    } catch (e) {
      if (!(e instanceof SourceError) || opts.mode !== 'auto' || signal?.aborted) throw e;
      if (e.code === 'NOT_FOUND') {
        deps.log?.('info', `${symbol}: archive ${step.key} not published; using REST`);
      } else if (UNREACHABLE.has(e.code)) {
        if (!route.unreachable) {
          route.unreachable = e.message;
          deps.log?.('warn', `the archive cannot be reached (${e.message}); using REST instead`);
        }
        route.rerouted++;
      } else throw e;
      restSteps.push(restStep(step.start, step.end));
    }
  }
  // REST ranges in chunks fetched a few at a time: one symbol's pages are otherwise strictly
  // sequential, and the last symbols of a batch would leave the rate budget unused.
  if (restSteps.length === 0) return;
  const serverTime = await deps.rest.serverTime({ signal });
  const finalAfter = finalAfterMs(deps.config);
  const chunks: Range[] = [];
  for (const step of restSteps) {
    counts.rangesFetched++;
    for (let t = step.start; t < step.end;) {
      let e = Math.min(step.end, t + chunkMs);
      // A chunk never ends on a minute too recent to be final by the clock: only the row after
      // it would prove it, which is the next chunk's. The last chunk runs to the end instead.
      if (e < step.end && !settledByClock(e - MINUTE_MS, serverTime, finalAfter)) e = step.end;
      chunks.push([t, e]);
      t = e;
    }
  }
  const inSymbol = pLimit(CHUNKS_IN_PARALLEL);
  // allSettled: every chunk has stopped before the symbol's data is written or reported.
  const settled = await Promise.allSettled(
    chunks.map(([start, end]) =>
      inSymbol(() =>
        fetchRange1m(deps.rest, symbol, start, end, {
          kind,
          signal,
          serverTime,
          finalAfterMs: finalAfter,
          onPage: async (e) => {
            counts.requests++;
            opts.countRequests(1);
            await opts.onData(
              e.candles,
              e.emptyRanges.map((x): Range => [x.start, x.end]),
            );
            opts.report(`${counts.requests} request(s)`);
          },
        }),
      ),
    ),
  );
  const failed = chunks.filter((_, i) => settled[i].status === 'rejected');
  if (failed.length === 0) return;
  const reason = (settled.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason;
  // REST failed where the archive publishes complete days: read those days from the archive.
  const pieces = failed.map(([start, end]) => planArchive(start, end, serverTime));
  if (
    opts.mode !== 'auto' ||
    signal?.aborted ||
    route.unreachable ||
    !(reason instanceof SourceError && UNREACHABLE.has(reason.code)) ||
    pieces.some((p) => p.rest !== null)
  )
    throw reason;
  deps.log?.('warn', `${symbol}: the REST API failed (${reason.message}); using the archive`);
  for (const p of pieces) {
    for (const piece of [...p.months, ...p.days]) {
      try {
        await fromArchive(piece);
      } catch {
        throw reason;
      }
    }
  }
  route.restFailed ??= reason.message;
  route.fromArchive += failed.length;
}

async function derive(
  deps: IngestDeps,
  req: IngestRequest,
  symbol: string,
  lo: number,
  hi: number,
  res: SymbolResult,
  report: (
    p: Omit<IngestProgress, 'requestsDone' | 'requestsTotal' | 'symbolsDone' | 'symbolsTotal'>,
  ) => void,
): Promise<void> {
  const { bank } = deps;
  if (!bank.get(symbol, '1m')) return;
  // Every stored timeframe of the symbol follows its 1m, not only the ones asked for now: a
  // derived file is never older than the history it was derived from.
  const stored = DERIVED_INTERVALS.filter(
    (iv) => bank.get(symbol, iv) && !req.intervals.includes(iv),
  );
  const intervals = [...req.intervals.filter((i) => i !== '1m'), ...stored];
  const fresh = intervals.filter((i) => !bank.get(symbol, i));
  const stale = Number.isFinite(lo) ? intervals.filter((i) => bank.get(symbol, i)) : [];
  if (fresh.length + stale.length === 0) return;
  report({
    symbol,
    phase: 'derive',
    message: `deriving ${[...fresh, ...stale].join(', ')}`,
    rows: res.rowsAdded,
  });
  if (fresh.length) await bank.derive(symbol, fresh);
  if (stale.length) await bank.derive(symbol, stale, [lo, hi]);
  if (deps.config.data.processing.resample_validation) {
    for (const iv of [...fresh, ...stale]) {
      const check = Number.isFinite(lo) ? await bank.checkRange(symbol, iv, lo, hi) : { total: 0 };
      if (check.total > 0)
        throw new IngestError(
          'STORAGE',
          `${symbol}/${iv}: ${check.total} derived candle(s) differ from 1m after writing`,
        );
    }
  }
  res.derived = [...fresh, ...stale];
  // Indicator caches computed from a timeframe that just changed are recomputed with it.
  if (Number.isFinite(lo)) await refreshStaleIndicators(bank, symbol);
}

/** Minutes of [start, end) with no candle in `c` (sorted), as ranges. */
function emptyInside(c: Candles, start: number, end: number): Range[] {
  const out: Range[] = [];
  let expect = start;
  for (let i = 0; i < c.length; i++) {
    if (c.openTime[i] > expect) out.push([expect, c.openTime[i]]);
    expect = c.openTime[i] + MINUTE_MS;
  }
  if (expect < end) out.push([expect, end]);
  return out;
}
