/**
 * The bank's files as a reader and `verify` see them: where each registered file must be, its
 * bytes read only when the registry can vouch for them, 1m partitions decoded in parallel, and
 * the full check of every file against the registry.
 *
 * Invariant: a read never answers with data the bank cannot vouch for. A file the last verify
 * found damaged, a missing file, a file whose size differs from the registry's, or a registry
 * entry pointing anywhere but its dataset's own file is refused with CORRUPT and the fix.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { ThreadxError } from '../../schemas/errors.ts';
import {
  type Candles,
  allocCandles,
  clipCandles as clip,
  concatCandles as concat,
} from '../../schemas/candles.ts';
import type { Interval } from '../../schemas/intervals.ts';
import { parseBankKey as parseSymbol } from '../../schemas/common.ts';
import type { DatasetEntry, FileEntry, VerifyIssue } from '../../schemas/registry.ts';
import { validateCandles, describeViolations } from '../engine/validate.ts';
import { pricesOf } from '../../schemas/markets.ts';
import { type BankCore, NotFoundError } from './core.ts';
import { type Layout, monthKey } from './layout.ts';
import { decodeCandles, decodeColumns } from './parquet.ts';
import { codecPool } from './codec-pool.ts';
import { seeFile } from './observe.ts';
import { datasetId, indicatorId, sha256 } from './registry.ts';

/** Reads 1m candles in [start, end) from the monthly partitions (all when unbounded). */
export async function read1m(
  core: BankCore,
  symbol: string,
  start = -Infinity,
  end = Infinity,
): Promise<Candles> {
  const entry = core.reg.datasets[datasetId(parseSymbol(symbol), '1m')];
  if (!entry) return allocCandles(0);
  // Partitions decode in parallel on the codec pool.
  const wanted = entry.files.filter(
    (f) => f.last !== null && f.first !== null && f.last >= start && f.first < end,
  );
  const parts = await Promise.all(
    wanted.map(async (f) => clip(await decodePartition(core.layout, entry, f), start, end)),
  );
  return concat(parts);
}

/** A registered 1m partition, checked (`readChecked`) and decoded on the codec pool. */
export async function decodePartition(
  layout: Layout,
  entry: DatasetEntry,
  f: FileEntry,
): Promise<Candles> {
  const bytes = await readChecked(layout, entry, f);
  try {
    return (await codecPool().decode(bytes, f.path)).candles;
  } catch (e) {
    throw corrupt(entry, f, 'it cannot be decoded as Parquet', e);
  }
}

/** Reads a stored timeframe in [start, end). */
export async function readTimeframe(
  core: BankCore,
  symbol: string,
  interval: Interval,
  start = -Infinity,
  end = Infinity,
): Promise<Candles> {
  if (interval === '1m') return read1m(core, symbol, start, end);
  const entry = core.reg.datasets[datasetId(parseSymbol(symbol), interval)];
  // Derived, with every bucket still pending: no candle yet (the entry says how many wait).
  if (entry && entry.files.length === 0 && (entry.pending?.length ?? 0) > 0) return allocCandles(0);
  if (!entry || entry.files.length === 0) {
    throw new NotFoundError(
      `no ${interval} data for ${parseSymbol(symbol)}: run "threadx resample --symbol ${parseSymbol(symbol)} --intervals ${interval}"`,
    );
  }
  const f = entry.files[0];
  const bytes = await readChecked(core.layout, entry, f);
  let candles: Candles;
  try {
    ({ candles } = decodeCandles(bytes, f.path));
  } catch (e) {
    throw corrupt(entry, f, 'it cannot be decoded as Parquet', e);
  }
  return clip(candles, start, end);
}

/**
 * A registered file's bytes, refused when the last verify found it corrupt, changed or missing,
 * when it is gone, or when its size differs from the registry's: a read never answers with data
 * the bank cannot vouch for (the full checksum is `verify`'s job).
 */
export async function readChecked(
  layout: Layout,
  entry: DatasetEntry,
  f: FileEntry,
): Promise<Buffer> {
  if (f.verify && f.verify.status !== 'ok') {
    throw corrupt(entry, f, f.verify.reason ?? verifyWords(f.verify.status));
  }
  let bytes: Buffer;
  try {
    // An entry that does not point at its dataset's own file is refused, never followed.
    bytes = await fsp.readFile(followable(layout, entry, f));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT')
      throw corrupt(entry, f, 'the file is missing', e);
    throw e;
  }
  if (bytes.length !== f.bytes) {
    throw corrupt(entry, f, `it has ${bytes.length} bytes where the registry recorded ${f.bytes}`);
  }
  return bytes;
}

