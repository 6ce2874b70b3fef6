/**
 * The handlers: each parses nothing (params arrive validated), calls the bank or a job, and
 * shapes the answer. Jobs that write hold their symbols' locks and, when they end, tell every
 * client what changed.
 *
 * Invariant: reads (`data/read`, `data/export`, `indicators/read`, `registry/list`) take no lock.
 * Every file in the bank is replaced by an atomic rename, so a reader sees a whole old file or a
 * whole new one; a chart stays responsive while an ingest of the same symbol runs.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { Config } from '../../schemas/config.ts';
import type { Interval } from '../../schemas/intervals.ts';
import type { Gap } from '../../schemas/registry.ts';
import {
  type ParsedParams,
  type Result,
  ErrorCodes,
  type ParamIssue,
} from '../../schemas/protocol.ts';
import { exportCsv } from '../store/export.ts';
import type { Bank } from '../store/bank.ts';
import type { BinanceRestClient } from '../sources/rest.ts';
import {
  type IngestDeps,
  type IngestPlan,
  type IngestRequest,
  type IngestSummary,
  planIngest,
  runIngest,
} from '../jobs/ingest.ts';
import { groupSymbols, listGroups, searchSymbols, topSymbols } from '../jobs/universe.ts';
import { RpcError, invalidParams, toRpcError } from './errors.ts';
import { ALL, KeyedLock } from './locks.ts';
import type { Logger } from './logger.ts';
import { messages } from './messages.ts';
import { loadPlan, planRead, readExact, toColumns } from './read.ts';
import { RegistryView } from './registry-view.ts';
import { type Handlers, type RequestContext, RawJson } from './server.ts';
import { readIndicators, updateIndicatorsRequest } from './indicators.ts';
import { refreshAfterIngest } from '../jobs/indicators.ts';
import { repairSymbols } from '../jobs/repair.ts';

export interface DaemonState {
  bank: Bank;
  config: Config;
  configFile: string | null;
  dataDir: string;
  logger: Logger;
  /** The exchange client, created on first use (so a daemon that only reads never connects). */
  rest: () => BinanceRestClient;
  /** Sends `registry/changed` to every client. */
  broadcastChanged: (changed: string[], removed: string[], reason: ChangeReason) => void;
  fetch?: typeof fetch;
}

export type ChangeReason =
  'ingest' | 'delete' | 'derive' | 'indicators' | 'import' | 'verify' | 'repair';

/** Shared by the handlers: locks and the registry view. */
export class DaemonServices {
  readonly locks = new KeyedLock();
  readonly registry: RegistryView;
  private lastFlush = 0;

  constructor(readonly state: DaemonState) {
    this.registry = new RegistryView(state.bank);
  }

  /** Broadcasts what changed in the registry since the last flush. */
  flushChanges(reason: ChangeReason): void {
    this.lastFlush = performance.now();
    const { changed, removed } = this.registry.diff();
    if (changed.length || removed.length) this.state.broadcastChanged(changed, removed, reason);
  }

  /** During a long job: flush at most twice a second. */
  maybeFlush(reason: ChangeReason): void {
    if (performance.now() - this.lastFlush >= 500) this.flushChanges(reason);
  }

  /**
   * Runs a job that writes `symbols`: their keys exclusively, the bank key shared (so `verify`
   * waits), with the registry cache bypassed while it runs and the changes broadcast after.
   */
  async writing<T>(
    symbols: readonly string[],
    reason: ChangeReason,
    ctx: RequestContext,
    fn: () => Promise<T>,
  ): Promise<T> {
    return this.locks.run(
      { exclusive: symbols.map((s) => `symbol:${s}`), shared: [ALL] },
      async () => {
        const done = this.registry.beginWrite();
        try {
          return await fn();
        } finally {
          done();
          this.flushChanges(reason);
        }
      },
      ctx.signal,
    );
  }

