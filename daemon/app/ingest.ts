/**
 * The ingest use cases: plan (what is missing, how many requests, how long) and run (under the
 * symbols' write locks, with progress per symbol, then the configured indicators refreshed).
 * Inputs are the protocol's validated params; results are the protocol's result shapes.
 */
import type { Config } from '../../schemas/config.ts';
import type { Interval } from '../../schemas/intervals.ts';
import {
  type ParsedParams,
  type Result,
  type SymbolProgress,
  ErrorCodes,
} from '../../schemas/protocol.ts';
import { errorFromReport } from '../../schemas/errors.ts';
import {
  type IngestPlan,
  type IngestProgress,
  type IngestRequest,
  type IngestSummary,
  planIngest,
  runIngest,
} from '../jobs/ingest.ts';
import { refreshAfterIngest } from '../jobs/indicators.ts';
import { groupSymbols, topSymbols } from '../jobs/universe.ts';
import type { JobContext, Services } from './services.ts';

/** `ingest/plan`: what a run would fetch. */
export async function planIngestUseCase(
  svc: Services,
  p: ParsedParams<'ingest/plan'>,
  ctx: Pick<JobContext, 'signal'>,
): Promise<Result<'ingest/plan'>> {
  return toPlanResult(
    await planIngest(svc.ingestDeps(), ingestRequest(p, svc.state.config), ctx.signal),
  );
}

/**
 * `ingest/run`: learns the symbols (the exchange's top N is asked once), locks them, plans under
 * the lock (a job that held them may have filled some of what was missing), runs, and refreshes
 * the configured indicators.
 */
export async function runIngestUseCase(
  svc: Services,
  p: ParsedParams<'ingest/run'>,
  ctx: JobContext,
): Promise<Result<'ingest/run'>> {
  const { config } = svc.state;
  const deps = svc.ingestDeps();
  const req = ingestRequest(p, config);
  if (p.dryRun) return dryRunResult(await planIngest(deps, req, ctx.signal));
  let ranking: IngestPlan['ranking'];
  let symbols: string[];
  if (req.top) {
    const top = await topSymbols(deps.rest, req.top, {
      quote: req.quote,
      marketCapUrl: config.data.api.market_cap_url,
      ...(deps.fetch ? { fetch: deps.fetch } : {}),
      signal: ctx.signal,
    });
    symbols = top.symbols.map((s) => s.symbol);
    ranking = { kind: top.ranking, note: top.note };
  } else {
    symbols = req.symbols ?? groupSymbols(config, req.group!);
  }
  const lockReq: IngestRequest = { ...req, top: undefined, group: undefined, symbols };
  ctx.progress.begin(`Ingest ${symbols.length} symbol(s)`, 'planning');
  return svc.writing(symbols, 'ingest', ctx, async () => {
    const plan = await planIngest(deps, lockReq, ctx.signal);
    if (ranking) plan.ranking = ranking;
    // Every symbol's state from the start: queued with its planned requests.
    ctx.progress.report(
      0,
      plan.requests,
      `0/${plan.symbols.length} symbols`,
      plan.symbols.map((s) => ({
        symbol: s.symbol,
        phase: 'queued',
        rows: 0,
        requestsDone: 0,
        requestsTotal: s.requests,
      })),
    );
    const summary = await runIngest(deps, lockReq, {
      signal: ctx.signal,
      plan,
      onProgress: (e) => {
        ctx.progress.report(
          e.requestsDone,
          e.requestsTotal,
          `${e.symbolsDone}/${e.symbolsTotal} symbols${e.symbol ? ` · ${e.symbol}: ${e.message}` : ''}`,
          e.symbol ? [symbolProgress({ ...e, symbol: e.symbol })] : undefined,
        );
        if (e.phase === 'write' || e.phase === 'done' || e.phase === 'derive')
          svc.maybeFlush('ingest');
      },
    });
    ctx.signal.throwIfAborted();
    await refreshIndicatorsAfterIngest(svc, summary, lockReq.intervals, ctx.signal);
    const result = runResult(summary);
    if (!p.verify) return result;
    // Under the same locks: what was just written is read back and checked before anyone
    // else can write these symbols.
    // Messages only: the download's percentage stays where it ended.
    const issues = await svc.state.bank.verify({
      symbols,
      unverified: true,
      signal: ctx.signal,
      onProgress: (done, total) =>
        ctx.progress.report(0, 0, `verifying the files written: ${done}/${total}`),
    });
    return {
      ...result,
      verified: { checked: issues.length, issues: issues.filter((i) => i.status !== 'ok') },
    };
  });
}

/** One symbol's state, from an ingest progress event. */
export function symbolProgress(e: IngestProgress & { symbol: string }): SymbolProgress {
  return {
    symbol: e.symbol,
    phase: e.phase,
    rows: e.rows,
    requestsDone: e.symbolRequestsDone ?? 0,
    requestsTotal: e.symbolRequestsTotal ?? e.symbolRequestsDone ?? 0,
    ...(e.message ? { message: e.message } : {}),
  };
}

/**
 * After an ingest, under its locks: refreshes the configured `indicators.after_ingest` for the
 * symbols that got new rows. A failure here is logged and never fails the ingest.
 */
