/**
 * The repair use case: bring symbols' files back to what the registry promises (corrupt or
 * missing 1m months re-fetched for exactly their ranges, damaged derived files and indicator
 * caches rebuilt from 1m, sound files untouched, the result verified). The daemon runs it under
 * the symbols' write locks and broadcasts what changed; the CLI runs the same job directly.
 */
import type { ParsedParams, Result } from '../../schemas/protocol.ts';
import { repairSymbols } from '../jobs/repair.ts';
import type { JobContext, Services } from './services.ts';

export { repairSymbols, type RepairSummary, type RepairResult } from '../jobs/repair.ts';

/** `registry/repair`: the symbols asked for (default: every symbol in the bank). */
export function repairUseCase(
  svc: Services,
  p: ParsedParams<'registry/repair'>,
  ctx: JobContext,
): Promise<Result<'registry/repair'>> {
  const { bank } = svc.state;
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
}
