/**
 * Reading the bank for people: `data/read` (a chart's candles, at a coarser timeframe when the
 * range holds more than `maxPoints`), `data/export` (CSV, Excel or Parquet to a path the client chose) and
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
import { type ExportFormat, exportFile } from './export-file.ts';
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
    outages: outagesWithin(bank.confirmedEmpty(p.symbol), c.openTime, c.length),
    columns: toColumns(c),
  };
}

/**
 * The exchange's confirmed-empty ranges that fall between the first and the last candle served
 * (before the first trade is not an outage a chart can show).
 */
export function outagesWithin(
  empty: readonly (readonly [number, number])[],
  openTime: ArrayLike<number>,
  length: number,
): [number, number][] {
  if (length === 0) return [];
  const first = openTime[0];
  const last = openTime[length - 1];
  return empty.filter(([s, e]) => e > first && s < last).map(([s, e]): [number, number] => [s, e]);
}

/** `data/export`: one dataset's range as CSV, an Excel workbook or Parquet. */
export async function exportData(
  svc: Services,
  p: ParsedParams<'data/export'>,
  ctx: JobContext,
): Promise<Result<'data/export'>> {
  const { bank, dataDir } = svc.state;
  const out = await checkExportPath(
    p.out,
    p.overwrite,
    p.format,
    bank.layout.processed,
    bank.layout.indicators,
    dataDir,
  );
  const start = p.start ?? -Infinity;
  const end = p.end ?? Infinity;
  if (start >= end)
    throw invalidParams('data/export', [{ path: ['end'], message: messages.startAfterEnd() }]);
  ctx.progress.begin(`Export ${p.symbol} ${p.interval}`, 'reading');
  if (p.format === 'csv' && !p.indicators?.length) {
    const c = await readExact(bank, p.symbol, p.interval, start, end);
    ctx.signal.throwIfAborted();
    const rows = await exportCsv(c, out);
    const { size } = await fsp.stat(out);
    return { out, rows, bytes: size };
  }
  const r = await exportFile(bank, {
    symbol: p.symbol,
    interval: p.interval,
    start,
    end,
    out,
    format: p.format,
    ...(p.indicators ? { indicators: p.indicators } : {}),
  });
  return { out: r.out, rows: r.rows, bytes: r.bytes };
}

/**
 * Checks an export target: absolute, in an existing folder, a file with the format's extension, not inside the bank's
 * own data folders, not an existing file unless `overwrite`. The path comes from the client as
 * is; nothing is ever built from symbol text.
 */
export async function checkExportPath(
  out: string,
  overwrite: boolean,
  format: ExportFormat,
  ...forbidden: string[]
): Promise<string> {
  const bad = (message: string): ThreadxError =>
    invalidParams('data/export', [{ path: ['out'], message }]);
  if (out.includes('\0') || !path.isAbsolute(out)) throw bad(messages.exportNotAbsolute());
  const file = path.resolve(out);
  if (path.extname(file).toLowerCase() !== `.${format}`)
    throw bad(messages.exportExtension(format));
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
