import { type ErrorDetails, ThreadxError } from '../../schemas/errors.ts';
import { promises as fsp } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import {
  type Candles,
  allocCandles,
  sliceCandles,
  FLOAT_COLUMNS,
  clipCandles as clip,
  concatCandles as concat,
} from '../../schemas/candles.ts';
import {
  type Interval,
  MINUTE_MS,
  bucketStart,
  nextBucketStart,
  intervalMs,
  isInterval,
} from '../../schemas/intervals.ts';
import { parseSeriesKey } from '../../schemas/markets.ts';
import type {
  DatasetEntry,
  FileEntry,
  Range,
  Registry,
  VerifyIssue,
} from '../../schemas/registry.ts';
import { LAYOUT_VERSION } from '../../schemas/registry.ts';
import { fillGaps, detectGaps, isFillable, mergeRanges, subtractRanges } from '../engine/gaps.ts';
import { mergeCandles } from '../engine/merge.ts';
import {
  resample,
  resampleAll,
  compareCandles,
  completeBuckets,
  knownMinutes,
  type CandleDiff,
} from '../engine/resample.ts';
import { validateCandles, describeViolations } from '../engine/validate.ts';
import { Layout, monthKey, nextMonthStart, parseBankKey as parseSymbol } from './layout.ts';
import {
  type ColumnsFile,
  decodeCandles,
  decodeColumns,
  encodeCandles,
  encodeColumns,
} from './parquet.ts';
import { writeFileAtomic, removeStaleTemps } from './atomic.ts';
import { codecPool } from './codec-pool.ts';
import { type BankLock, READ_ONLY_ERRNO, RECOVERY, acquireBankLock } from './lock.ts';
import { seeFile } from './observe.ts';
import {
  datasetId,
  loadRegistry,
  saveRegistry,
  sha256,
  summarize,
  upsertFile,
} from './registry.ts';

/** A file about to replace another, recorded in the journal before any of them is written. */
interface JournalItem {
  dataset: string;
  file: FileEntry;
  /** For indicator files: what their registry entry says, so `recover` can rebuild it. */
  indicator?: IndicatorRecord;
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

export interface IndicatorWriteResult {
  id: string;
  path: string;
  rows: number;
  /** False when the file already held exactly these bytes. */
  written: boolean;
}

export interface WriteResult {
  symbol: string;
  /** Partitions whose content changed and were rewritten. */
  written: string[];
  /** Partitions that already held exactly this content (nothing written). */
  unchanged: string[];
  rowsAdded: number;
  filled: number;
}

export interface DeriveResult {
  interval: Interval;
  rows: number;
  written: boolean;
}

/**
 * Prices of a re-derived candle must equal the stored ones exactly; volume sums may differ in
 * their last bits with the order of summation (the bank sums via finer timeframes).
 */
const SUM_TOLERANCE = 1e-12;

export class DataContractError extends ThreadxError {
  override readonly name = 'DataContractError';
  constructor(message: string, details: ErrorDetails = {}) {
    super('DATA_CONTRACT', message, undefined, details);
  }
}

export class NotFoundError extends ThreadxError {
  override readonly name = 'NotFoundError';
  constructor(message: string, details: ErrorDetails = {}) {
    super('NOT_FOUND', message, 'Run "threadx list" to see what the bank holds.', details);
  }
}

export interface BankOptions {
  /**
   * Gaps of at most this many minutes that the exchange confirmed empty are filled with flagged
   * flat candles (default 4 h).
   */
  maxGapFillMinutes?: number;
  /** Injected clock for the registry's `updated` stamps. */
  now?: () => number;
  /**
   * The bank's lock, held by the caller (the daemon, a CLI command that writes): recovery runs
   * under it and every group write checks it is still held. Without it, `open` takes the lock
   * only for the time of recovery, and skips recovery when another process holds it (that
   * process is the writer and recovers for itself).
   */
  lock?: BankLock;
}

/**
 * The bank: 1m truth in monthly Parquet partitions, derived timeframes, and the registry.
 *
 * Invariant: every write is atomic, and a journal written before a group of files makes the
 * registry agree with the files after a crash at any moment (see `recover`).
 */
export class Bank {
  readonly layout: Layout;
  private reg: Registry;
  private readonly maxFill: number;
  private readonly now: () => number;
  private readonly lock: BankLock | undefined;
  /**
   * The registry as last read from or written to disk, per dataset and per symbol: a digest of
   * each entry's JSON (not the JSON itself: 200,000 datasets would keep a second registry's worth
   * of strings alive).
   */
  private base = { datasets: new Map<string, string>(), empty: new Map<string, string>() };
  /**
   * `registry.json`'s identity (device, inode, size, mtime) when this bank last read or wrote
   * it; null when unknown. While the file still has it, nobody else wrote it since, and a save
   * need not read it again to merge.
   */
  private diskId: string | null = null;

  private constructor(layout: Layout, reg: Registry, opts: BankOptions) {
    this.layout = layout;
    this.reg = reg;
    this.maxFill = opts.maxGapFillMinutes ?? 240;
    this.now = opts.now ?? Date.now;
    this.lock = opts.lock;
    this.rebase(reg);
  }

