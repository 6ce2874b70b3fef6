import { promises as fsp } from 'node:fs';
import { createHash } from 'node:crypto';
import {
  type DatasetEntry,
  type FileEntry,
  type Gap,
  type Registry,
  RegistrySchema,
  LAYOUT_VERSION,
  emptyRegistry,
} from '../../schemas/registry.ts';
import { type Interval, intervalMs } from '../../schemas/intervals.ts';
import { parseSeriesKey } from '../../schemas/markets.ts';
import { writeFileAtomic } from './atomic.ts';
import { ThreadxError } from '../../schemas/errors.ts';
import type { BankLock } from './lock.ts';

/** SHA-256, lower-case hex (the one helper, in engine/archive-file.ts). */
export { sha256Hex as sha256 } from '../engine/archive-file.ts';

export class RegistryError extends ThreadxError {
  override readonly name = 'RegistryError';
  constructor(message: string) {
    super('REGISTRY', message);
  }
}

const REGISTRY_FIX =
  'Restore it from a backup; or move it away and run "threadx import" or "threadx ingest" again, which rewrite the data and a new registry ("threadx verify" then lists any file left unregistered).';

export async function loadRegistry(file: string): Promise<Registry> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return emptyRegistry();
    throw e;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
    // Let the text go before the schema copies the registry (200,000 datasets: 150 MB of it).
    text = '';
  } catch (e) {
    throw new ThreadxError(
      'REGISTRY',
      `${file} is not valid JSON (${(e as Error).message}).`,
      REGISTRY_FIX,
      { path: file },
    );
  }
  const parsed = RegistrySchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ThreadxError(
      'REGISTRY',
      `${file} does not match the registry format (${issue ? `${issue.path.join('.') || 'top level'}: ${issue.message}` : 'unknown'}).`,
      REGISTRY_FIX,
      { path: file },
    );
  }
  return parsed.data;
}

/**
 * Writes the registry atomically; returns the written file's identity (see `writeFileAtomic`).
 * The text is made at once (a consistent snapshot) but in pieces, written one by one.
 */
export function saveRegistry(
  file: string,
  reg: Registry,
): Promise<{ dev: number; ino: number; size: number; mtimeMs: number }> {
  return writeFileAtomic(file, registryText(reg));
}

/** Pieces of about this many characters. */
const PIECE = 1 << 20;

/**
 * `JSON.stringify(reg, null, 1)`, the registry's format, as pieces of about 1 MB: each dataset
 * is serialised alone and indented to its depth, so 200,000 datasets never make one string of
 * the whole file (and then one buffer of it) besides the registry itself.
 */
export function registryText(reg: Registry): string[] {
  const pieces: string[] = [];
  // Parts joined into one flat string per piece: `+=` would keep a rope of every small string.
  let parts: string[] = [];
  let size = 0;
  const add = (s: string): void => {
    parts.push(s);
    size += s.length;
    if (size >= PIECE) {
      pieces.push(parts.join(''));
      parts = [];
      size = 0;
    }
  };
  const record = (obj: Record<string, unknown>, last: boolean): void => {
    let first = true;
    for (const k in obj) {
      if (obj[k] === undefined) continue;
      add(`${first ? '' : ','}\n  ${JSON.stringify(k)}: `);
      add(JSON.stringify(obj[k], null, 1).replaceAll('\n', '\n  '));
      first = false;
    }
    add(first ? `{}${last ? '' : ','}` : `\n }${last ? '' : ','}`);
  };
  const top = reg as unknown as Record<string, unknown>;
  const keys = Object.keys(top).filter((k) => top[k] !== undefined);
  add('{');
  keys.forEach((k, i) => {
    const v = top[k];
    const last = i === keys.length - 1;
    add(`\n ${JSON.stringify(k)}: `);
    if ((k === 'datasets' || k === 'confirmedEmpty') && v && typeof v === 'object') {
      if (Object.keys(v).length) add('{');
      record(v as Record<string, unknown>, last);
    } else add(`${JSON.stringify(v, null, 1).replaceAll('\n', '\n ')}${last ? '' : ','}`);
  });
  add(keys.length ? '\n}' : '}');
  if (parts.length) pieces.push(parts.join(''));
  return pieces;
}

export function datasetId(symbol: string, interval: Interval): string {
  return `${symbol}/${interval}`;
}

