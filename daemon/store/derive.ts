/**
 * Everything computed from the 1m truth: derived timeframes (whole history, or only the buckets
 * a write touched, spliced in), the pending edge buckets a reader must not see as candles, the
 * consistency checks, and the indicator caches.
 *
 * Invariant: a derived file holds only whole buckets (README, "Fidelity"); a bucket with a
 * minute neither stored nor confirmed empty is pending, recorded in the entry, never a candle.
 * A derived file records the checksum of the 1m dataset it came from (`sourceChecksum`).
 */
import { promises as fsp } from 'node:fs';
import type { Candles } from '../../schemas/candles.ts';
import { clipCandles as clip, concatCandles as concat } from '../../schemas/candles.ts';
import {
  type Interval,
  MINUTE_MS,
  bucketStart,
  nextBucketStart,
  intervalMs,
} from '../../schemas/intervals.ts';
import { parseBankKey as parseSymbol } from '../../schemas/common.ts';
import type { DatasetEntry, FileEntry, Range } from '../../schemas/registry.ts';
import { detectGaps } from '../engine/gaps.ts';
import {
  resample,
  resampleAll,
  compareCandles,
  completeBuckets,
  knownMinutes,
  type CandleDiff,
} from '../engine/resample.ts';
import { type BankCore, NotFoundError } from './core.ts';
import { commit } from './journal.ts';
import { type ColumnsFile, decodeColumns, encodeCandles, encodeColumns } from './parquet.ts';
import { corrupt, damaged, fileSha, read1m, readChecked, readTimeframe } from './partitions.ts';
import {
  type IndicatorRecord,
  datasetId,
  indicatorId,
  newEntry,
  newIndicatorEntry,
  sha256,
  summarize,
} from './registry.ts';

export interface DeriveResult {
  interval: Interval;
  rows: number;
  written: boolean;
}

export interface IndicatorWriteResult {
  id: string;
  path: string;
  rows: number;
  /** False when the file already held exactly these bytes. */
  written: boolean;
}

/**
 * Prices of a re-derived candle must equal the stored ones exactly; volume sums may differ in
 * their last bits with the order of summation (the bank sums via finer timeframes).
 */
const SUM_TOLERANCE = 1e-12;

function get(core: BankCore, symbol: string, interval: Interval): DatasetEntry | undefined {
  return core.reg.datasets[datasetId(parseSymbol(symbol), interval)];
}

function confirmedEmpty(core: BankCore, symbol: string): Range[] {
  return core.reg.confirmedEmpty[parseSymbol(symbol)] ?? [];
}

/**
 * Derives `intervals` from the 1m truth. With `affected` (a 1m range just written), only the
 * buckets overlapping it are recomputed and spliced into the stored file; otherwise the whole
 * history is resampled.
 */
