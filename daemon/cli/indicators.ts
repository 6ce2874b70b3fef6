import { type Interval, parseIntervals } from '../../schemas/intervals.ts';
import {
  INDICATOR_NAMES,
  type IndicatorBatchSummary,
  indicatorMessages,
  parseIndicatorArgs,
  refreshAfterIngest,
  resolveIndicators,
  updateIndicators,
} from '../app/indicators.ts';
import { groupSymbols } from '../app/symbols.ts';
import { type CliCommand, EXIT, UsageError, type CommandContext } from './context.ts';
import { Progress, table } from './format.ts';
import { SERIES_OPTIONS, bankKey } from './series.ts';

/** The per-item table, then the counts, then "Updated N indicator(s)" as the last line. */
export function printIndicatorSummary(ctx: CommandContext, s: IndicatorBatchSummary): void {
  ctx.out(
    table(
      ['symbol', 'interval', 'indicator', 'status', 'rows', 'detail'],
      s.items.map((i) => [
        i.symbol,
        i.interval,
        i.key,
        i.status,
        i.rows,
        i.error ? i.error.message : '',
      ]),
    ),
  );
  if (s.derived.length) ctx.out(`derived from 1m first: ${s.derived.join(', ')}`);
  if (s.cancelled) ctx.out(indicatorMessages.cancelled());
  ctx.out(indicatorMessages.counts(s.current, s.failed, s.seconds));
  ctx.out(indicatorMessages.updated(s.updated));
}

function listOf(v: unknown): string[] | undefined {
  if (typeof v !== 'string') return undefined;
  return v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

async function runBatch(
  ctx: CommandContext,
  run: (opts: {
    signal: AbortSignal;
    onProgress: (p: { done: number; total: number; symbol: string; key: string }) => void;
  }) => Promise<IndicatorBatchSummary | null>,
): Promise<IndicatorBatchSummary | null> {
  const ac = new AbortController();
  const onSigint = (): void => {
    ctx.err('\ninterrupted: finishing the current file (Ctrl-C again to quit now)');
    ac.abort();
    process.once('SIGINT', () => process.exit(130));
  };
  process.once('SIGINT', onSigint);
  const progress = new Progress(!ctx.json);
  try {
    return await run({
      signal: ac.signal,
      onProgress: (p) => progress.update(`indicators ${p.done}/${p.total} ${p.symbol} ${p.key}`),
    });
  } finally {
    progress.done();
    process.off('SIGINT', onSigint);
  }
}

export const indicatorsCommand: CliCommand = {
  name: 'indicators',
  usage: 'indicators',
  summary: `(--symbols A,B | --group NAME) [--intervals 1h,4h] [--indicators ${INDICATOR_NAMES.join(',')}] [--params rsi.period=21,bbands.k=2.5] [--no-derive]: compute and cache indicators`,
  options: {
    ...SERIES_OPTIONS,
    symbols: { type: 'string' },
    group: { type: 'string' },
    indicators: { type: 'string' },
    params: { type: 'string' },
    'no-derive': { type: 'boolean', default: false },
  },
  async run(ctx, values) {
    const symbols = listOf(values.symbols);
    const group = values.group as string | undefined;
    if ((symbols === undefined) === (group === undefined))
      throw new UsageError('Choose exactly one of --symbols A,B or --group NAME.');
    const intervals: Interval[] =
      typeof values.intervals === 'string'
        ? parseIntervals(values.intervals)
        : ctx.config.data.processing.default_intervals;
    const choices = parseIndicatorArgs(
      typeof values.indicators === 'string' ? values.indicators : INDICATOR_NAMES.join(','),
      typeof values.params === 'string' ? values.params : '',
    );
    if (choices.length === 0) throw new UsageError('The option --indicators lists no indicator.');
    // Fail on bad parameters before opening the bank.
    resolveIndicators(choices);
    // --market/--kind: the indicators of that series of each symbol (any kline kind).
    const list = (symbols ?? groupSymbols(ctx.config, group!)).map((s) => bankKey(values, s));
    const bank = await ctx.openBank();
    const summary = (await runBatch(ctx, (opts) =>
      updateIndicators(
        bank,
        { symbols: list, intervals, indicators: choices, derive: !values['no-derive'] },
        opts,
      ),
    ))!;
    if (ctx.json)
      ctx.out(
        JSON.stringify({
          ok: summary.failed === 0 && !summary.cancelled,
          message: indicatorMessages.updated(summary.updated),
          ...summary,
        }),
      );
    else printIndicatorSummary(ctx, summary);
    return summary.cancelled ? 130 : summary.failed ? EXIT.problems : EXIT.ok;
  },
};

/**
 * The ingest command, extended: after it ran, the configured `indicators.after_ingest` are
 * refreshed for the symbols whose 1m data changed, over the ingest's intervals. Done by wrapping
 * the registered command (rather than inside the ingest job), so the job stays about candles and
 * the refresh happens in the same process, on the same bank, under the same Ctrl-C handling.
 */
export function withIndicatorRefresh(ingest: CliCommand): CliCommand {
  const runIngest = ingest.run.bind(ingest);
  const run: CliCommand['run'] = async (ctx, values, positionals) => {
    if (ctx.config.indicators.after_ingest.length === 0 || values['dry-run'] || values.join)
      return runIngest(ctx, values, positionals);
    const bank = await ctx.openBank();
    const before = new Map(bank.list().map((d) => [d.id, bank.datasetChecksum(d.symbol, '1m')]));
    const code = await runIngest(
      { ...ctx, openBank: () => Promise.resolve(bank) },
      values,
      positionals,
    );
    const changed = [
      ...new Set(
        bank
          .list()
          .filter((d) => d.interval === '1m' && d.kind === 'candles')
          .filter((d) => before.get(d.id) !== bank.datasetChecksum(d.symbol, '1m'))
          .map((d) => d.symbol),
      ),
    ];
    const intervals: Interval[] =
      typeof values.intervals === 'string'
        ? parseIntervals(values.intervals)
        : ctx.config.data.processing.default_intervals;
    const summary = await runBatch(ctx, (opts) =>
      refreshAfterIngest(bank, ctx.config, changed, intervals, {
        ...opts,
        warn: (m) => ctx.err(m),
      }),
    );
    if (!summary) return code;
    if (ctx.json)
      ctx.out(
        JSON.stringify({
          afterIngest: true,
          message: indicatorMessages.updated(summary.updated),
          ...summary,
        }),
      );
    else printIndicatorSummary(ctx, summary);
    return code === EXIT.ok && summary.failed ? EXIT.problems : code;
  };
  return { ...ingest, run };
}