/** Recomputes a dataset's totals from its files: rows, span, gaps (inside and between files). */
export function summarize(entry: DatasetEntry): DatasetEntry {
  const files = [...entry.files].sort((a, b) => (a.first ?? 0) - (b.first ?? 0));
  const step = entry.interval === '1M' ? 0 : intervalMs(entry.interval);
  const gaps: Gap[] = [];
  let rows = 0;
  let filled = 0;
  let prevLast: number | null = null;
  for (const f of files) {
    rows += f.rows;
    filled += f.filledCount;
    if (step > 0 && prevLast !== null && f.first !== null && f.first - prevLast > step) {
      gaps.push({
        start: prevLast + step,
        end: f.first,
        missing: Math.round((f.first - prevLast) / step) - 1,
        filled: false,
      });
    }
    // Loops, never `push(...x)` or `Math.min(...x)`: an argument list as long as a dataset's
    // gaps or files can overflow the stack.
    for (const g of f.gaps) gaps.push(g);
    if (f.last !== null) prevLast = f.last;
  }
  let first: number | null = null;
  let last: number | null = null;
  for (const f of files) {
    if (f.first !== null && (first === null || f.first < first)) first = f.first;
    if (f.last !== null && (last === null || f.last > last)) last = f.last;
  }
  return {
    ...entry,
    files,
    rows,
    filledCount: filled,
    gaps: gaps.sort((a, b) => a.start - b.start),
    first,
    last,
  };
}

export function upsertFile(entry: DatasetEntry, file: FileEntry): DatasetEntry {
  const files = entry.files.filter((f) => f.path !== file.path);
  if (file.rows > 0) files.push(file);
  return summarize({ ...entry, files });
}

/** `SYMBOL/interval/key`, the registry id of a cached indicator. */
export function indicatorId(symbol: string, interval: Interval, key: string): string {
  return `${datasetId(symbol, interval)}/${key}`;
}

/** An indicator cache file's identity and provenance, as its registry entry records it. */
export interface IndicatorRecord {
  symbol: string;
  interval: Interval;
  /** `paramsKey(name, params)`, e.g. `rsi-14`: the file name without `.parquet`. */
  key: string;
  name: string;
  params: Record<string, number>;
  /** `Bank.datasetChecksum` of the candle dataset the values were computed from. */
  sourceChecksum: string;
}

export function newIndicatorEntry(rec: IndicatorRecord): DatasetEntry {
  return {
    ...newEntry(rec.symbol, rec.interval, ['indicator']),
    id: indicatorId(rec.symbol, rec.interval, rec.key),
    kind: 'indicator',
    indicator: { name: rec.name, params: rec.params },
    sourceChecksum: rec.sourceChecksum,
  };
}

export function newEntry(symbol: string, interval: Interval, source: string[]): DatasetEntry {
  const s = parseSeriesKey(symbol);
  return {
    id: datasetId(symbol, interval),
    symbol,
    // A futures series records its market and kind; spot trade klines keep the version 1 entry.
    ...(s && s.market !== 'spot' ? { market: s.market, klineKind: s.kind } : {}),
    interval,
    kind: 'candles',
    files: [],
    rows: 0,
    first: null,
    last: null,
    gaps: [],
    filledCount: 0,
    source,
    updated: 0,
    pending: [],
  };
}

/**
 * The registry in memory and its saves. Several processes may write one bank's registry (each
 * under its symbols' locks), so a save merges: it applies only the entries this process changed
 * since it last read or wrote the file.
 */
export class RegistryStore {
  /** The registry; the same object for the store's life (saves adopt changes in place). */
  readonly reg: Registry;
  private readonly file: string;
  private readonly lock: BankLock | undefined;
  /**
   * The registry as last read from or written to disk, per dataset and per symbol: a digest of
   * each entry's JSON (not the JSON itself: 200,000 datasets would keep a second registry's worth
   * of strings alive).
   */
  private base = { datasets: new Map<string, string>(), empty: new Map<string, string>() };
  /**
   * `registry.json`'s identity (device, inode, size, mtime) when this store last read or wrote
   * it; null when unknown. While the file still has it, nobody else wrote it since, and a save
   * need not read it again to merge.
   */
  private diskId: string | null;
  private saving: Promise<void> = Promise.resolve();

  private constructor(file: string, reg: Registry, diskId: string | null, lock?: BankLock) {
    this.file = file;
    this.reg = reg;
    this.diskId = diskId;
    this.lock = lock;
    this.rebase(reg);
  }