export async function derive(
  core: BankCore,
  symbolIn: string,
  intervals: readonly Interval[],
  affected?: Range,
): Promise<DeriveResult[]> {
  const { layout, reg } = core;
  const symbol = parseSymbol(symbolIn);
  const src = get(core, symbol, '1m');
  if (!src || src.rows === 0)
    throw new NotFoundError(`no 1m data for ${symbol}: import or ingest it first`);
  const sourceChecksum = sha256(src.files.map((f) => f.sha256).join(''));
  const out: DeriveResult[] = [];
  // Intervals derived from the whole history are computed together, each from a finer one.
  // A stored file the last verify found damaged is never spliced into: it is derived whole.
  const whole = intervals.filter((iv) => {
    const f = reg.datasets[datasetId(symbol, iv)]?.files[0];
    return iv !== '1m' && !(affected && f && !damaged(f));
  });
  const absent = confirmedEmpty(core, symbol);
  const m1All = whole.length ? await read1m(core, symbol) : null;
  const full = m1All ? resampleAll(m1All, whole) : new Map<Interval, Candles>();
  const knownAll = m1All ? knownMinutes(m1All, absent) : [];
  for (const interval of intervals) {
    if (interval === '1m') continue;
    const id = datasetId(symbol, interval);
    const existing = reg.datasets[id];
    let series: Candles;
    let pending: number[];
    const fromFull = full.get(interval);
    if (fromFull) {
      // Only whole buckets become candles; edge buckets stay pending (README, "Fidelity").
      ({ candles: series, pending } = completeBuckets(fromFull, interval, knownAll));
    } else {
      const from = bucketStart(affected![0], interval);
      const to = nextBucketStart(bucketStart(affected![1] - 1, interval), interval);
      const part = await read1m(core, symbol, from, to);
      // The same cascade as a whole-history derive, so the sums (and the bytes) are identical
      // and an unchanged bucket never rewrites a sound file.
      const fresh = completeBuckets(
        resampleAll(part, [interval]).get(interval)!,
        interval,
        knownMinutes(part, absent),
      );
      const old = await readTimeframe(core, symbol, interval);
      series = splice(old, fresh.candles, from, to);
      pending = [
        ...(existing?.pending ?? []).filter((t) => t < from || t >= to),
        ...fresh.pending,
      ].sort((a, b) => a - b);
    }
    const abs = layout.derived(symbol, interval);
    const rel = layout.rel(abs);
    if (series.length === 0) {
      // Every bucket is still pending: no file (an empty file would be a dataset of nothing).
      reg.datasets[id] = {
        ...(existing
          ? summarize({ ...existing, files: [] })
          : newEntry(symbol, interval, ['derived'])),
        pending,
        sourceChecksum,
        updated: core.now(),
      };
      await core.store.save();
      if (existing?.files.length) await fsp.rm(abs, { force: true });
      out.push({ interval, rows: 0, written: Boolean(existing?.files.length) });
      continue;
    }
    const bytes = encodeCandles(series, { symbol, interval, source_checksum: sourceChecksum });
    const sum = sha256(bytes);
    if (existing?.files[0]?.sha256 === sum && !damaged(existing.files[0])) {
      if (!samePending(existing.pending, pending)) {
        existing.pending = pending;
        await core.store.save();
      }
      out.push({ interval, rows: series.length, written: false });
      continue;
    }
    const step = interval === '1M' ? 0 : intervalMs(interval);
    const gaps = step > 0 ? detectGaps(series, step) : [];
    reg.datasets[id] ??= newEntry(symbol, interval, ['derived']);
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
      writtenAt: core.now(),
    };
    await commit(core, [{ dataset: id, file }], [{ abs, bytes }], (r) => {
      r.datasets[id].sourceChecksum = sourceChecksum;
      r.datasets[id].pending = pending;
      r.datasets[id].updated = core.now();
    });
    out.push({ interval, rows: series.length, written: true });
  }
  return out;
}

/**
 * `interval` resampled from 1m over [from, to) for a reader, holding only whole buckets, as
 * `derive` stores them: a bucket with unknown minutes is pending, never shown as a candle.
 */
export async function resampleComplete(
  core: BankCore,
  symbol: string,
  interval: Interval,
  from: number,
  to: number,
): Promise<{ candles: Candles; pending: number[] }> {
  const m1 = await read1m(core, symbol, from, to);
  return completeBuckets(
    resample(m1, interval),
    interval,
    knownMinutes(m1, confirmedEmpty(core, symbol)),
  );
}

/** Pending edge buckets of `interval` that overlap [start, end) (see `derive`). */
export async function pendingBuckets(
  core: BankCore,
  symbolIn: string,
  interval: Interval,
  start = -Infinity,
  end = Infinity,
): Promise<number> {
  if (interval === '1m') return 0;
  const symbol = parseSymbol(symbolIn);
  const m1 = get(core, symbol, '1m');
  if (!m1 || m1.first === null || m1.last === null) return 0;
  const lo = Math.max(start, m1.first);
  const hi = Math.min(end, m1.last + MINUTE_MS);
  if (!(hi > lo)) return 0;
  const first = bucketStart(lo, interval);
  const last = bucketStart(hi - 1, interval);
  const stored = get(core, symbol, interval);
  if (stored?.kind === 'candles' && stored.sourceChecksum === datasetChecksum(core, symbol, '1m'))
    return (stored.pending ?? []).filter((t) => t >= first && t <= last).length;
  // Not stored: only the buckets at the two ends of the range can be edge buckets. Each one's
  // answer is kept until the 1m data or its confirmed outages change (a repeated read of the
  // same range decodes nothing).
  const version = `${datasetChecksum(core, symbol, '1m')}:${JSON.stringify(confirmedEmpty(core, symbol))}`;
  const ends = first === last ? [first] : [first, last];
  let n = 0;
  for (const b of ends) {
    const key = `${symbol}/${interval}/${b}`;
    const hit = core.pendingCache.get(key);
    if (hit?.version === version) {
      n += hit.pending;
      continue;
    }
    const r = await resampleComplete(core, symbol, interval, b, nextBucketStart(b, interval));
    if (core.pendingCache.size >= PENDING_CACHE_MAX) core.pendingCache.clear();
    core.pendingCache.set(key, { version, pending: r.pending.length });
    n += r.pending.length;
  }
  return n;
}