  static async open(root: string, opts: BankOptions = {}): Promise<Bank> {
    const layout = new Layout(root);
    // Reading creates nothing: a read-only bank opens as it is.
    if (opts.lock || !(await isDir(layout.root))) await fsp.mkdir(layout.root, { recursive: true });
    // The identity first: a write between it and the read makes the next save read again.
    const diskId = await registryIdentity(layout.registry);
    const bank = new Bank(layout, await loadRegistry(layout.registry), opts);
    bank.diskId = diskId;
    if (opts.lock) {
      await bank.recover();
      // An older registry is written in the current format by the first writer: the datasets,
      // paths and checksums are the same (see LAYOUT_VERSION), so every file still verifies.
      if (bank.reg.version !== LAYOUT_VERSION) await bank.save();
      return bank;
    }
    // A reader takes no lock, unless a write was interrupted: then it completes it under the
    // lock when nobody holds it (a holder, here or elsewhere, recovers for itself, and its
    // journal is never touched while it heartbeats). Where the lock cannot be created (a
    // read-only folder), it says so and reads what is committed.
    const journals = await bank.journals();
    const temps =
      (await removeStaleTemps(layout.processed, false)) +
      (await removeStaleTemps(layout.indicators, false)) +
      (await removeRootTemps(layout.root, false));
    if (journals.length === 0 && temps === 0) return bank;
    let got: Awaited<ReturnType<typeof acquireBankLock>>;
    try {
      got = await acquireBankLock(layout.root, RECOVERY, { watch: false });
    } catch (e) {
      const errno = e instanceof ThreadxError ? e.details.errno : undefined;
      if (typeof errno !== 'string' || !READ_ONLY_ERRNO.has(errno)) throw e;
      if (journals.length === 0) return bank; // only temp files: nothing is lost by leaving them
      bank.recoveryNotes.push(
        `The bank at ${layout.root} holds an interrupted write (${journals.join(', ')}) that cannot be completed here: the folder cannot be written (${errno}). Reading what is committed; run "threadx verify" where the bank is writable to complete it.`,
      );
      return bank;
    }
    if (got.acquired) {
      try {
        await bank.recover();
      } finally {
        await got.lock.release();
      }
    }
    return bank;
  }

  /** The journals of interrupted group writes in the bank's folder. */
  private async journals(): Promise<string[]> {
    return (await fsp.readdir(this.layout.root)).filter((f) =>
      /^\.journal-[A-Z0-9_]+(@[a-z.]+)?\.json$/.test(f),
    );
  }

  private rebase(reg: Registry): void {
    const datasets = new Map<string, string>();
    const empty = new Map<string, string>();
    for (const k in reg.datasets) datasets.set(k, digest(reg.datasets[k]));
    for (const k in reg.confirmedEmpty) empty.set(k, digest(reg.confirmedEmpty[k]));
    this.base = { datasets, empty };
  }

  /** One journal per symbol, so group writes of different symbols can run concurrently. */
  private journalPath(dataset: string): string {
    return path.join(this.layout.root, `.journal-${dataset.split('/')[0]}.json`);
  }

  private saving: Promise<void> = Promise.resolve();

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
   * the datasets and confirmed-empty ranges this bank changed since it last read or wrote it are
   * applied to it (changed, added, removed), and the result is written and adopted. Entries this
   * bank did not touch are taken from disk, never overwritten with an older copy. When the file
   * is still the one this bank last read or wrote (same identity), nobody changed it: it is not
   * read again, and this bank's registry is written as it is.
   *
   * Linear in the registry, with no argument spread over it: 200,000 datasets are one pass over
   * the keys, one digest per entry, and one serialisation.
   */
  private async saveMerged(): Promise<void> {
    await this.lock?.assertHeld();
    const file = this.layout.registry;
    const unchanged = this.diskId !== null && this.diskId === (await registryIdentity(file));
    const disk = unchanged ? null : await loadRegistry(file);
    const mine = this.reg;
    // From here to the write nothing awaits: `seen` is this bank's registry as written.
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
      // What was written is this bank's registry as it was before the write: that is the base.
      // Entries changed while the file was being written differ from it, to be saved next time.
      this.base = seen;
      return;
    }
    // Adopt what is on disk now, in place (callers may hold `registry()`), except the entries
    // this bank changed while the file was being written: those stay, to be saved next time.
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

  /** What recovery did that a person should know (journals quarantined), one sentence each. */
  readonly recoveryNotes: string[] = [];

  /**
   * Completes or rolls back a group write interrupted by a crash, then clears temp files. A
   * journal that cannot be replayed (unreadable, not the journal format, naming a file outside
   * its dataset) is moved to `<data>/quarantine/` and named in `recoveryNotes`; the files it
   * names are left as they are (`threadx verify` reports any that disagree with the registry).
   */
  async recover(): Promise<{ applied: number; rolledBack: number; quarantined: string[] }> {
    let applied = 0;
    let rolledBack = 0;
    const quarantined: string[] = [];
    // Never on a journal whose writer may still be writing: only under the lock, still ours.
    await this.lock?.assertHeld();
    const journals = await this.journals();
    for (const name of journals) {
      const jp = path.join(this.layout.root, name);
      let items: JournalItem[] | null = null;
      let why = '';
      try {
        items = journalItems(JSON.parse(await fsp.readFile(jp, 'utf8')), this.layout);
        if (!items) why = 'it is not a list of files of known datasets';
      } catch (e) {
        why = `it is not valid JSON (${(e as Error).message})`;
      }
      if (!items) {
        // Journals are written atomically: one that cannot be read was never completed, and no
        // file it names was touched by that write. Keep it for a person to look at.
        const dest = path.join(this.layout.root, 'quarantine', `${name.slice(1)}.${this.now()}`);
        await fsp.mkdir(path.dirname(dest), { recursive: true });
        await fsp.rename(jp, dest);
        quarantined.push(dest);
        this.recoveryNotes.push(
          `The journal ${jp} could not be replayed (${why}); it was moved to ${dest}. Run "threadx verify" to check the bank.`,
        );
        continue;
      }
      await recordMtimes(this.layout, items);
      for (const it of items) {
        const actual = await fileSha(this.layout.abs(it.file.path));
        if (actual === it.file.sha256 && it.indicator) {
          const entry = this.reg.datasets[it.dataset] ?? newIndicatorEntry(it.indicator);
          this.reg.datasets[it.dataset] = {
            ...upsertFile(entry, it.file),
            sourceChecksum: it.indicator.sourceChecksum,
          };
          applied++;
        } else if (actual === it.file.sha256) {
          const [sym, iv] = it.dataset.split('/') as [string, Interval];
          const entry = this.reg.datasets[it.dataset] ?? newEntry(sym, iv, []);
          this.reg.datasets[it.dataset] = upsertFile(entry, it.file);
          applied++;
        } else {
          rolledBack++;
        }
      }
      await this.save();
      await fsp.rm(jp, { force: true });
    }
    await removeStaleTemps(this.layout.processed);
    await removeStaleTemps(this.layout.indicators);
    await removeRootTemps(this.layout.root);
    return { applied, rolledBack, quarantined };
  }