  ingestDeps(): IngestDeps {
    const { bank, config, logger } = this.state;
    return {
      bank,
      config,
      rest: this.state.rest(),
      archiveBaseUrl: config.data.api.archive_url,
      ...(this.state.fetch ? { fetch: this.state.fetch } : {}),
      log: (level, message) => logger.log(level, message),
    };
  }
}

export function createHandlers(state: DaemonState): {
  handlers: Handlers;
  services: DaemonServices;
} {
  const svc = new DaemonServices(state);
  const { bank, config, logger } = state;

  const handlers: Handlers = {
    'config/get': () => ({ config, file: state.configFile, dataDir: state.dataDir }),

    'symbols/search': async (p, ctx) => {
      const found = await searchSymbols(
        state.rest(),
        p.query,
        p.quote ? 1000 : p.limit,
        ctx.signal,
      );
      const quote = p.quote?.toUpperCase();
      return {
        matches: (quote ? found.filter((m) => m.quote === quote) : found).slice(0, p.limit),
      };
    },

    'symbols/top': async (p, ctx) => {
      const quote = p.quote.toUpperCase();
      const top = await topSymbols(state.rest(), p.n, {
        quote,
        marketCapUrl: config.data.api.market_cap_url,
        ...(state.fetch ? { fetch: state.fetch } : {}),
        signal: ctx.signal,
      });
      return {
        symbols: top.symbols.map((s) => ({
          symbol: s.symbol,
          base: s.base,
          quote,
          status: 'TRADING',
          rank: s.rank,
          quoteVolume24h: s.quoteVolume,
          ...(s.marketCap !== null ? { marketCap: s.marketCap } : {}),
        })),
        ranking: top.ranking,
        note: top.note,
      };
    },

    'symbols/groups': () => ({
      groups: listGroups(config).map((g) => ({
        name: g.name,
        symbols: g.symbols,
        source: g.predefined ? ('builtin' as const) : ('config' as const),
      })),
    }),

    'ingest/plan': async (p, ctx) =>
      toPlanResult(await planIngest(svc.ingestDeps(), ingestRequest(p, config), ctx.signal)),

    'ingest/run': async (p, ctx) => {
      const deps = svc.ingestDeps();
      const req = ingestRequest(p, config);
      if (p.dryRun) {
        const plan = await planIngest(deps, req, ctx.signal);
        return dryRunResult(plan);
      }
      // Learn the symbols (top N needs the exchange), lock them, then plan again under the lock:
      // a job that held them may have filled some of what was missing.
      const symbols = req.symbols ?? (req.group ? groupSymbols(config, req.group) : null);
      const first = symbols ? null : await planIngest(deps, req, ctx.signal);
      const locked = symbols ?? first!.symbols.map((s) => s.symbol);
      const lockReq = first ? { ...req, top: undefined, group: undefined, symbols: locked } : req;
      ctx.progress.begin(`Ingest ${locked.length} symbol(s)`, 'planning');
      return svc.writing(locked, 'ingest', ctx, async () => {
        const plan = await planIngest(deps, lockReq, ctx.signal);
        if (first) {
          plan.skipped = first.skipped;
          if (first.ranking) plan.ranking = first.ranking;
        }
        const summary = await runIngest(deps, lockReq, {
          signal: ctx.signal,
          plan,
          onProgress: (e) => {
            ctx.progress.report(
              e.requestsDone,
              e.requestsTotal,
              `${e.symbolsDone}/${e.symbolsTotal} symbols${e.symbol ? ` · ${e.symbol}: ${e.message}` : ''}`,
            );
            if (e.phase === 'write' || e.phase === 'done' || e.phase === 'derive')
              svc.maybeFlush('ingest');
          },
        });
        ctx.signal.throwIfAborted();
        await refreshIndicatorsAfterIngest(svc, summary, lockReq.intervals, ctx.signal);
        return runResult(summary);
      });
    },

    'registry/list': (p) => {
      if (!p.filter && !p.details) {
        // The common case, the full list: served from a cached serialisation.
        return new RawJson(svc.registry.listJson()) as unknown as Result<'registry/list'>;
      }
      const datasets = svc.registry.list(p.filter);
      if (!p.details) return { datasets };
      const gaps: Record<string, Gap[]> = {};
      for (const d of datasets) gaps[d.id] = bank.registry().datasets[d.id]?.gaps ?? [];
      return { datasets, gaps };
    },

    'registry/verify': (_p, ctx) =>
      svc.locks.run(
        { exclusive: [ALL] },
        async () => {
          ctx.progress.begin('Verify the bank', 'checking files');
          const issues = await bank.verify({
            signal: ctx.signal,
            onProgress: (done, total) => ctx.progress.report(done, total, `${done}/${total} files`),
          });
          // The findings are kept per file in the registry: every client's tree shows them.
          svc.flushChanges('verify');
          const bad = issues.filter((i) => i.status !== 'ok');
          const checked = issues.filter((i) => i.status !== 'unregistered').length;
          ctx.progress.end(bad.length ? `${bad.length} problem(s)` : `${checked} file(s) ok`);
          return { ok: bad.length === 0, checked, issues: bad };
        },
        ctx.signal,
      ),

    'registry/repair': async (p, ctx) => {
      const symbols = p.symbols?.length
        ? p.symbols
        : [...new Set(bank.list().map((d) => d.symbol))].sort();
      return svc.writing(symbols, 'repair', ctx, async () => {
        ctx.progress.begin('Repair the bank', 'verifying');
        const s = await repairSymbols(svc.ingestDeps(), p.symbols, {
          signal: ctx.signal,
          onProgress: (symbol, message) => ctx.progress.report(0, 0, `${symbol}: ${message}`),
        });
        ctx.progress.end(s.ok ? 'repaired' : 'some symbols could not be repaired');
        return s;
      });
    },

    'registry/delete': (p, ctx) =>
      svc.writing([p.symbol], 'delete', ctx, async () => {
        const before = new Set(Object.keys(bank.registry().datasets));
        const files = await bank.deleteDataset(p.symbol, p.interval);
        const after = new Set(Object.keys(bank.registry().datasets));
        return { datasets: [...before].filter((id) => !after.has(id)).sort(), files };
      }),

    'data/read': async (p) => {
      const plan = planRead(bank, p.symbol, p.interval, p.start, p.end, p.maxPoints);
      const c = await loadPlan(bank, plan, p.maxPoints);
      return {
        symbol: p.symbol,
        interval: plan.interval,
        requestedInterval: p.interval,
        resampled: !plan.stored,
        truncated: plan.truncate && c.length >= p.maxPoints,
        length: c.length,
        pending: await bank.pendingBuckets(p.symbol, plan.interval, plan.start, plan.end),
        columns: toColumns(c),
      };
    },

    'data/export': async (p, ctx) => {
      const out = await checkExportPath(
        p.out,
        p.overwrite,
        bank.layout.processed,
        bank.layout.indicators,
        state.dataDir,
      );
      const start = p.start ?? -Infinity;
      const end = p.end ?? Infinity;
      if (start >= end)
        throw invalidParams('data/export', [{ path: ['end'], message: messages.startAfterEnd() }]);
      ctx.progress.begin(`Export ${p.symbol} ${p.interval}`, 'reading');
      const c = await readExact(bank, p.symbol, p.interval, start, end);
      ctx.signal.throwIfAborted();
      const rows = await exportCsv(c, out);
      const { size } = await fsp.stat(out);
      return { out, rows, bytes: size };
    },

    'indicators/update': async (p, ctx) =>
      updateIndicatorsRequest(svc, await selectSymbols(svc, p, ctx), p, ctx),

    'indicators/read': async (p, ctx) => ({
      series: await readIndicators(bank, await selectSymbols(svc, p, ctx), p, issuesToError),
    }),

    'logs/subscribe': (p, ctx) => {
      const conn = ctx.connection;
      if (!p.enabled) {
        conn.subscribeLogs(null);
        return { subscribed: false, logFile: logger.file };
      }
      for (const r of logger.tail(p.tail, p.level)) {
        conn.notify('log/message', { level: r.level, time: r.time, message: r.message });
      }
      const min = p.level;
      const rank = { debug: 10, info: 20, warn: 30, error: 40 } as const;
      conn.subscribeLogs((level, time, message) => {
        const l = level as keyof typeof rank;
        if (rank[l] >= rank[min]) conn.notify('log/message', { level: l, time, message });
      });
      return { subscribed: true, logFile: logger.file };
    },
  };
  return { handlers, services: svc };
}