/** Edge buckets remembered by `pendingBuckets` (a bound: the cache starts over past it). */
const PENDING_CACHE_MAX = 4096;

/**
 * A candle dataset's checksum: the sha256 of its files' checksums in order (for 1m, the value
 * `derive` records as a derived dataset's `sourceChecksum`). Null when there is no such data.
 */
export function datasetChecksum(core: BankCore, symbol: string, interval: Interval): string | null {
  const e = get(core, symbol, interval);
  if (!e || e.files.length === 0) return null;
  return sha256(e.files.map((f) => f.sha256).join(''));
}

/** The registry entry of a cached indicator (`SYMBOL/interval/key`). */
export function getIndicator(
  core: BankCore,
  symbol: string,
  interval: Interval,
  key: string,
): DatasetEntry | undefined {
  const e = core.reg.datasets[indicatorId(parseSymbol(symbol), interval, key)];
  return e?.kind === 'indicator' ? e : undefined;
}

/**
 * Writes an indicator cache file (`indicators_cache/SYMBOL/interval/key.parquet`): the candle
 * open times plus one float64 column per output, the source checksum in its metadata. Written
 * under the journal like candle files, so a crash leaves the old file and entry or the new ones.
 */
export async function writeIndicator(
  core: BankCore,
  rec: IndicatorRecord,
  timestamp: Float64Array,
  columns: Record<string, Float64Array>,
): Promise<IndicatorWriteResult> {
  const { layout, reg } = core;
  const symbol = parseSymbol(rec.symbol);
  const id = indicatorId(symbol, rec.interval, rec.key);
  const abs = layout.indicator(symbol, rec.interval, rec.key);
  const rel = layout.rel(abs);
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
  const existing = reg.datasets[id];
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
    writtenAt: core.now(),
  };
  const record = { ...rec, symbol };
  reg.datasets[id] ??= newIndicatorEntry(record);
  await commit(core, [{ dataset: id, file, indicator: record }], [{ abs, bytes }], (r) => {
    r.datasets[id].sourceChecksum = rec.sourceChecksum;
    r.datasets[id].indicator = { name: rec.name, params: rec.params };
    r.datasets[id].updated = core.now();
  });
  return { id, path: rel, rows: n, written: true };
}

/** Reads a cached indicator file (size and last verify checked; the checksum is `verify`'s). */
export async function readIndicator(
  core: BankCore,
  symbol: string,
  interval: Interval,
  key: string,
): Promise<ColumnsFile> {
  const e = getIndicator(core, symbol, interval, key);
  if (!e || e.files.length === 0) {
    throw new NotFoundError(`no cached ${key} for ${parseSymbol(symbol)} ${interval}`);
  }
  const f = e.files[0];
  const bytes = await readChecked(core.layout, e, f);
  try {
    return decodeColumns(bytes, f.path);
  } catch (err) {
    throw corrupt(e, f, 'it cannot be decoded as Parquet', err);
  }
}

/** Re-derives the buckets of a stored timeframe overlapping [lo, hi) and compares them. */
export async function checkRange(
  core: BankCore,
  symbol: string,
  interval: Interval,
  lo: number,
  hi: number,
): Promise<{ total: number; diffs: CandleDiff[] }> {
  const from = bucketStart(lo, interval);
  const to = nextBucketStart(bucketStart(hi - 1, interval), interval);
  const stored = await readTimeframe(core, symbol, interval, from, to);
  const fresh = (await resampleComplete(core, symbol, interval, from, to)).candles;
  return compareCandles(fresh, stored, { volumeRelTol: SUM_TOLERANCE });
}

/** Re-derives a stored timeframe from 1m and lists every difference. */
export async function checkConsistency(
  core: BankCore,
  symbol: string,
  interval: Interval,
): Promise<{ total: number; diffs: CandleDiff[] }> {
  const stored = await readTimeframe(core, symbol, interval);
  const fresh = (await resampleComplete(core, symbol, interval, -Infinity, Infinity)).candles;
  return compareCandles(fresh, stored, { volumeRelTol: SUM_TOLERANCE });
}

function countFilled(c: Candles): number {
  let n = 0;
  for (let i = 0; i < c.length; i++) n += c.filled[i];
  return n;
}

/** `old` with its rows in [from, to) replaced by `fresh`. */
function splice(old: Candles, fresh: Candles, from: number, to: number): Candles {
  const before = clip(old, -Infinity, from);
  const after = clip(old, to, Infinity);
  return concat([before, fresh, after]);
}

function samePending(a: readonly number[] | undefined, b: readonly number[]): boolean {
  const x = a ?? [];
  return x.length === b.length && x.every((t, i) => t === b[i]);
}
