/**
 * The bank: 1m truth in monthly Parquet partitions, derived timeframes, indicator caches, and
 * the registry. This class is the one door to them; each concern lives in its own module, in
 * the order the data goes through them:
 *
 *   writes.ts      1m candles in: merge, fill confirmed outages, split into months, encode
 *   journal.ts     commit (journal, files, registry) and recovery: the transaction model
 *   partitions.ts  files out: checked reads, parallel decodes, verify
 *   derive.ts      derived timeframes, pending edge buckets, indicator caches
 *   registry.ts    the registry in memory and its merging saves
 *
 * Invariant: every write is atomic, and a journal written before a group of files makes the
 * registry agree with the files after a crash at any moment (see `journal.ts`).
 */
import { promises as fsp } from 'node:fs';
import type { Candles } from '../../schemas/candles.ts';
import type { Interval } from '../../schemas/intervals.ts';
import { parseBankKey as parseSymbol } from '../../schemas/common.ts';
import { ThreadxError } from '../../schemas/errors.ts';
import type { DatasetEntry, Range, Registry, VerifyIssue } from '../../schemas/registry.ts';
import { LAYOUT_VERSION } from '../../schemas/registry.ts';
import type { CandleDiff } from '../engine/resample.ts';
import { type BankCore, NotFoundError } from './core.ts';
import * as derived from './derive.ts';
import { recover, recoverIfInterrupted } from './journal.ts';
import { Layout } from './layout.ts';
import type { BankLock } from './lock.ts';
import type { ColumnsFile } from './parquet.ts';
import { type VerifyOptions, followable, read1m, readTimeframe, verify } from './partitions.ts';
import { type IndicatorRecord, RegistryStore, datasetId } from './registry.ts';
import { type TailSpan, Tails } from './tail.ts';
import { mergeCandles } from '../engine/merge.ts';
import * as writes from './writes.ts';

export { DataContractError, NotFoundError } from './core.ts';
export type { DeriveResult, IndicatorWriteResult } from './derive.ts';
export type { WriteResult } from './writes.ts';
export type { IndicatorRecord } from './registry.ts';
export { indicatorId } from './registry.ts';
export { canonicalPath, damaged, verifyWords } from './partitions.ts';

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

export class Bank {
  readonly layout: Layout;
  /** What recovery did that a person should know (journals quarantined), one sentence each. */
  readonly recoveryNotes: string[] = [];
  private readonly core: BankCore;
  /** Minutes received since the last fold, merged into every 1m read (see `tail.ts`). */
  tails!: Tails;

  private constructor(layout: Layout, store: RegistryStore, opts: BankOptions) {
    this.layout = layout;
    this.core = {
      layout,
      store,
      reg: store.reg,
      maxFill: opts.maxGapFillMinutes ?? 240,
      now: opts.now ?? Date.now,
      lock: opts.lock,
      recoveryNotes: this.recoveryNotes,
      pendingCache: new Map(),
    };
  }

  static async open(root: string, opts: BankOptions = {}): Promise<Bank> {
    const layout = new Layout(root);
    // Reading creates nothing: a read-only bank opens as it is.
    if (opts.lock || !(await isDir(layout.root))) await fsp.mkdir(layout.root, { recursive: true });
    const bank = new Bank(layout, await RegistryStore.open(layout.registry, opts.lock), opts);
    bank.tails = await Tails.load(layout.root);
    if (opts.lock) {
      await recover(bank.core);
      // An older registry is written in the current format by the first writer: the datasets,
      // paths and checksums are the same (see LAYOUT_VERSION), so every file still verifies.
      if (bank.core.reg.version !== LAYOUT_VERSION) await bank.save();
    } else await recoverIfInterrupted(bank.core);
    return bank;
  }

  /**
   * Saves the registry. Saves are queued and each one serialises the registry when its turn
   * comes, so an older snapshot can never be renamed over a newer one.
   */
  save(): Promise<void> {
    return this.core.store.save();
  }

  /** Completes or rolls back a group write interrupted by a crash (see `journal.ts`). */
  recover(): Promise<{ applied: number; rolledBack: number; quarantined: string[] }> {
    return recover(this.core);
  }

  registry(): Registry {
    return this.core.reg;
  }

  list(): DatasetEntry[] {
    return Object.values(this.core.reg.datasets).sort((a, b) => a.id.localeCompare(b.id));
  }

  get(symbol: string, interval: Interval): DatasetEntry | undefined {
    return this.core.reg.datasets[datasetId(parseSymbol(symbol), interval)];
  }

  confirmedEmpty(symbol: string): Range[] {
    return this.core.reg.confirmedEmpty[parseSymbol(symbol)] ?? [];
  }

  /** Records 1m ranges the exchange confirmed empty (see `writes.addConfirmedEmpty`). */
  addConfirmedEmpty(symbol: string, ranges: Range[]): Promise<void> {
    return writes.addConfirmedEmpty(this.core, symbol, ranges);
  }

  /**
   * Reads 1m candles in [start, end) from the monthly partitions (all when unbounded), with the
   * tail's minutes merged in (a tail minute wins: it is the later value).
   */
  async read1m(symbol: string, start = -Infinity, end = Infinity): Promise<Candles> {
    const stored = await read1m(this.core, symbol, start, end);
    const tail = this.tails.read(parseSymbol(symbol), start, end);
    return tail.length === 0 ? stored : mergeCandles(stored, tail);
  }