/**
 * After an ingest, under its locks: refreshes the configured `indicators.after_ingest` for the
 * symbols that got new rows. A failure here is logged and never fails the ingest.
 */
async function refreshIndicatorsAfterIngest(
  svc: DaemonServices,
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

function issuesToError(method: string, issues: ParamIssue[]): RpcError {
  return invalidParams(method, issues);
}

/** The symbols of a batch request: the explicit list, a group, or the exchange's top N. */
async function selectSymbols(
  svc: DaemonServices,
  p: { symbols?: string[]; group?: string; top?: { n: number; quote: string } },
  ctx: RequestContext,
): Promise<string[]> {
  if (p.symbols) return [...new Set(p.symbols)];
  if (p.group) return groupSymbols(svc.state.config, p.group);
  const top = await topSymbols(svc.state.rest(), p.top!.n, {
    quote: p.top!.quote.toUpperCase(),
    marketCapUrl: svc.state.config.data.api.market_cap_url,
    signal: ctx.signal,
  });
  return top.symbols.map((s) => s.symbol);
}

function ingestRequest(p: ParsedParams<'ingest/run'>, config: Config): IngestRequest {
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
    const err = r.error
      ? toRpcError(Object.assign(new Error(r.error.message), { code: r.error.code }))
      : null;
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
        r.error && err ? { code: err.code, reason: r.error.code, message: r.error.message } : null,
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
    ...(summary.plan.ranking ? { ranking: summary.plan.ranking } : {}),
  };
}