  static async open(file: string, lock?: BankLock): Promise<RegistryStore> {
    // The identity first: a write between it and the read makes the next save read again.
    const diskId = await registryIdentity(file);
    return new RegistryStore(file, await loadRegistry(file), diskId, lock);
  }

  private rebase(reg: Registry): void {
    const datasets = new Map<string, string>();
    const empty = new Map<string, string>();
    for (const k in reg.datasets) datasets.set(k, digest(reg.datasets[k]));
    for (const k in reg.confirmedEmpty) empty.set(k, digest(reg.confirmedEmpty[k]));
    this.base = { datasets, empty };
  }

  /**
   * Saves the registry. Saves are queued and each one serialises the registry when its turn
   * comes, so an older snapshot can never be renamed over a newer one.
   */
  save(): Promise<void> {
    const next = this.saving.then(() => this.saveMerged());
    this.saving = next.catch(() => undefined);
    return next;
  }

  /**
   * Writes the registry without losing another writer's entries: the file on disk is read again,
   * the datasets and confirmed-empty ranges this store changed since it last read or wrote it are
   * applied to it (changed, added, removed), and the result is written and adopted. Entries this
   * store did not touch are taken from disk, never overwritten with an older copy. When the file
   * is still the one this store last read or wrote (same identity), nobody changed it: it is not
   * read again, and this store's registry is written as it is.
   *
   * Linear in the registry, with no argument spread over it: 200,000 datasets are one pass over
   * the keys, one digest per entry, and one serialisation.
   */
  private async saveMerged(): Promise<void> {
    await this.lock?.assertHeld();
    const file = this.file;
    const unchanged = this.diskId !== null && this.diskId === (await registryIdentity(file));
    const disk = unchanged ? null : await loadRegistry(file);
    const mine = this.reg;
    // From here to the write nothing awaits: `seen` is this store's registry as written.
    const seen = { datasets: new Map<string, string>(), empty: new Map<string, string>() };
    const apply = <T>(
      cur: Record<string, T>,
      out: Record<string, T> | null,
      base: Map<string, string>,
      snap: Map<string, string>,
    ): void => {
      for (const k in cur) {
        const j = digest(cur[k]);
        snap.set(k, j);
        if (out && j !== base.get(k)) out[k] = cur[k];
      }
      if (!out) return;
      for (const k of base.keys()) if (cur[k] === undefined) delete out[k];
    };
    apply(mine.datasets, disk?.datasets ?? null, this.base.datasets, seen.datasets);
    apply(mine.confirmedEmpty, disk?.confirmedEmpty ?? null, this.base.empty, seen.empty);
    const written = disk ?? mine;
    written.version = LAYOUT_VERSION;
    this.diskId = null;
    this.diskId = identityOf(await saveRegistry(file, written));
    if (!disk) {
      // What was written is this store's registry as it was before the write: that is the base.
      // Entries changed while the file was being written differ from it, to be saved next time.
      this.base = seen;
      return;
    }
    // Adopt what is on disk now, in place (callers may hold `registry()`), except the entries
    // this store changed while the file was being written: those stay, to be saved next time.
    const adopt = <T>(
      cur: Record<string, T>,
      out: Record<string, T>,
      snap: Map<string, string>,
    ) => {
      const keys = new Set<string>();
      for (const k in cur) keys.add(k);
      for (const k in out) keys.add(k);
      for (const k of keys) {
        const j = cur[k] === undefined ? undefined : digest(cur[k]);
        if (j !== snap.get(k)) continue;
        if (out[k] === undefined) delete cur[k];
        else cur[k] = out[k];
      }
    };
    adopt(mine.datasets, disk.datasets, seen.datasets);
    adopt(mine.confirmedEmpty, disk.confirmedEmpty, seen.empty);
    this.rebase(disk);
  }
}

/** A short digest of an entry's JSON, for telling whether it changed since it was written. */
function digest(v: unknown): string {
  return createHash('sha1').update(JSON.stringify(v)).digest('base64');
}

/** A file's identity: device, inode, size and modification time. */
function identityOf(st: { dev: number; ino: number; size: number; mtimeMs: number }): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;
}

/** `registry.json`'s identity now, or null when it cannot be seen. */
async function registryIdentity(file: string): Promise<string | null> {
  try {
    return identityOf(await fsp.stat(file));
  } catch {
    return null;
  }
}
