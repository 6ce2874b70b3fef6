import { SELECTION } from '../../schemas/contracts.ts';
import { SymbolSchema, parseUtcDate } from '../../schemas/common.ts';
import { parseIntervals } from '../../schemas/intervals.ts';
import type { Config } from '../../schemas/config.ts';
import { type Bank, ingestDepsFor } from '../app/bank.ts';
import {
  planIngest,
  runIngest,
  type IngestPlan,
  type IngestRequest,
  type IngestSummary,
  type SourceMode,
} from '../app/ingest.ts';
import { groupSymbols } from '../app/symbols.ts';
import { replayMain } from '../replay/cli.ts';
import { startReplayServer } from '../replay/server.ts';
import { type CliCommand, EXIT, UsageError, type CommandContext, joinRefusals } from './context.ts';
import { ThreadxError } from '../../schemas/errors.ts';
import { iso, Progress, table } from './format.ts';
import { SERIES_OPTIONS, seriesFlags } from './series.ts';
import { ingestFunding } from '../app/ingest.ts';

function requestFrom(values: Record<string, unknown>, config: Config): IngestRequest {
  const symbols =
    typeof values.symbols === 'string'
      ? values.symbols
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : undefined;
  const top = values.top !== undefined ? Number(values.top) : undefined;
  if (top !== undefined && !(Number.isInteger(top) && top >= 1 && top <= SELECTION.maxTop))
    throw new UsageError(
      `The option --top must be a whole number from 1 to ${SELECTION.maxTop}, not ${JSON.stringify(values.top)}.`,
    );
  const group = values.group as string | undefined;
  if ([symbols, top, group].filter((x) => x !== undefined).length !== 1)
    throw new UsageError('Choose exactly one of --symbols A,B, --top N or --group NAME.');
  if (symbols?.length === 0)
    throw new ThreadxError(
      'BAD_INPUT',
      'The symbol list is empty.',
      'Name at least one symbol, e.g. --symbols BTCUSDC,ETHUSDC.',
    );
  // Everything that can be checked offline is checked before the exchange is asked anything.
  for (const s of symbols ?? []) {
    if (!SymbolSchema.safeParse(s).success)
      throw new ThreadxError(
        'INVALID_SYMBOL',
        `${JSON.stringify(s)} is not a symbol: a symbol is 2 to 20 letters or digits, such as BTCUSDC.`,
        'Check the spelling in --symbols; "threadx ingest --top 10 --dry-run" lists real ones.',
        { symbol: s },
      );
  }
  if (group !== undefined) groupSymbols(config, group);
  if (typeof values.start !== 'string')
    throw new UsageError('The option --start is required (a UTC time such as 2024-01-01).');
  const start = parseUtcDate(values.start);
  const end = typeof values.end === 'string' ? parseUtcDate(values.end) : undefined;
  if (end !== undefined && end <= start)
    throw new ThreadxError(
      'INVALID_RANGE',
      `The end ${new Date(end).toISOString()} (--end) is not after the start ${new Date(start).toISOString()} (--start).`,
      'Give an end after the start, or leave --end out to download up to now.',
      { start, end },
    );
  const source = (values.source as string | undefined) ?? 'auto';
  if (!['auto', 'rest', 'archive'].includes(source))
    throw new UsageError(
      `The option --source must be auto, rest or archive, not ${JSON.stringify(source)}.`,
    );
  const { market, kind } = seriesFlags(values);
  const concurrency = values.concurrency !== undefined ? Number(values.concurrency) : undefined;
  if (
    concurrency !== undefined &&
    !(Number.isInteger(concurrency) && concurrency >= 1 && concurrency <= 32)
  )
    throw new UsageError('The option --concurrency must be a whole number from 1 to 32.');
  return {
    symbols,
    top,
    group,
    intervals:
      typeof values.intervals === 'string'
        ? parseIntervals(values.intervals)
        : config.data.processing.default_intervals,
    start,
    end,
    source: source as SourceMode,
    concurrency,
    ...(market !== 'spot' ? { market } : {}),
    ...(kind !== 'klines' ? { kind } : {}),
  };
}