async function refreshIndicatorsAfterIngest(
  svc: Services,
  summary: IngestSummary,
  intervals: Interval[],
  signal: AbortSignal,
): Promise<void> {
  const { bank, config, logger } = svc.state;
  const symbols = summary.results.filter((r) => r.ok && r.rowsAdded > 0).map((r) => r.symbol);
  try {
    const s = await refreshAfterIngest(bank, config, symbols, intervals, {
      signal,
      warn: (m) => logger.warn(m),
    });
    if (s) logger.info(`after ingest: updated ${s.updated} indicator(s), ${s.failed} failed`);
    for (const i of s?.items ?? []) {
      if (i.error) logger.warn(`after ingest: ${i.id}: ${i.error.message}`);
    }
  } catch (e) {
    logger.error('after ingest: refreshing indicators failed', e);
  }
}

export function ingestRequest(
  p: ParsedParams<'ingest/run'> | ParsedParams<'ingest/plan'>,
  config: Config,
): IngestRequest {
  return {
    ...(p.symbols ? { symbols: [...new Set(p.symbols)] } : {}),
    ...(p.top ? { top: p.top.n, quote: p.top.quote.toUpperCase() } : {}),
    ...(p.group ? { group: p.group } : {}),
    intervals: (p.intervals ?? config.data.processing.default_intervals) as Interval[],
    start: p.start,
    ...(p.end !== undefined ? { end: p.end } : {}),
    source: p.source,
    ...(p.concurrency ? { concurrency: p.concurrency } : {}),
  };
}

function toPlanResult(plan: IngestPlan): Result<'ingest/plan'> {
  const items = plan.symbols.map((s) => ({
    symbol: s.symbol,
    missing: s.missing,
    candles: s.minutes,
    requests: s.steps.filter((x) => x.kind === 'rest').reduce((a, x) => a + x.requests, 0),
    archives: s.steps.filter((x) => x.kind !== 'rest').length,
    weight: s.weight,
  }));
  return {
    window: plan.window,
    items,
    skipped: plan.skipped.map((s) => ({
      symbol: s.symbol,
      status: s.status,
      reason: s.reason ?? s.status,
    })),
    totals: {
      candles: items.reduce((a, i) => a + i.candles, 0),
      requests: items.reduce((a, i) => a + i.requests, 0),
      archives: plan.archiveFiles,
      weight: plan.weight,
      estimatedSeconds: plan.estimatedSeconds,
    },
    ...(plan.ranking ? { ranking: plan.ranking } : {}),
  };
}

type RunRow = Result<'ingest/run'>['symbols'][number];

function skippedRows(plan: IngestPlan): RunRow[] {
  return plan.skipped.map((s) => ({
    symbol: s.symbol,
    rows: 0,
    missing: [],
    ranges: 0,
    requests: 0,
    archives: 0,
    gaps: 0,
    filled: 0,
    timeMs: 0,
    derived: [],
    error: {
      code: s.status === 'UNKNOWN' ? ErrorCodes.InvalidSymbol : ErrorCodes.NotFound,
      reason: s.status === 'UNKNOWN' ? 'INVALID_SYMBOL' : s.status,
      message: s.reason ?? s.status,
    },
  }));
}

function dryRunResult(plan: IngestPlan): Result<'ingest/run'> {
  const rows: RunRow[] = plan.symbols.map((s) => ({
    symbol: s.symbol,
    rows: s.minutes,
    missing: s.missing,
    ranges: s.steps.length,
    requests: s.steps.filter((x) => x.kind === 'rest').reduce((a, x) => a + x.requests, 0),
    archives: s.steps.filter((x) => x.kind !== 'rest').length,
    gaps: 0,
    filled: 0,
    timeMs: 0,
    derived: [],
    error: null,
  }));
  const symbols = [...rows, ...skippedRows(plan)];
  return {
    dryRun: true,
    symbols,
    totals: {
      rows: rows.reduce((a, r) => a + r.rows, 0),
      requests: plan.requests,
      errors: plan.skipped.length,
      timeMs: 0,
    },
    ...(plan.ranking ? { ranking: plan.ranking } : {}),
  };
}

function runResult(summary: IngestSummary): Result<'ingest/run'> {
  const missing = new Map(summary.plan.symbols.map((s) => [s.symbol, s.missing]));
  const rows: RunRow[] = summary.results.map((r) => {
    const err = r.error ? errorFromReport(r.error.code, r.error.message) : null;
    return {
      symbol: r.symbol,
      rows: r.rowsAdded,
      missing: missing.get(r.symbol) ?? [],
      ranges: r.rangesFetched,
      requests: r.requests,
      archives: r.archiveFiles,
      gaps: r.gaps,
      filled: r.filled,
      timeMs: Math.round(r.seconds * 1000),
      derived: r.derived,
      error:
        r.error && err
          ? { code: err.kind.rpc, reason: r.error.code, message: r.error.message }
          : null,
    };
  });
  const symbols = [...rows, ...skippedRows(summary.plan)];
  return {
    dryRun: false,
    symbols,
    totals: {
      rows: rows.reduce((a, r) => a + r.rows, 0),
      requests: rows.reduce((a, r) => a + r.requests + r.archives, 0),
      errors: symbols.filter((r) => r.error).length,
      timeMs: Math.round(summary.seconds * 1000),
    },
    ...(summary.notes.length ? { notes: summary.notes } : {}),
    ...(summary.plan.ranking ? { ranking: summary.plan.ranking } : {}),
  };
}

export {
  planIngest,
  runIngest,
  type IngestPlan,
  type IngestRequest,
  type IngestSummary,
  type SourceMode,
} from '../jobs/ingest.ts';
export { ingestFunding, type FundingResult } from '../jobs/funding.ts';
