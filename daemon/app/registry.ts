/**
 * Registry operations: list (served from the registry view), verify (alone: every other job
 * waits), delete (under the symbol's write lock).
 */
import type { Gap } from '../../schemas/registry.ts';
import type { ParsedParams, Result } from '../../schemas/protocol.ts';
import type { JobContext, Services } from './services.ts';

/**
 * `registry/list` with a filter or details (the full list is served as cached JSON). Each listed
 * file is looked at on disk first, so the integrity shown is true now (`RegistryView`).
 */
export async function listRegistry(
  svc: Services,
  p: ParsedParams<'registry/list'>,
): Promise<Result<'registry/list'>> {
  const datasets = await svc.registry.list(p.filter);
  if (!p.details) return { datasets };
  const gaps: Record<string, Gap[]> = {};
  for (const d of datasets) gaps[d.id] = svc.state.bank.registry().datasets[d.id]?.gaps ?? [];
  return { datasets, gaps };
}

/** The full list as JSON text, re-serialised only when the registry or a file on disk changed. */
export function registryListJson(svc: Services): Promise<string> {
  return svc.registry.listJson();
}

/** `registry/verify`: every checksum recomputed and every file re-validated. */
export function verifyBank(svc: Services, ctx: JobContext): Promise<Result<'registry/verify'>> {
  const { bank } = svc.state;
  return svc.exclusive(ctx, async () => {
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
  });
}

/** `registry/delete`: a dataset (or every dataset of a symbol) and its files. */
export function deleteDataset(
  svc: Services,
  p: ParsedParams<'registry/delete'>,
  ctx: JobContext,
): Promise<Result<'registry/delete'>> {
  const { bank } = svc.state;
  return svc.writing([p.symbol], 'delete', ctx, async () => {
    const before = new Set(Object.keys(bank.registry().datasets));
    const files = await bank.deleteDataset(p.symbol, p.interval);
    const after = new Set(Object.keys(bank.registry().datasets));
    return { datasets: [...before].filter((id) => !after.has(id)).sort(), files };
  });
}