  /** The first and last minute of `symbol`'s 1m, the tail's included; undefined when none. */
  span1m(symbol: string): TailSpan | undefined {
    const e = this.get(symbol, '1m');
    const t = this.tails.span(parseSymbol(symbol));
    if (!e || e.first === null || e.last === null || e.rows === 0) return t;
    if (!t) return { first: e.first, last: e.last, rows: e.rows };
    return {
      first: Math.min(e.first, t.first),
      last: Math.max(e.last, t.last),
      rows: e.rows + t.rows,
    };
  }

  /** Reads a stored timeframe in [start, end). */
  read(symbol: string, interval: Interval, start = -Infinity, end = Infinity): Promise<Candles> {
    if (interval === '1m') return this.read1m(symbol, start, end);
    return readTimeframe(this.core, symbol, interval, start, end);
  }

  /** Merges real 1m candles into the bank (see `writes.write1m`). */
  write1m(
    symbol: string,
    incoming: Candles,
    source: string | readonly string[],
    opts: writes.Write1mOptions = {},
  ): Promise<writes.WriteResult> {
    return writes.write1m(this.core, symbol, incoming, source, opts);
  }

  /** Derives `intervals` from the 1m truth (see `derive.derive`). */
  derive(
    symbol: string,
    intervals: readonly Interval[],
    affected?: Range,
  ): Promise<derived.DeriveResult[]> {
    return derived.derive(this.core, symbol, intervals, affected);
  }

  /** `interval` resampled from 1m over [from, to), whole buckets only, as `derive` stores them. */
  resampleComplete(
    symbol: string,
    interval: Interval,
    from: number,
    to: number,
  ): Promise<{ candles: Candles; pending: number[] }> {
    return derived.resampleComplete(this.core, symbol, interval, from, to);
  }

  /** Pending edge buckets of `interval` that overlap [start, end) (see `derive`). */
  pendingBuckets(
    symbol: string,
    interval: Interval,
    start = -Infinity,
    end = Infinity,
  ): Promise<number> {
    return derived.pendingBuckets(this.core, symbol, interval, start, end);
  }

  /** A candle dataset's checksum: the sha256 of its files' checksums in order. */
  datasetChecksum(symbol: string, interval: Interval): string | null {
    return derived.datasetChecksum(this.core, symbol, interval);
  }

  /** The registry entry of a cached indicator (`SYMBOL/interval/key`). */
  getIndicator(symbol: string, interval: Interval, key: string): DatasetEntry | undefined {
    return derived.getIndicator(this.core, symbol, interval, key);
  }

  /** Writes an indicator cache file under the journal (see `derive.writeIndicator`). */
  writeIndicator(
    rec: IndicatorRecord,
    timestamp: Float64Array,
    columns: Record<string, Float64Array>,
  ): Promise<derived.IndicatorWriteResult> {
    return derived.writeIndicator(this.core, rec, timestamp, columns);
  }

  /** Reads a cached indicator file (size and last verify checked; the checksum is `verify`'s). */
  readIndicator(symbol: string, interval: Interval, key: string): Promise<ColumnsFile> {
    return derived.readIndicator(this.core, symbol, interval, key);
  }

  /** Re-derives the buckets of a stored timeframe overlapping [lo, hi) and compares them. */
  checkRange(
    symbol: string,
    interval: Interval,
    lo: number,
    hi: number,
  ): Promise<{ total: number; diffs: CandleDiff[] }> {
    return derived.checkRange(this.core, symbol, interval, lo, hi);
  }

  /** Re-derives a stored timeframe from 1m and lists every difference. */
  checkConsistency(
    symbol: string,
    interval: Interval,
  ): Promise<{ total: number; diffs: CandleDiff[] }> {
    return derived.checkConsistency(this.core, symbol, interval);
  }

  /**
   * Recomputes every checksum and re-validates every file; reports changed, corrupt, missing
   * and unregistered files.
   */
  verify(opts: VerifyOptions = {}): Promise<VerifyIssue[]> {
    return verify(this.core, opts);
  }

  /**
   * Removes the 1m candles in [start, end) (and any record that the range was confirmed empty),
   * so the next ingest downloads that range again. Derived timeframes are re-derived by it.
   */
  deleteRange(symbol: string, start: number, end: number): Promise<number> {
    return writes.deleteRange(this.core, symbol, start, end);
  }

  /** Removes a dataset's files and registry entry. Deleting 1m removes its derived data too. */
  async deleteDataset(symbolIn: string, interval: Interval): Promise<string[]> {
    const reg = this.core.reg;
    const symbol = parseSymbol(symbolIn);
    const ids =
      interval === '1m'
        ? Object.keys(reg.datasets).filter((id) => id.startsWith(`${symbol}/`))
        : [datasetId(symbol, interval)];
    const removed: string[] = [];
    // Every file of every dataset is checked before anything is removed.
    for (const id of ids) {
      const e = reg.datasets[id];
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
      const e = reg.datasets[id];
      if (!e) continue;
      delete reg.datasets[id];
      await this.save();
      for (const f of e.files) {
        await fsp.rm(this.layout.abs(f.path), { force: true });
        removed.push(f.path);
      }
    }
    // Minutes still in the tail go with the 1m they belong to.
    if (interval === '1m') removed.push(...(await this.tails.drop(symbol)));
    if (removed.length === 0)
      throw new NotFoundError(`no dataset ${symbol}/${interval} in the bank`);
    if (interval === '1m') delete reg.confirmedEmpty[symbol];
    await this.save();
    return removed;
  }
}

async function isDir(p: string): Promise<boolean> {
  return (await fsp.stat(p).catch(() => null))?.isDirectory() ?? false;
}