/** The error a read answers for a file it cannot vouch for: the file, and the fix. */
export function corrupt(
  entry: DatasetEntry,
  f: FileEntry,
  reason: string,
  cause?: unknown,
): ThreadxError {
  return new ThreadxError(
    'CORRUPT',
    `${entry.id} cannot be read: ${f.path} is damaged (${reason}). Run "threadx repair --symbol ${entry.symbol}".`,
    undefined,
    { dataset: entry.id, file: f.path, reason },
    cause === undefined ? undefined : { cause },
  );
}

/** The last verify found this file damaged (changed, corrupt or missing): it must be rewritten. */
export function damaged(f: FileEntry): boolean {
  return f.verify !== undefined && f.verify.status !== 'ok';
}

/** A verify finding in plain words, for a file whose record carries no reason. */
export function verifyWords(status: 'ok' | 'changed' | 'corrupt' | 'missing'): string {
  switch (status) {
    case 'ok':
      return 'verified';
    case 'changed':
      return 'its content changed outside the bank';
    case 'corrupt':
      return 'its content is damaged';
    case 'missing':
      return 'the file is missing';
  }
}

/**
 * Where a registered file of `d` must be: the layout's canonical path for that dataset (1m: a
 * monthly partition of its symbol; derived: its timeframe's file; indicator: its cache file).
 * Null when the entry itself does not name a dataset the layout knows. A registry entry that
 * points anywhere else (another dataset's file, outside the bank) is never followed: `verify`
 * reports it, and deletes and rewrites refuse it.
 */
export function canonicalPath(layout: Layout, d: DatasetEntry, f: FileEntry): string | null {
  try {
    const symbol = parseSymbol(d.symbol);
    if (d.kind === 'indicator') {
      const key = d.id.split('/')[2] ?? '';
      if (d.id !== indicatorId(symbol, d.interval, key)) return null;
      return layout.rel(layout.indicator(symbol, d.interval, key));
    }
    if (d.id !== datasetId(symbol, d.interval)) return null;
    if (d.interval === '1m') {
      const m = /^processed\/[^.]+\/1m\/(\d{4}-\d{2})\.parquet$/.exec(f.path);
      const key = m?.[1] ?? (f.first !== null ? monthKey(f.first) : '0000-00');
      return layout.rel(layout.partition(symbol, key));
    }
    return layout.rel(layout.derived(symbol, d.interval));
  } catch {
    return null;
  }
}

/** The absolute path of a registered file, or CORRUPT when the entry points anywhere else. */
export function followable(layout: Layout, d: DatasetEntry, f: FileEntry): string {
  const want = canonicalPath(layout, d, f);
  if (want !== f.path) {
    throw new ThreadxError(
      'CORRUPT',
      `The registry entry ${d.id} lists ${JSON.stringify(f.path)}, which is not that dataset's file${want ? ` (${want})` : ''}; nothing was changed.`,
      'Run "threadx verify" to list every such entry, then restore registry.json from a backup or remove the entry from it.',
      { dataset: d.id, path: f.path, expected: want },
    );
  }
  return layout.abs(f.path);
}

/** A file's sha256, or null when it cannot be read. */
export async function fileSha(abs: string): Promise<string | null> {
  try {
    return sha256(await fsp.readFile(abs));
  } catch {
    return null;
  }
}

export interface VerifyOptions {
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
  /** Only these symbols' files (and no unregistered-file scan). */
  symbols?: readonly string[];
  /**
   * Only files that carry no finding yet: those written since the last verify (a write
   * clears the finding) or never verified. What a download checks after it has written.
   */
  unverified?: boolean;
  /**
   * Keep each file's finding in the registry (the default). False for a reader that does
   * not hold the bank's lock: it checks and reports, and writes nothing.
   */
  record?: boolean;
}

/**
 * Recomputes every checksum and re-validates every file; reports changed, corrupt, missing
 * and unregistered files.
 */