  registry(): Registry {
    return this.reg;
  }

  list(): DatasetEntry[] {
    return Object.values(this.reg.datasets).sort((a, b) => a.id.localeCompare(b.id));
  }

  get(symbol: string, interval: Interval): DatasetEntry | undefined {
    return this.reg.datasets[datasetId(parseSymbol(symbol), interval)];
  }

  confirmedEmpty(symbol: string): Range[] {
    return this.reg.confirmedEmpty[parseSymbol(symbol)] ?? [];
  }

  /**
   * Records 1m ranges the exchange confirmed empty (outages), so they are never fetched again. A
   * short gap between stored rows that this confirms is filled now (its month rewritten), not at
   * the next write that happens to touch it.
   */
  async addConfirmedEmpty(symbol: string, ranges: Range[]): Promise<void> {
    if (ranges.length === 0) return;
    const s = parseSymbol(symbol);
    const confirmed = mergeRanges([...(this.reg.confirmedEmpty[s] ?? []), ...ranges]);
    this.reg.confirmedEmpty[s] = confirmed;
    await this.save();
    const entry = this.get(s, '1m');
    const now = (entry?.files ?? [])
      .flatMap((f) => f.gaps)
      .filter((g) => !g.filled && isFillable(g.start, g.end, g.missing, this.maxFill, confirmed));
    for (const g of now) {
      // The row before the gap, written again: the merge is unchanged and the gap gets filled.
      // Best effort: when its month or a neighbour is damaged (a repair under way), the gap stays
      // confirmed and unfilled, as it was, and the write that repairs the month fills it.
      try {
        const before = await this.read1m(s, g.start - MINUTE_MS, g.start);
        if (before.length > 0) await this.write1m(s, before, entry!.source.at(-1) ?? 'fill');
      } catch (e) {
        if (!(e instanceof ThreadxError)) throw e;
      }
    }
  }

  /** Reads 1m candles in [start, end) from the monthly partitions (all when unbounded). */
  async read1m(symbol: string, start = -Infinity, end = Infinity): Promise<Candles> {
    const entry = this.get(symbol, '1m');
    if (!entry) return allocCandles(0);
    // Partitions decode in parallel on the codec pool.
    const wanted = entry.files.filter(
      (f) => f.last !== null && f.first !== null && f.last >= start && f.first < end,
    );
    const parts = await Promise.all(
      wanted.map(async (f) => {
        const bytes = await this.readChecked(entry, f);
        let candles: Candles;
        try {
          ({ candles } = await codecPool().decode(bytes, f.path));
        } catch (e) {
          throw this.corrupt(entry, f, 'it cannot be decoded as Parquet', e);
        }
        return clip(candles, start, end);
      }),
    );
    return concat(parts);
  }

  /** Reads a stored timeframe in [start, end). */
  async read(
    symbol: string,
    interval: Interval,
    start = -Infinity,
    end = Infinity,
  ): Promise<Candles> {
    if (interval === '1m') return this.read1m(symbol, start, end);
    const entry = this.get(symbol, interval);
    // Derived, with every bucket still pending: no candle yet (the entry says how many wait).
    if (entry && entry.files.length === 0 && (entry.pending?.length ?? 0) > 0)
      return allocCandles(0);
    if (!entry || entry.files.length === 0) {
      throw new NotFoundError(
        `no ${interval} data for ${parseSymbol(symbol)}: run "threadx resample --symbol ${parseSymbol(symbol)} --intervals ${interval}"`,
      );
    }
    const f = entry.files[0];
    const bytes = await this.readChecked(entry, f);
    let candles: Candles;
    try {
      ({ candles } = decodeCandles(bytes, f.path));
    } catch (e) {
      throw this.corrupt(entry, f, 'it cannot be decoded as Parquet', e);
    }
    return clip(candles, start, end);
  }

  /**
   * A registered file's bytes, refused when the last verify found it corrupt, changed or missing,
   * when it is gone, or when its size differs from the registry's: a read never answers with data
   * the bank cannot vouch for (the full checksum is `verify`'s job).
   */
  private async readChecked(entry: DatasetEntry, f: FileEntry): Promise<Buffer> {
    if (f.verify && f.verify.status !== 'ok') {
      throw this.corrupt(entry, f, f.verify.reason ?? verifyWords(f.verify.status));
    }
    let bytes: Buffer;
    try {
      // An entry that does not point at its dataset's own file is refused, never followed.
      bytes = await fsp.readFile(followable(this.layout, entry, f));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT')
        throw this.corrupt(entry, f, 'the file is missing', e);
      throw e;
    }
    if (bytes.length !== f.bytes) {
      throw this.corrupt(
        entry,
        f,
        `it has ${bytes.length} bytes where the registry recorded ${f.bytes}`,
      );
    }
    return bytes;
  }