export function printPlan(ctx: CommandContext, plan: IngestPlan): void {
  ctx.out(`window ${iso(plan.window[0])} .. ${iso(plan.window[1])}`);
  if (plan.ranking) ctx.out(`ranking: ${plan.ranking.note}`);
  ctx.out(
    table(
      ['symbol', 'missing ranges', 'minutes', 'REST requests', 'archive files', 'weight'],
      plan.symbols.map((s) => [
        s.symbol,
        s.missing.length,
        s.minutes,
        s.steps.filter((x) => x.kind === 'rest').reduce((a, x) => a + x.requests, 0),
        s.steps.filter((x) => x.kind !== 'rest').length,
        s.weight,
      ]),
    ),
  );
  for (const s of plan.skipped) ctx.out(`will not download ${s.symbol}: ${s.reason ?? s.status}`);
  for (const s of plan.symbols)
    if (s.afterDelivery)
      ctx.out(
        `${s.symbol} was delivered at ${new Date(s.afterDelivery.deliveredAt).toISOString()}: planned up to its delivery; ${s.afterDelivery.minutes} minute(s) after delivery have no candle`,
      );
  ctx.out(
    `total: ${plan.requests} request(s), weight ${plan.weight}, ${plan.archiveFiles} archive file(s), about ${plan.estimatedSeconds} s`,
  );
}

export function printSummary(ctx: CommandContext, s: IngestSummary): void {
  ctx.out(
    table(
      [
        'symbol',
        'status',
        'new rows',
        'ranges',
        'requests',
        'archives',
        'gaps',
        'filled',
        'seconds',
      ],
      s.results.map((r) => [
        r.symbol,
        r.ok ? 'ok' : `error: ${r.error?.message}`,
        r.rowsAdded,
        r.rangesFetched,
        r.requests,
        r.archiveFiles,
        r.gaps,
        r.filled,
        r.seconds,
      ]),
    ),
  );
  for (const k of s.skipped) ctx.out(`not downloaded ${k.symbol}: ${k.reason ?? k.status}`);
  if (s.plan.ranking) ctx.out(`ranking: ${s.plan.ranking.note}`);
  for (const note of s.notes) ctx.out(note);
  ctx.out(
    `${symbolCounts(s)} in ${s.seconds} s${s.cancelled ? ' (cancelled: re-run to finish)' : ''}`,
  );
}

/** "1 of 2 symbols ok; 1 not listed": counted over the symbols the user asked for. */
export function symbolCounts(s: Pick<IngestSummary, 'results' | 'skipped'>): string {
  const asked = s.results.length + s.skipped.length;
  const ok = s.results.filter((r) => r.ok).length;
  const failed = s.results.length - ok;
  const unlisted = s.skipped.filter((k) => k.status === 'UNKNOWN').length;
  const idle = s.skipped.length - unlisted;
  return [
    `${ok} of ${asked} symbol${asked === 1 ? '' : 's'} ok`,
    ...(failed ? [`${failed} failed`] : []),
    ...(unlisted ? [`${unlisted} not listed`] : []),
    ...(idle ? [`${idle} not trading`] : []),
  ].join('; ');
}