/**
 * Checks an export target: absolute, in an existing folder, a `.csv` file, not inside the bank's
 * own data folders, not an existing file unless `overwrite`. The path comes from the client as
 * is; nothing is ever built from symbol text.
 */
async function checkExportPath(
  out: string,
  overwrite: boolean,
  ...forbidden: string[]
): Promise<string> {
  const bad = (message: string): RpcError =>
    invalidParams('data/export', [{ path: ['out'], message }]);
  if (out.includes('\0') || !path.isAbsolute(out)) throw bad(messages.exportNotAbsolute());
  const file = path.resolve(out);
  if (path.extname(file).toLowerCase() !== '.csv') throw bad(messages.exportExtension());
  const dir = path.dirname(file);
  const [bankData, bankIndicators] = forbidden;
  for (const f of [bankData, bankIndicators]) {
    const rel = path.relative(f, file);
    if (!rel.startsWith('..') && !path.isAbsolute(rel)) throw bad(messages.exportInsideBank());
  }
  let st;
  try {
    st = await fsp.stat(dir);
  } catch {
    throw bad(messages.exportNoFolder(dir));
  }
  if (!st.isDirectory()) throw bad(messages.exportNotFolder(dir));
  try {
    const target = await fsp.lstat(file);
    if (target.isDirectory()) throw bad(messages.exportIsFolder(file));
    if (!overwrite) throw bad(messages.exportExists(file));
  } catch (e) {
    if (e instanceof RpcError) throw e;
  }
  return file;
}
