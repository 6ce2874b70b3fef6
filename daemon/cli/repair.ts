/** `threadx repair [--symbol S ...]`: re-fetch or rebuild what verify finds broken. */
import { ingestDepsFor } from '../app/bank.ts';
import { repairSymbols, type RepairSummary } from '../app/repair.ts';
import { type CliCommand, EXIT, type CommandContext } from './context.ts';
import { iso, Progress, table } from './format.ts';

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

export const repairCommand: CliCommand = {
  name: 'repair',
  usage: 'repair',
  summary:
    '[--symbol S ...] re-fetch corrupt or missing 1m months, rebuild damaged derived files and indicator caches, verify',
  options: {
    symbol: { type: 'string', multiple: true },
    'base-url': { type: 'string' },
    'archive-url': { type: 'string' },
  },
  async run(ctx, values) {
    const bank = await ctx.openBank();
    const symbols = ((values.symbol as string[] | undefined) ?? []).flatMap((s) => s.split(','));
    const progress = new Progress(!ctx.json);
    const ac = new AbortController();
    const onSigint = (): void => ac.abort();
    process.once('SIGINT', onSigint);
    try {
      const baseUrl = values['base-url'] as string | undefined;
      const archiveUrl = values['archive-url'] as string | undefined;
      const summary = await repairSymbols(
        ingestDepsFor(bank, ctx.config, {
          ...(baseUrl ? { baseUrl } : {}),
          ...(archiveUrl ? { archiveUrl } : {}),
        }),
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