async function ingest(
  ctx: CommandContext,
  bank: Bank,
  req: IngestRequest,
  baseUrl: string | undefined,
  archiveUrl: string | undefined,
  dryRun: boolean,
): Promise<number> {
  const deps = ingestDepsFor(
    bank,
    ctx.config,
    {
      ...(baseUrl ? { baseUrl } : {}),
      ...(archiveUrl ? { archiveUrl } : {}),
    },
    req.market ?? 'spot',
  );
  const ac = new AbortController();
  const onSigint = (): void => {
    ctx.err('\ninterrupted: saving what was fetched (Ctrl-C again to quit now)');
    ac.abort();
    process.once('SIGINT', () => process.exit(130));
  };
  process.once('SIGINT', onSigint);
  try {
    const plan = await planIngest(deps, req, ac.signal);
    if (dryRun) {
      // A symbol that will not be downloaded is a problem the user must see: exit 1.
      if (ctx.json) ctx.out(JSON.stringify({ ok: plan.skipped.length === 0, dryRun: true, plan }));
      else printPlan(ctx, plan);
      return plan.skipped.length ? EXIT.problems : EXIT.ok;
    }
    const progress = new Progress(!ctx.json);
    const summary = await runIngest(deps, req, {
      plan,
      signal: ac.signal,
      onProgress: (p) => {
        if (ctx.json) ctx.out(JSON.stringify({ progress: p }));
        else
          progress.update(
            `[${p.symbolsDone}/${p.symbolsTotal}] ${p.requestsDone}/${p.requestsTotal} req  ${p.symbol ?? ''} ${p.phase}: ${p.message}`,
          );
      },
    });
    progress.done();
    // Unknown, non-trading and skipped symbols are problems, never silently dropped: exit 1.
    const failed = summary.results.filter((r) => !r.ok).length + summary.skipped.length;
    if (ctx.json) ctx.out(JSON.stringify({ ok: failed === 0 && !summary.cancelled, summary }));
    else printSummary(ctx, summary);
    return summary.cancelled ? 130 : failed ? EXIT.problems : EXIT.ok;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

export const ingestCommand: CliCommand = {
  name: 'ingest',
  usage: 'ingest',
  summary:
    '(--symbols A,B | --top N | --group NAME) --start ISO [--end ISO] [--market spot|um|cm] [--kind klines|mark|index] [--intervals 1h,4h,1d] [--source auto|rest|archive] [--base-url URL] [--archive-url URL] [--dry-run] [--concurrency N] [--join]',
  options: {
    ...SERIES_OPTIONS,
    symbols: { type: 'string' },
    top: { type: 'string' },
    group: { type: 'string' },
    source: { type: 'string' },
    'base-url': { type: 'string' },
    'archive-url': { type: 'string' },
    'dry-run': { type: 'boolean', default: false },
    concurrency: { type: 'string' },
    join: { type: 'boolean', default: false },
  },
  async run(ctx, values) {
    if (seriesFlags(values).funding) return ingestFundingCommand(ctx, values);
    const req = requestFrom(values, ctx.config);
    if (values.join) return ingestThroughDaemon(ctx, req, values);
    const bank = await ctx.openBank(values['dry-run'] ? 'read' : 'write');
    return ingest(
      ctx,
      bank,
      req,
      values['base-url'] as string | undefined,
      values['archive-url'] as string | undefined,
      Boolean(values['dry-run']),
    );
  },
};

/** `ingest --market um|cm --kind funding --symbols A,B --start ISO`: funding-rate histories. */
async function ingestFundingCommand(
  ctx: CommandContext,
  values: Record<string, unknown>,
): Promise<number> {
  const req = requestFrom(values, ctx.config);
  if (!req.symbols)
    throw new UsageError('--kind funding takes --symbols A,B (perpetual contracts).');
  if (values.join)
    throw new ThreadxError(
      'BAD_INPUT',
      'ingest --join does not fetch funding rates.',
      'Run it without --join.',
    );
  const bank = await ctx.openBank(values['dry-run'] ? 'read' : 'write');
  const baseUrl = values['base-url'] as string | undefined;
  const deps = ingestDepsFor(bank, ctx.config, baseUrl ? { baseUrl } : {}, req.market ?? 'spot');
  const end = req.end ?? (await deps.rest.serverTime());
  const { results, skipped } = await ingestFunding(deps, {
    symbols: req.symbols,
    start: req.start,
    end,
  });
  const failed = results.filter((r) => !r.ok).length + skipped.length;
  if (ctx.json) ctx.out(JSON.stringify({ ok: failed === 0, results, skipped }));
  else {
    ctx.out(
      table(
        ['symbol', 'status', 'new events', 'events', 'requests'],
        results.map((r) => [
          r.symbol,
          r.ok ? 'ok' : `error: ${r.error?.message}`,
          r.added,
          r.total,
          r.requests,
        ]),
      ),
    );
    for (const k of skipped) ctx.out(`not downloaded ${k.symbol}: ${k.reason ?? k.status}`);
  }
  return failed ? EXIT.problems : EXIT.ok;
}

/**
 * `ingest --join`: the bank's one writer is the daemon serving it, so the ingest runs there
 * (`ingest/run` over its socket or port), as the VS Code extension does.
 */
async function ingestThroughDaemon(
  ctx: CommandContext,
  req: IngestRequest,
  values: Record<string, unknown>,
): Promise<number> {
  if (values['base-url'] !== undefined || values['archive-url'] !== undefined)
    throw joinRefusals.overrides();
  if (!ctx.joinIngest) throw joinRefusals.noProgram();
  if (req.market !== undefined || req.kind !== undefined)
    throw new ThreadxError(
      'BAD_INPUT',
      'ingest --join runs spot trade klines only: the daemon protocol does not name a market yet.',
      'Stop the daemon (close the VS Code window of this bank) and run the ingest without --join.',
    );
  const joined = await ctx.joinIngest(ctx.dataDir, {
    ...(req.symbols ? { symbols: req.symbols } : {}),
    ...(req.top !== undefined ? { top: req.top } : {}),
    ...(req.group ? { group: req.group } : {}),
    intervals: [...req.intervals],
    start: req.start,
    ...(req.end !== undefined ? { end: req.end } : {}),
    source: req.source ?? 'auto',
    ...(req.concurrency !== undefined ? { concurrency: req.concurrency } : {}),
    dryRun: Boolean(values['dry-run']),
  } as never);
  if (!joined) throw joinRefusals.noDaemon(ctx.dataDir);
  const { pid, result: r } = joined;
  const failed = r.symbols.filter((x) => x.error !== null);
  if (ctx.json) ctx.out(JSON.stringify({ ok: failed.length === 0, joined: pid, ...r }));
  else
    ctx.out(
      table(
        ['symbol', 'new candles', 'requests', 'status'],
        r.symbols.map((x) => [x.symbol, x.rows, x.requests, x.error ? x.error.message : 'ok']),
      ),
    );
  return failed.length ? EXIT.problems : EXIT.ok;
}

export const replayCommand: CliCommand = {
  name: 'replay',
  usage: 'replay',
  summary: 'Starts the replay exchange (Binance REST and archive, local data) on 127.0.0.1.',
  options: {},
  run: () => Promise.resolve(EXIT.usage),
  raw: async (argv) => {
    await replayMain(argv);
    return EXIT.ok;
  },
};

/**
 * The demo: the whole pipeline against the replay exchange, into ./data, with no network:
 * BTCUSDT and ETHUSDT for August 2022 (ETHUSDT's 14th and 15th are Binance's own archive files,
 * shipped in assets/replay; the rest is synthetic), then the L1 group for April 2023.
 */
export const demoCommand: CliCommand = {
  name: 'demo',
  usage: 'demo',
  summary:
    'run the whole pipeline against the bundled replay exchange (no network) into --data-dir',
  options: {},
  async run(ctx) {
    const server = await startReplayServer({
      now: Date.parse('2023-05-01T21:03:00Z'),
      latencyMs: { min: 5, max: 20 },
    });
    try {
      const bank = await ctx.openBank();
      ctx.out(`replay exchange on ${server.url}; data in ${ctx.dataDir}`);
      const intervals = parseIntervals('5m,15m,1h,4h,1d,1w');
      let code = await ingest(
        ctx,
        bank,
        {
          symbols: ['BTCUSDT', 'ETHUSDT'],
          intervals,
          start: Date.parse('2022-08-01T00:00Z'),
          end: Date.parse('2022-09-01T00:00Z'),
          source: 'auto',
        },
        server.url,
        server.archiveUrl,
        false,
      );
      if (code !== EXIT.ok) return code;
      code = await ingest(
        ctx,
        bank,
        { group: 'L1', intervals, start: Date.parse('2023-04-01T00:00Z'), source: 'auto' },
        server.url,
        server.archiveUrl,
        false,
      );
      const verify = await bank.verify();
      const bad = verify.filter((v) => v.status !== 'ok');
      ctx.out(
        `verify: ${verify.length} file(s), ${bad.length} problem(s); ${server.stats.klineRequests} kline request(s), ${server.stats.count429 ?? 0} 429(s)`,
      );
      return bad.length ? EXIT.problems : code;
    } finally {
      await server.close();
    }
  },
};
