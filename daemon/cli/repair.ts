/**
 * `threadx repair [--symbol S ...] [--join]`: re-fetch or rebuild what verify finds broken. The
 * bank has one writer: beside a running daemon (VS Code's, or `threadx serve`) the repair runs in
 * that daemon with `--join` (`registry/repair`, as `ingest --join` runs `ingest/run`), and
 * without it the refusal names that exact command.
 */
import { ThreadxError } from '../../schemas/errors.ts';
import { ingestDepsFor } from '../app/bank.ts';
import { repairSymbols, type RepairSummary } from '../app/repair.ts';
import { type CliCommand, EXIT, type CommandContext, joinRefusals } from './context.ts';
import { iso, Progress, table } from './format.ts';
import { SERIES_OPTIONS, bankKey, seriesFlags } from './series.ts';

function printRepair(ctx: CommandContext, s: RepairSummary): void {
  ctx.out(
    table(
      ['symbol', 'found', 'refetched', 'rebuilt', 'status'],
      s.results.map((r) => [
        r.symbol,
        r.found.length,
        r.refetched.map(([a, b]) => `${iso(a)}..${iso(b)}`).join(' ') || '-',
        r.rebuilt.join(' ') || '-',
        r.ok
          ? r.found.length
            ? 'repaired, verified'
            : 'sound, nothing to do'
          : `not repaired: ${r.error?.message ?? r.remaining.map((i) => `${i.status} ${i.path}`).join(', ')}`,
      ]),
    ),
  );
  for (const note of s.notes ?? []) ctx.out(note);
}

/** The command line that repairs these symbols in the daemon, as a refusal names it. */
export function joinCommandLine(symbols: string[]): string {
  return `threadx repair${symbols.map((s) => ` --symbol ${s}`).join('')} --join`;
}

/**
 * A LOCKED refusal whose holder is a daemon, with the one fix that works beside it: the same
 * repair with `--join`. Any other error is returned as it is.
 */
function lockedByDaemon(e: unknown, symbols: string[]): unknown {
  if (!(e instanceof ThreadxError) || e.code !== 'LOCKED') return e;
  const command = typeof e.details.command === 'string' ? e.details.command : '';
  if (!command.startsWith('threadx serve')) return e;
  const pid = typeof e.details.pid === 'number' ? ` (kill ${e.details.pid})` : '';
  return new ThreadxError(
    'LOCKED',
    e.message,
    `Run "${joinCommandLine(symbols)}" to repair in that daemon (in VS Code: "ThreadX: Repair Symbol..."), or stop it${pid} and run the command again.`,
    { ...e.details, join: joinCommandLine(symbols) },
    { cause: e },
  );
}

/** `repair --join`: the daemon serving the bank repairs; this process only shows the result. */
async function repairThroughDaemon(
  ctx: CommandContext,
  symbols: string[],
  values: Record<string, unknown>,
): Promise<number> {
  if (values['base-url'] !== undefined || values['archive-url'] !== undefined)
    throw joinRefusals.overrides();
  if (!ctx.joinRepair) throw joinRefusals.noProgram();
  const progress = new Progress(!ctx.json);
  const joined = await ctx.joinRepair(ctx.dataDir, symbols.length ? { symbols } : {}, (message) =>
    progress.update(message),
  );
  progress.done();
  if (!joined) throw joinRefusals.noDaemon(ctx.dataDir);
  const { pid, result } = joined;
  if (ctx.json) ctx.out(JSON.stringify({ joined: pid, ...result }));
  else printRepair(ctx, result);
  return result.ok ? EXIT.ok : EXIT.problems;
}

export const repairCommand: CliCommand = {
  name: 'repair',
  usage: 'repair',
  summary:
    '[--symbol S ...] [--join] re-fetch corrupt or missing 1m months, rebuild damaged derived files and indicator caches, verify',
  options: {
    ...SERIES_OPTIONS,
    symbol: { type: 'string', multiple: true },
    'base-url': { type: 'string' },
    'archive-url': { type: 'string' },
    join: { type: 'boolean', default: false },
  },
  async run(ctx, values) {
    const flags = seriesFlags(values);
    const named = ((values.symbol as string[] | undefined) ?? []).flatMap((s) => s.split(','));
    // --market/--kind name the series of each --symbol; alone, every series of that market.
    let symbols = named.map((s) => bankKey(values, s));
    if (values.join && flags.given)
      throw new ThreadxError(
        'BAD_INPUT',
        'repair --join repairs spot series only: the daemon protocol does not name a market yet.',
        'Stop the daemon and run the repair without --join.',
      );
    if (values.join) return repairThroughDaemon(ctx, symbols, values);
    const bank = await ctx.openBank().catch((e: unknown) => {
      throw lockedByDaemon(e, symbols);
    });
    if (symbols.length === 0 && flags.given)
      symbols = [
        ...new Set(
          bank
            .list()
            .filter(
              (d) =>
                (d.market ?? 'spot') === flags.market &&
                (values.kind === undefined || (d.klineKind ?? 'klines') === flags.kind),
            )
            .map((d) => d.symbol),
        ),
      ];
    const progress = new Progress(!ctx.json);
    const ac = new AbortController();
    const onSigint = (): void => ac.abort();
    process.once('SIGINT', onSigint);
    try {
      const baseUrl = values['base-url'] as string | undefined;
      const archiveUrl = values['archive-url'] as string | undefined;
      const summary = await repairSymbols(
        ingestDepsFor(
          bank,
          ctx.config,
          {
            ...(baseUrl ? { baseUrl } : {}),
            ...(archiveUrl ? { archiveUrl } : {}),
          },
          flags.market,
        ),
        symbols.length ? symbols : undefined,
        { signal: ac.signal, onProgress: (sym, m) => progress.update(`${sym}: ${m}`) },
      );
      progress.done();
      if (ctx.json) ctx.out(JSON.stringify(summary));
      else printRepair(ctx, summary);
      return summary.ok ? EXIT.ok : EXIT.problems;
    } finally {
      process.off('SIGINT', onSigint);
    }
  },
};