  /** The error a read answers for a file it cannot vouch for: the file, and the fix. */
  private corrupt(
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

  /**
   * Merges real 1m candles into the bank. Incoming rows must meet the data contract (else
   * nothing is written and a `DataContractError` lists the violations). Rows are deduplicated
   * by open time; short gaps confirmed empty (`confirmedEmpty`, recorded before the write) are
   * refilled around them; only partitions whose content changes
   * are rewritten, so re-importing data already in the bank writes nothing.
   */
  async write1m(
    symbolIn: string,
    incoming: Candles,
    source: string,
    opts: {
      /**
       * Damaged partitions (relative paths) that `incoming` replaces whole: they are never read,
       * and a month of `incoming` at one of them is written even when its bytes equal the
       * registry's (the file on disk does not). A damaged partition `incoming` has no row in is
       * left as it is, still recorded as damaged.
       */
      replace?: readonly string[];
    } = {},
  ): Promise<WriteResult> {
    const symbol = parseSymbol(symbolIn);
    const report = validateCandles(incoming, '1m');
    if (!report.ok) throw new DataContractError(`${symbol}: ${describeViolations(report)}`);
    const result: WriteResult = { symbol, written: [], unchanged: [], rowsAdded: 0, filled: 0 };
    if (incoming.length === 0) return result;

    const id = datasetId(symbol, '1m');
    const entry = this.reg.datasets[id] ?? newEntry(symbol, '1m', []);

    // Months touched, plus their stored neighbours, whose gaps at the edges may change.
    const touched = new Set<string>();
    let prevKey = '';
    for (let i = 0; i < incoming.length; i++) {
      const k = monthKey(incoming.openTime[i]);
      if (k !== prevKey) touched.add(k);
      prevKey = k;
    }
    const stored = new Map(entry.files.map((f) => [monthKey(f.first ?? 0), f]));
    const keys = [...new Set([...stored.keys(), ...touched])].sort();
    const load = new Set<string>();
    for (const k of touched) {
      const i = keys.indexOf(k);
      load.add(k);
      if (i > 0 && stored.has(keys[i - 1])) load.add(keys[i - 1]);
      if (i + 1 < keys.length && stored.has(keys[i + 1])) load.add(keys[i + 1]);
    }
    const loadKeys = [...load].sort();
    const existingParts: Candles[] = [];
    let existingRealRows = 0;
    const replace = new Set(opts.replace ?? []);
    const storedFiles = loadKeys
      .map((k) => stored.get(k))
      .filter((f): f is FileEntry => Boolean(f) && !replace.has(f!.path));
    const decoded = await Promise.all(
      storedFiles.map(async (f) => {
        // A damaged neighbour is never merged into new data: the write stops and names the fix.
        const bytes = await this.readChecked(entry, f);
        try {
          return (await codecPool().decode(bytes, f.path)).candles;
        } catch (e) {
          throw this.corrupt(entry, f, 'it cannot be decoded as Parquet', e);
        }
      }),
    );
    for (const candles of decoded) {
      const real = withoutFilled(candles);
      existingRealRows += real.length;
      existingParts.push(real);
    }
    const merged = mergeCandles(concat(existingParts), withoutFilled(incoming));
    result.rowsAdded = merged.length - existingRealRows;
    // Only minutes the exchange confirmed missing are filled (record them before writing).
    const confirmed = this.confirmedEmpty(symbol);
    const { candles: full } = fillGaps(merged, this.maxFill, confirmed);

    const items: JournalItem[] = [];
    const writes: { abs: string; bytes: Uint8Array }[] = [];
    // Split into months, then encode every month in parallel on the codec pool.
    const months: { k: string; part: Candles }[] = [];
    let lo = 0;
    for (const k of loadKeys) {
      const end = nextMonthStart(k);
      let hi = lo;
      while (hi < full.length && full.openTime[hi] < end) hi++;
      if (hi > lo) months.push({ k, part: sliceCandles(full, lo, hi) });
      lo = hi;
    }
    const encoded = await Promise.all(
      months.map(({ k, part }) => codecPool().encode(part, { symbol, interval: '1m', month: k })),
    );
    for (const [mi, { k, part }] of months.entries()) {
      const abs = this.layout.partition(symbol, k);
      const rel = this.layout.rel(abs);
      const bytes = encoded[mi];
      const sum = sha256(bytes);
      const old = stored.get(k);
      if (old && old.sha256 === sum && !replace.has(old.path)) {
        result.unchanged.push(rel);
        continue;
      }
      const gaps = detectGaps(part, MINUTE_MS, true).map((g) => ({
        ...g,
        filled: isFillable(g.start, g.end, g.missing, this.maxFill, confirmed),
      }));
      let filledCount = 0;
      for (let i = 0; i < part.length; i++) filledCount += part.filled[i];
      result.filled += filledCount - (old && !replace.has(old.path) ? old.filledCount : 0);
      items.push({
        dataset: id,
        file: {
          path: rel,
          sha256: sum,
          bytes: bytes.length,
          rows: part.length,
          first: part.openTime[0],
          last: part.openTime[part.length - 1],
          gaps,
          filledCount,
          writtenAt: this.now(),
        },
      });
      writes.push({ abs, bytes });
      result.written.push(rel);
    }
    if (writes.length === 0) return result;
    if (!this.reg.datasets[id]) this.reg.datasets[id] = entry;
    await this.commit(items, writes, (reg) => {
      const e = reg.datasets[id];
      e.source = [...new Set([...e.source, source])].slice(-50);
      e.updated = this.now();
    });
    return result;
  }

  /**
   * Writes a group of files under the journal, then the registry: a crash at any point leaves
   * each file old or new, and `recover` makes the registry agree with whichever it is.
   */
  private async commit(
    items: JournalItem[],
    writes: { abs: string; bytes: Uint8Array }[],
    touch: (reg: Registry) => void,
  ): Promise<void> {
    await this.lock?.assertHeld();
    const journal = this.journalPath(items[0].dataset);
    await writeFileAtomic(journal, JSON.stringify(items));
    for (const w of writes) await writeFileAtomic(w.abs, w.bytes);
    // Each entry keeps its file's modification time, so a listing sees a later change at once.
    await recordMtimes(this.layout, items);
    for (const it of items) {
      const e = this.reg.datasets[it.dataset];
      this.reg.datasets[it.dataset] = upsertFile(e, it.file);
    }
    touch(this.reg);
    await this.save();
    await fsp.rm(journal, { force: true });
  }

  /**
   * Derives `intervals` from the 1m truth. With `affected` (a 1m range just written), only the
   * buckets overlapping it are recomputed and spliced into the stored file; otherwise the whole
   * history is resampled.
   */
  async derive(
    symbolIn: string,
    intervals: readonly Interval[],
    affected?: Range,
  ): Promise<DeriveResult[]> {
    const symbol = parseSymbol(symbolIn);
    const src = this.get(symbol, '1m');
    if (!src || src.rows === 0)
      throw new NotFoundError(`no 1m data for ${symbol}: import or ingest it first`);
    const sourceChecksum = sha256(src.files.map((f) => f.sha256).join(''));
    const out: DeriveResult[] = [];
    // Intervals derived from the whole history are computed together, each from a finer one.
    // A stored file the last verify found damaged is never spliced into: it is derived whole.
    const whole = intervals.filter((iv) => {
      const f = this.reg.datasets[datasetId(symbol, iv)]?.files[0];
      return iv !== '1m' && !(affected && f && !damaged(f));
    });
    const absent = this.confirmedEmpty(symbol);
    const m1All = whole.length ? await this.read1m(symbol) : null;
    const full = m1All ? resampleAll(m1All, whole) : new Map<Interval, Candles>();
    const knownAll = m1All ? knownMinutes(m1All, absent) : [];
    for (const interval of intervals) {
      if (interval === '1m') continue;
      const id = datasetId(symbol, interval);
      const existing = this.reg.datasets[id];
      let series: Candles;
      let pending: number[];
      const fromFull = full.get(interval);
      if (fromFull) {
        // Only whole buckets become candles; edge buckets stay pending (README, "Fidelity").
        ({ candles: series, pending } = completeBuckets(fromFull, interval, knownAll));
      } else {
        const from = bucketStart(affected![0], interval);
        const to = nextBucketStart(bucketStart(affected![1] - 1, interval), interval);
        const part = await this.read1m(symbol, from, to);
        // The same cascade as a whole-history derive, so the sums (and the bytes) are identical
        // and an unchanged bucket never rewrites a sound file.
        const fresh = completeBuckets(
          resampleAll(part, [interval]).get(interval)!,
          interval,
          knownMinutes(part, absent),
        );
        const old = await this.read(symbol, interval);
        series = splice(old, fresh.candles, from, to);
        pending = [
          ...(existing?.pending ?? []).filter((t) => t < from || t >= to),
          ...fresh.pending,
        ].sort((a, b) => a - b);
      }
      const abs = this.layout.derived(symbol, interval);
      const rel = this.layout.rel(abs);
      if (series.length === 0) {
        // Every bucket is still pending: no file (an empty file would be a dataset of nothing).
        this.reg.datasets[id] = {
          ...(existing
            ? summarize({ ...existing, files: [] })
            : newEntry(symbol, interval, ['derived'])),
          pending,
          sourceChecksum,
          updated: this.now(),
        };
        await this.save();
        if (existing?.files.length) await fsp.rm(abs, { force: true });
        out.push({ interval, rows: 0, written: Boolean(existing?.files.length) });
        continue;
      }
      const bytes = encodeCandles(series, { symbol, interval, source_checksum: sourceChecksum });
      const sum = sha256(bytes);
      if (existing?.files[0]?.sha256 === sum && !damaged(existing.files[0])) {
        if (!samePending(existing.pending, pending)) {
          existing.pending = pending;
          await this.save();
        }
        out.push({ interval, rows: series.length, written: false });
        continue;
      }
      const step = interval === '1M' ? 0 : intervalMs(interval);
      const gaps = step > 0 ? detectGaps(series, step) : [];
      this.reg.datasets[id] ??= newEntry(symbol, interval, ['derived']);
      const file: FileEntry = {
        path: rel,
        sha256: sum,
        bytes: bytes.length,
        rows: series.length,
        first: series.length ? series.openTime[0] : null,
        last: series.length ? series.openTime[series.length - 1] : null,
        gaps,
        // Buckets made only of filled minutes are filled candles (engine/resample.ts).
        filledCount: countFilled(series),
        writtenAt: this.now(),
      };
      await this.commit([{ dataset: id, file }], [{ abs, bytes }], (reg) => {
        reg.datasets[id].sourceChecksum = sourceChecksum;
        reg.datasets[id].pending = pending;
        reg.datasets[id].updated = this.now();
      });
      out.push({ interval, rows: series.length, written: true });
    }
    return out;
  }

  /**
   * `interval` resampled from 1m over [from, to) for a reader, holding only whole buckets, as
   * `derive` stores them: a bucket with unknown minutes is pending, never shown as a candle.
   */
  async resampleComplete(
    symbol: string,
    interval: Interval,
    from: number,
    to: number,
  ): Promise<{ candles: Candles; pending: number[] }> {
    const m1 = await this.read1m(symbol, from, to);
    return completeBuckets(
      resample(m1, interval),
      interval,
      knownMinutes(m1, this.confirmedEmpty(symbol)),
    );
  }

  /** Pending edge buckets of `interval` that overlap [start, end) (see `derive`). */
  async pendingBuckets(
    symbolIn: string,
    interval: Interval,
    start = -Infinity,
    end = Infinity,
  ): Promise<number> {
    if (interval === '1m') return 0;
    const symbol = parseSymbol(symbolIn);
    const m1 = this.get(symbol, '1m');
    if (!m1 || m1.first === null || m1.last === null) return 0;
    const lo = Math.max(start, m1.first);
    const hi = Math.min(end, m1.last + MINUTE_MS);
    if (!(hi > lo)) return 0;
    const first = bucketStart(lo, interval);
    const last = bucketStart(hi - 1, interval);
    const stored = this.get(symbol, interval);
    if (stored?.kind === 'candles' && stored.sourceChecksum === this.datasetChecksum(symbol, '1m'))
      return (stored.pending ?? []).filter((t) => t >= first && t <= last).length;
    // Not stored: only the buckets at the two ends of the range can be edge buckets.
    const ends = first === last ? [first] : [first, last];
    let n = 0;
    for (const b of ends) {
      const r = await this.resampleComplete(symbol, interval, b, nextBucketStart(b, interval));
      n += r.pending.length;
    }
    return n;
  }

  /**
   * A candle dataset's checksum: the sha256 of its files' checksums in order (for 1m, the value
   * `derive` records as a derived dataset's `sourceChecksum`). Null when there is no such data.
   */
  datasetChecksum(symbol: string, interval: Interval): string | null {
    const e = this.get(symbol, interval);
    if (!e || e.files.length === 0) return null;
    return sha256(e.files.map((f) => f.sha256).join(''));
  }

  /** The registry entry of a cached indicator (`SYMBOL/interval/key`). */
  getIndicator(symbol: string, interval: Interval, key: string): DatasetEntry | undefined {
    const e = this.reg.datasets[indicatorId(parseSymbol(symbol), interval, key)];
    return e?.kind === 'indicator' ? e : undefined;
  }

  /**
   * Writes an indicator cache file (`indicators_cache/SYMBOL/interval/key.parquet`): the candle
   * open times plus one float64 column per output, the source checksum in its metadata. Written
   * under the journal like candle files, so a crash leaves the old file and entry or the new ones.
   */
  async writeIndicator(
    rec: IndicatorRecord,
    timestamp: Float64Array,
    columns: Record<string, Float64Array>,
  ): Promise<IndicatorWriteResult> {
    const symbol = parseSymbol(rec.symbol);
    const id = indicatorId(symbol, rec.interval, rec.key);
    const abs = this.layout.indicator(symbol, rec.interval, rec.key);
    const rel = this.layout.rel(abs);
    const n = timestamp.length;
    const bytes = encodeColumns(timestamp, columns, {
      symbol,
      interval: rec.interval,
      indicator: rec.name,
      key: rec.key,
      params: JSON.stringify(rec.params),
      source_checksum: rec.sourceChecksum,
    });
    const sum = sha256(bytes);
    const existing = this.reg.datasets[id];
    if (
      existing?.files[0]?.sha256 === sum &&
      existing.sourceChecksum === rec.sourceChecksum &&
      (await fileSha(abs)) === sum
    ) {
      return { id, path: rel, rows: n, written: false };
    }
    const file: FileEntry = {
      path: rel,
      sha256: sum,
      bytes: bytes.length,
      rows: n,
      first: n ? timestamp[0] : null,
      last: n ? timestamp[n - 1] : null,
      gaps: [],
      filledCount: 0,
      writtenAt: this.now(),
    };
    const record = { ...rec, symbol };
    this.reg.datasets[id] ??= newIndicatorEntry(record);
    await this.commit([{ dataset: id, file, indicator: record }], [{ abs, bytes }], (reg) => {
      reg.datasets[id].sourceChecksum = rec.sourceChecksum;
      reg.datasets[id].indicator = { name: rec.name, params: rec.params };
      reg.datasets[id].updated = this.now();
    });
    return { id, path: rel, rows: n, written: true };
  }

  /** Reads a cached indicator file (size and last verify checked; the checksum is `verify`'s). */
  async readIndicator(symbol: string, interval: Interval, key: string): Promise<ColumnsFile> {
    const e = this.getIndicator(symbol, interval, key);
    if (!e || e.files.length === 0) {
      throw new NotFoundError(`no cached ${key} for ${parseSymbol(symbol)} ${interval}`);
    }
    const f = e.files[0];
    const bytes = await this.readChecked(e, f);
    try {
      return decodeColumns(bytes, f.path);
    } catch (err) {
      throw this.corrupt(e, f, 'it cannot be decoded as Parquet', err);
    }
  }

  /** Re-derives the buckets of a stored timeframe overlapping [lo, hi) and compares them. */
  async checkRange(
    symbol: string,
    interval: Interval,
    lo: number,
    hi: number,
  ): Promise<{ total: number; diffs: CandleDiff[] }> {
    const from = bucketStart(lo, interval);
    const to = nextBucketStart(bucketStart(hi - 1, interval), interval);
    const stored = await this.read(symbol, interval, from, to);
    const m1 = await this.read1m(symbol, from, to);
    const fresh = completeBuckets(
      resample(m1, interval),
      interval,
      knownMinutes(m1, this.confirmedEmpty(symbol)),
    ).candles;
    return compareCandles(fresh, stored, { volumeRelTol: SUM_TOLERANCE });
  }

  /** Re-derives a stored timeframe from 1m and lists every difference. */
  async checkConsistency(
    symbol: string,
    interval: Interval,
  ): Promise<{ total: number; diffs: CandleDiff[] }> {
    const stored = await this.read(symbol, interval);
    const m1 = await this.read1m(symbol);
    const fresh = completeBuckets(
      resample(m1, interval),
      interval,
      knownMinutes(m1, this.confirmedEmpty(symbol)),
    ).candles;
    return compareCandles(fresh, stored, { volumeRelTol: SUM_TOLERANCE });
  }

  /**
   * Recomputes every checksum and re-validates every file; reports changed, corrupt, missing
   * and unregistered files.
   */
  async verify(
    opts: {
      onProgress?: (done: number, total: number) => void;
      signal?: AbortSignal;
      /** Only these symbols' files (and no unregistered-file scan). */
      symbols?: readonly string[];
      /**
       * Keep each file's finding in the registry (the default). False for a reader that does
       * not hold the bank's lock: it checks and reports, and writes nothing.
       */
      record?: boolean;
    } = {},
  ): Promise<VerifyIssue[]> {
    const record = opts.record ?? true;
    const issues: VerifyIssue[] = [];
    const known = new Set<string>();
    const only = opts.symbols ? new Set(opts.symbols.map((x) => parseSymbol(x))) : null;
    const all = Object.entries(this.reg.datasets)
      .filter(([, d]) => !only || only.has(d.symbol))
      .flatMap(([key, d]) => d.files.map((f) => ({ key, d, f })));
    let done = 0;
    for (const { key, d, f } of all) {
      opts.signal?.throwIfAborted();
      // An entry that does not point at its dataset's own file is a finding, never followed.
      const want = key === d.id ? canonicalPath(this.layout, d, f) : null;
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
      const seen = await seeFile(this.layout.abs(f.path));
      const { status, detail, reason } = await this.verifyFile(d, f);
      // The finding is the file's own, kept in the registry: it survives a reload and a restart,
      // and a rewrite of the file (a new entry) clears it.
      const since = f.verify?.status === 'ok' ? f.verify.at : f.writtenAt;
      if (record) {
        f.verify = {
          at: this.now(),
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
    if (record && all.length > 0) await this.save();
    if (only) return issues;
    for (const dir of [this.layout.processed, this.layout.indicators]) {
      for (const rel of await listParquet(dir, this.layout)) {
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
  private async verifyFile(
    d: DatasetEntry,
    f: FileEntry,
  ): Promise<{
    status: 'ok' | 'changed' | 'corrupt' | 'missing';
    detail?: string;
    reason?: string;
  }> {
    let bytes: Buffer;
    try {
      bytes = await fsp.readFile(this.layout.abs(f.path));
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
      const r = validateCandles(candles, d.interval);
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

  /**
   * Removes the 1m candles in [start, end) (and any record that the range was confirmed empty),
   * so the next ingest downloads that range again. Derived timeframes are re-derived by it.
   */
  async deleteRange(symbolIn: string, start: number, end: number): Promise<number> {
    const symbol = parseSymbol(symbolIn);
    const id = datasetId(symbol, '1m');
    const entry = this.reg.datasets[id];
    if (!entry) throw new NotFoundError(`no 1m data for ${symbol}`);
    let removed = 0;
    const emptied: string[] = [];
    const items: JournalItem[] = [];
    const writes: { abs: string; bytes: Uint8Array }[] = [];
    for (const f of entry.files) followable(this.layout, entry, f);
    for (const f of entry.files) {
      if (f.first === null || f.last === null || f.last < start || f.first >= end) continue;
      const { candles } = decodeCandles(await fsp.readFile(this.layout.abs(f.path)), f.path);
      const kept = concat([clip(candles, -Infinity, start), clip(candles, end, Infinity)]);
      removed += candles.length - kept.length;
      const key = monthKey(f.first);
      const bytes = encodeCandles(kept, { symbol, interval: '1m', month: key });
      const gaps = detectGaps(kept, MINUTE_MS, true).map((g) => ({ ...g, filled: false }));
      let filledCount = 0;
      for (let i = 0; i < kept.length; i++) filledCount += kept.filled[i];
      if (kept.length === 0) {
        emptied.push(f.path);
        continue;
      }
      items.push({
        dataset: id,
        file: {
          path: f.path,
          sha256: sha256(bytes),
          bytes: bytes.length,
          rows: kept.length,
          first: kept.openTime[0],
          last: kept.openTime[kept.length - 1],
          gaps,
          filledCount,
          writtenAt: this.now(),
        },
      });
      writes.push({ abs: this.layout.abs(f.path), bytes });
    }
    const ce = this.reg.confirmedEmpty[symbol];
    if (ce) this.reg.confirmedEmpty[symbol] = subtractRanges(ce, [[start, end]]);
    if (emptied.length) {
      this.reg.datasets[id] = summarize({
        ...entry,
        files: entry.files.filter((f) => !emptied.includes(f.path)),
      });
    }
    if (writes.length)
      await this.commit(items, writes, (reg) => (reg.datasets[id].updated = this.now()));
    else await this.save();
    for (const p of emptied) await fsp.rm(this.layout.abs(p), { force: true });
    return removed;
  }

  /** Removes a dataset's files and registry entry. Deleting 1m removes its derived data too. */
  async deleteDataset(symbolIn: string, interval: Interval): Promise<string[]> {
    const symbol = parseSymbol(symbolIn);
    const ids =
      interval === '1m'
        ? Object.keys(this.reg.datasets).filter((id) => id.startsWith(`${symbol}/`))
        : [datasetId(symbol, interval)];
    const removed: string[] = [];
    // Every file of every dataset is checked before anything is removed.
    for (const id of ids) {
      const e = this.reg.datasets[id];
      if (!e) continue;
      if (e.id !== id) {
        throw new ThreadxError(
          'CORRUPT',
          `The registry entry ${id} describes ${JSON.stringify(e.id)}; nothing was deleted.`,
          'Run "threadx verify" to list every such entry, then restore registry.json from a backup or remove the entry from it.',
          { dataset: id },
        );
      }
      for (const f of e.files) followable(this.layout, e, f);
    }
    for (const id of ids) {
      const e = this.reg.datasets[id];
      if (!e) continue;
      delete this.reg.datasets[id];
      await this.save();
      for (const f of e.files) {
        await fsp.rm(this.layout.abs(f.path), { force: true });
        removed.push(f.path);
      }
    }
    if (removed.length === 0)
      throw new NotFoundError(`no dataset ${symbol}/${interval} in the bank`);
    if (interval === '1m') delete this.reg.confirmedEmpty[symbol];
    await this.save();
    return removed;
  }
}

/** The last verify found this file damaged (changed, corrupt or missing): it must be rewritten. */
export function damaged(f: FileEntry): boolean {
  return f.verify !== undefined && f.verify.status !== 'ok';
}

/**
 * A parsed journal's items when every one names a file at its dataset's canonical path with a
 * checksum; null otherwise (the journal is then quarantined, not followed).
 */
function journalItems(json: unknown, layout: Layout): JournalItem[] | null {
  if (!Array.isArray(json) || json.length === 0) return null;
  for (const it of json as JournalItem[]) {
    if (!it || typeof it !== 'object' || typeof it.dataset !== 'string') return null;
    const f = it.file as FileEntry | undefined;
    if (!f || typeof f.path !== 'string' || typeof f.sha256 !== 'string') return null;
    if (!Array.isArray(f.gaps) || typeof f.rows !== 'number') return null;
    const [symbol, interval, key] = it.dataset.split('/');
    const d = {
      id: it.dataset,
      symbol,
      interval: interval as Interval,
      kind: key === undefined ? 'candles' : 'indicator',
    } as DatasetEntry;
    if (!isInterval(interval) || canonicalPath(layout, d, f) !== f.path) return null;
  }
  return json as JournalItem[];
}

/** Temp files of the registry and journals at the data root, left by a writer that was killed. */
async function removeRootTemps(root: string, remove = true): Promise<number> {
  let names: string[];
  try {
    names = await fsp.readdir(root);
  } catch {
    return 0;
  }
  let found = 0;
  for (const n of names) {
    if (/^\.(registry\.json|journal-[A-Z0-9_]+(@[a-z.]+)?\.json)\..+\.tmp$/.test(n)) {
      if (remove) await fsp.rm(path.join(root, n), { force: true });
      found++;
    }
  }
  return found;
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

/** Sets each item's `mtime` from its file on disk (left unset for a file that cannot be seen). */
async function recordMtimes(layout: Layout, items: JournalItem[]): Promise<void> {
  for (const it of items) {
    const seen = await seeFile(layout.abs(it.file.path));
    if (seen) it.file.mtime = seen.mtime;
    else delete it.file.mtime;
  }
}

async function fileSha(abs: string): Promise<string | null> {
  try {
    return sha256(await fsp.readFile(abs));
  } catch {
    return null;
  }
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

function countFilled(c: Candles): number {
  let n = 0;
  for (let i = 0; i < c.length; i++) n += c.filled[i];
  return n;
}

function withoutFilled(c: Candles): Candles {
  let any = false;
  for (let i = 0; i < c.length; i++)
    if (c.filled[i] === 1) {
      any = true;
      break;
    }
  if (!any) return c;
  const out = allocCandles(c.length);
  let k = 0;
  for (let i = 0; i < c.length; i++) {
    if (c.filled[i] === 1) continue;
    out.openTime[k] = c.openTime[i];
    for (const col of FLOAT_COLUMNS) out[col][k] = c[col][i];
    k++;
  }
  out.length = k;
  return out;
}

/** `old` with its rows in [from, to) replaced by `fresh`. */
function splice(old: Candles, fresh: Candles, from: number, to: number): Candles {
  const before = clip(old, -Infinity, from);
  const after = clip(old, to, Infinity);
  return concat([before, fresh, after]);
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
function followable(layout: Layout, d: DatasetEntry, f: FileEntry): string {
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

/** `SYMBOL/interval/key`, the registry id of a cached indicator. */
export function indicatorId(symbol: string, interval: Interval, key: string): string {
  return `${datasetId(symbol, interval)}/${key}`;
}

function newIndicatorEntry(rec: IndicatorRecord): DatasetEntry {
  return {
    ...newEntry(rec.symbol, rec.interval, ['indicator']),
    id: indicatorId(rec.symbol, rec.interval, rec.key),
    kind: 'indicator',
    indicator: { name: rec.name, params: rec.params },
    sourceChecksum: rec.sourceChecksum,
  };
}

function newEntry(symbol: string, interval: Interval, source: string[]): DatasetEntry {
  const s = parseSeriesKey(symbol);
  return {
    id: datasetId(symbol, interval),
    symbol,
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

function samePending(a: readonly number[] | undefined, b: readonly number[]): boolean {
  const x = a ?? [];
  return x.length === b.length && x.every((t, i) => t === b[i]);
}

async function isDir(p: string): Promise<boolean> {
  return (await fsp.stat(p).catch(() => null))?.isDirectory() ?? false;
}
