/**
 * `threadx coverage --symbols A,B [--start ISO] [--end ISO] [--by day|hour]`: why each minute of a
 * range is missing, counted per class (real, filled, outage, unlisted, not fetched, failed), per
 * symbol and, with --by, per UTC day or hour. Reads the registry only: no lock, no candles.
 */
import { parseSymbol, parseUtcDate } from '../../schemas/common.ts';
import { ThreadxError } from '../../schemas/errors.ts';
import {
  type CoverageBucket,
  type CoverageCounts,
  MINUTE_CLASSES,
  coverageCounts,
} from '../app/coverage.ts';
import { type CliCommand, EXIT, UsageError } from './context.ts';
import { iso, table } from './format.ts';

const HEADERS = ['real', 'filled', 'outage', 'unlisted', 'not fetched', 'failed'];

/** The table `threadx coverage` prints: totals per symbol, then per bucket with `by`. */
export function coverageTable(c: CoverageCounts, by: boolean): string {
  const totals = table(
    ['symbol', ...HEADERS],
    c.symbols.map((s) => [s.symbol, ...MINUTE_CLASSES.map((k) => s.total[k])]),
  );
  const head = `minutes of ${iso(c.start)} .. ${iso(c.end)} (${(c.end - c.start) / 60_000} per symbol)`;
  if (!by) return `${head}\n${totals}`;
  const rows: (string | number)[][] = [];
  for (const s of c.symbols)
    for (let i = 0; i < c.buckets.length; i++)
      rows.push([s.symbol, iso(c.buckets[i]), ...MINUTE_CLASSES.map((k) => s.counts[k][i])]);
  return `${head}\n${totals}\n\nper ${c.bucket}:\n${table(['symbol', c.bucket, ...HEADERS], rows)}`;
}

export const coverageCommand: CliCommand = {
  name: 'coverage',
  usage: 'coverage',
  summary:
    '--symbols A,B [--start ISO] [--end ISO] [--by day|hour] why each minute is missing: real, filled, outage, unlisted, not fetched, failed',
  options: {
    symbols: { type: 'string' },
    by: { type: 'string' },
  },
  async run(ctx, values) {
    const list = typeof values.symbols === 'string' ? values.symbols : '';
    const symbols = [
      ...new Set(
        list
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
          .map((s) => parseSymbol(s)),
      ),
    ];
    if (symbols.length === 0)
      throw new UsageError('The option --symbols is required (e.g. --symbols BTCUSDC,ETHUSDC).');
    const by = values.by as string | undefined;
    if (by !== undefined && by !== 'day' && by !== 'hour')
      throw new UsageError(`--by takes day or hour, not ${JSON.stringify(by)}.`);
    const start = typeof values.start === 'string' ? parseUtcDate(values.start) : undefined;
    const end = typeof values.end === 'string' ? parseUtcDate(values.end) : undefined;
    const bank = await ctx.openBank('read');
    const result = coverageCounts(bank, {
      symbols,
      ...(start !== undefined ? { start } : {}),
      ...(end !== undefined ? { end } : {}),
      // Totals alone: days are the fewest buckets.
      bucket: (by as CoverageBucket | undefined) ?? 'day',
    });
    const unknown = result.symbols.filter((s) => !s.held).map((s) => s.symbol);
    if (unknown.length === symbols.length)
      throw new ThreadxError(
        'NOT_FOUND',
        `The bank holds no 1m candles of ${unknown.join(', ')}.`,
        'List what the bank holds with "threadx list", or ingest the symbols first.',
        { symbol: unknown[0] },
      );
    if (ctx.json) {
      ctx.out(JSON.stringify({ ok: true, ...result }));
      return EXIT.ok;
    }
    ctx.out(coverageTable(result, by !== undefined));
    if (unknown.length) ctx.out(`not in the bank (all not fetched): ${unknown.join(', ')}`);
    return EXIT.ok;
  },
};