export async function verify(core: BankCore, opts: VerifyOptions = {}): Promise<VerifyIssue[]> {
  const { layout, reg } = core;
  const record = opts.record ?? true;
  const issues: VerifyIssue[] = [];
  const known = new Set<string>();
  const only = opts.symbols ? new Set(opts.symbols.map((x) => parseSymbol(x))) : null;
  const all = Object.entries(reg.datasets)
    .filter(([, d]) => !only || only.has(d.symbol))
    .flatMap(([key, d]) => d.files.map((f) => ({ key, d, f })))
    .filter(({ f }) => !opts.unverified || f.verify === undefined);
  let done = 0;
  for (const { key, d, f } of all) {
    opts.signal?.throwIfAborted();
    // An entry that does not point at its dataset's own file is a finding, never followed.
    const want = key === d.id ? canonicalPath(layout, d, f) : null;
    if (want !== f.path) {
      issues.push({
        path: f.path,
        status: 'corrupt',
        dataset: key,
        detail: `registry entry points at ${JSON.stringify(f.path)}, not at ${want ?? `a file of ${key}`}; not followed`,
      });
      opts.onProgress?.(++done, all.length);
      continue;
    }
    known.add(f.path);
    // Seen before the read: a change after this moment makes the next listing say so.
    const seen = await seeFile(layout.abs(f.path));
    const { status, detail, reason } = await verifyFile(layout, d, f);
    // The finding is the file's own, kept in the registry: it survives a reload and a restart,
    // and a rewrite of the file (a new entry) clears it.
    const since = f.verify?.status === 'ok' ? f.verify.at : f.writtenAt;
    if (record) {
      f.verify = {
        at: core.now(),
        status,
        ...(reason ? { reason } : {}),
        ...(status !== 'ok' && since !== undefined ? { since } : {}),
      };
      // "Verified" means verified and unchanged since: a sound file's modification time is
      // the one listings compare with from now on.
      if (status === 'ok' && seen) f.mtime = seen.mtime;
    }
    issues.push({ path: f.path, status, dataset: d.id, ...(detail ? { detail } : {}) });
    opts.onProgress?.(++done, all.length);
  }
  if (record && all.length > 0) await core.store.save();
  if (only) return issues;
  for (const dir of [layout.processed, layout.indicators]) {
    for (const rel of await listParquet(dir, layout)) {
      if (!known.has(rel))
        issues.push({
          path: rel,
          status: 'unregistered',
          detail: 'Parquet file not in the registry',
        });
    }
  }
  return issues;
}

/** Checks one registered file: checksum, decodability, the data contract, the row count. */
async function verifyFile(
  layout: Layout,
  d: DatasetEntry,
  f: FileEntry,
): Promise<{
  status: 'ok' | 'changed' | 'corrupt' | 'missing';
  detail?: string;
  reason?: string;
}> {
  let bytes: Buffer;
  try {
    bytes = await fsp.readFile(layout.abs(f.path));
  } catch {
    return {
      status: 'missing',
      detail: 'file listed in the registry does not exist',
      reason: 'the file is missing',
    };
  }
  const sum = sha256(bytes);
  let status: 'ok' | 'changed' | 'corrupt' = sum === f.sha256 ? 'ok' : 'changed';
  let detail: string | undefined =
    status === 'changed'
      ? `sha256 ${sum.slice(0, 12)}… differs from the registry's ${f.sha256.slice(0, 12)}…`
      : undefined;
  let reason: string | undefined =
    status === 'changed' ? 'its content changed outside the bank (checksum differs)' : undefined;
  let rows: number;
  let candles: Candles | null = null;
  try {
    if (d.kind === 'indicator') rows = decodeColumns(bytes, f.path).timestamp.length;
    else {
      candles = decodeCandles(bytes, f.path).candles;
      rows = candles.length;
    }
  } catch (e) {
    return {
      status: 'corrupt',
      detail: `cannot be decoded: ${(e as Error).message}`,
      reason:
        bytes.length < f.bytes
          ? `the file is truncated (${bytes.length} of ${f.bytes} bytes) and cannot be read`
          : 'the file is damaged and cannot be read as Parquet',
    };
  }
  if (candles) {
    const r = validateCandles(candles, d.interval, { prices: pricesOf(d.klineKind) });
    if (!r.ok) {
      const text = describeViolations(r, 3);
      return {
        status: 'corrupt',
        detail: text,
        reason: `its candles break the data contract: ${text}`,
      };
    }
  }
  if (rows !== f.rows) {
    detail = `${rows} rows, registry says ${f.rows}`;
    reason = `it holds ${rows} rows where the registry recorded ${f.rows}`;
    if (status === 'ok') status = 'changed';
  }
  return { status, ...(detail ? { detail } : {}), ...(reason ? { reason } : {}) };
}

async function listParquet(dir: string, layout: Layout): Promise<string[]> {
  try {
    const entries = await fsp.readdir(dir, { withFileTypes: true, recursive: true });
    return entries
      .filter((e) => e.isFile() && e.name.endsWith('.parquet'))
      .map((e) => layout.rel(path.join(e.parentPath, e.name)));
  } catch {
    return [];
  }
}
