/**
 * Reading the bank for people: `data/read` (a chart's candles, at a coarser timeframe when the
 * range holds more than `maxPoints`), `data/export` (CSV to a path the client chose) and
 * `indicators/read`.
 *
 * Invariant: reads take no lock. Every file in the bank is replaced by an atomic rename, so a
 * reader sees a whole old file or a whole new one; a chart stays responsive while an ingest of the
 * same symbol runs.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { ParsedParams, Result } from '../../schemas/protocol.ts';
import { ThreadxError, invalidParams } from '../../schemas/errors.ts';
import { exportCsv } from '../store/export.ts';
import { messages } from './messages.ts';
import { loadPlan, planRead, readExact, toColumns } from './read.ts';
import type { JobContext, Services } from './services.ts';

/** `data/read`: the candles a chart shows. */
export async function readForChart(
  svc: Services,
  p: ParsedParams<'data/read'>,
): Promise<Result<'data/read'>> {
  const { bank } = svc.state;
  const plan = planRead(bank, p.symbol, p.interval, p.start, p.end, p.maxPoints, p.exact);
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
}

/** `data/export`: one dataset's range as CSV. */
export async function exportData(
  svc: Services,
  p: ParsedParams<'data/export'>,
  ctx: JobContext,
): Promise<Result<'data/export'>> {
  const { bank, dataDir } = svc.state;
  const out = await checkExportPath(
    p.out,
    p.overwrite,
    bank.layout.processed,
    bank.layout.indicators,
    dataDir,
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
}

/**
 * Checks an export target: absolute, in an existing folder, a `.csv` file, not inside the bank's
 * own data folders, not an existing file unless `overwrite`. The path comes from the client as
 * is; nothing is ever built from symbol text.
 */
export async function checkExportPath(
  out: string,
  overwrite: boolean,
  ...forbidden: string[]
): Promise<string> {
  const bad = (message: string): ThreadxError =>
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
    if (e instanceof ThreadxError) throw e;
  }
  return file;
}
