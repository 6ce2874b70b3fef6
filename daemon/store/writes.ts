/**
 * The 1m truth's writes: new candles merged into their months, short outages filled, each
 * changed month encoded and committed (`journal.ts`); ranges deleted; outages recorded.
 *
 * Invariant: only whole months are written, each from the merge of what was stored and what
 * came in, and a month whose bytes would not change is not written at all (re-importing data
 * already in the bank writes nothing).
 */
import { ThreadxError } from '../../schemas/errors.ts';
import { promises as fsp } from 'node:fs';
import {
  type Candles,
  allocCandles,
  sliceCandles,
  FLOAT_COLUMNS,
  clipCandles as clip,
  concatCandles as concat,
} from '../../schemas/candles.ts';
import { MINUTE_MS } from '../../schemas/intervals.ts';
import { parseBankKey as parseSymbol } from '../../schemas/common.ts';
import type { FileEntry, Range } from '../../schemas/registry.ts';
import { fillGaps, detectGaps, isFillable, mergeRanges, subtractRanges } from '../engine/gaps.ts';
import { mergeCandles } from '../engine/merge.ts';
import { validateCandles, describeViolations } from '../engine/validate.ts';
import { parseSeriesKey, pricesOf } from '../../schemas/markets.ts';
import { type BankCore, DataContractError, NotFoundError } from './core.ts';
import { type FileWrite, type JournalItem, commit } from './journal.ts';
import { monthKey, nextMonthStart } from './layout.ts';
import { decodeCandles, encodeCandles } from './parquet.ts';
import { codecPool } from './codec-pool.ts';
import { decodePartition, followable, read1m } from './partitions.ts';
import { datasetId, newEntry, sha256, summarize } from './registry.ts';

export interface WriteResult {
  symbol: string;
  /** Partitions whose content changed and were rewritten. */
  written: string[];
  /** Partitions that already held exactly this content (nothing written). */
  unchanged: string[];
  rowsAdded: number;
  filled: number;
}

export interface Write1mOptions {
  /**
   * Damaged partitions (relative paths) that `incoming` replaces whole: they are never read,
   * and a month of `incoming` at one of them is written even when its bytes equal the
   * registry's (the file on disk does not). A damaged partition `incoming` has no row in is
   * left as it is, still recorded as damaged.
   */
  replace?: readonly string[];
}

function confirmedEmptyOf(core: BankCore, symbol: string): Range[] {
  return core.reg.confirmedEmpty[parseSymbol(symbol)] ?? [];
}

/**
 * Records 1m ranges the exchange confirmed empty (outages), so they are never fetched again. A
 * short gap between stored rows that this confirms is filled now (its month rewritten), not at
 * the next write that happens to touch it.
 */
export async function addConfirmedEmpty(
  core: BankCore,
  symbol: string,
  ranges: Range[],
): Promise<void> {
  if (ranges.length === 0) return;
  const s = parseSymbol(symbol);
  const confirmed = mergeRanges([...(core.reg.confirmedEmpty[s] ?? []), ...ranges]);
  core.reg.confirmedEmpty[s] = confirmed;
  await core.store.save();
  const entry = core.reg.datasets[datasetId(s, '1m')];
  const now = (entry?.files ?? [])
    .flatMap((f) => f.gaps)
    .filter((g) => !g.filled && isFillable(g.start, g.end, g.missing, core.maxFill, confirmed));
  for (const g of now) {
    // The row before the gap, written again: the merge is unchanged and the gap gets filled.
    // Best effort: when its month or a neighbour is damaged (a repair under way), the gap stays
    // confirmed and unfilled, as it was, and the write that repairs the month fills it.
    try {
      const before = await read1m(core, s, g.start - MINUTE_MS, g.start);
      if (before.length > 0) await write1m(core, s, before, entry!.source.at(-1) ?? 'fill');
    } catch (e) {
      if (!(e instanceof ThreadxError)) throw e;
    }
  }
}

/**
 * Merges real 1m candles into the bank. Incoming rows must meet the data contract (else
 * nothing is written and a `DataContractError` lists the violations). Rows are deduplicated
 * by open time; short gaps confirmed empty (`confirmedEmpty`, recorded before the write) are
 * refilled around them; only partitions whose content changes
 * are rewritten, so re-importing data already in the bank writes nothing.
 */
export async function write1m(
  core: BankCore,
  symbolIn: string,
  incoming: Candles,
  source: string | readonly string[],
  opts: Write1mOptions = {},
): Promise<WriteResult> {
  const { layout, reg } = core;
  const symbol = parseSymbol(symbolIn);
  const report = validateCandles(incoming, '1m', {
    prices: pricesOf(parseSeriesKey(symbol)?.kind),
  });
  if (!report.ok) throw new DataContractError(`${symbol}: ${describeViolations(report)}`);
  const result: WriteResult = { symbol, written: [], unchanged: [], rowsAdded: 0, filled: 0 };
  if (incoming.length === 0) return result;

  const id = datasetId(symbol, '1m');
  const entry = reg.datasets[id] ?? newEntry(symbol, '1m', []);

  // Months touched, plus their stored neighbours, whose gaps at the edges may change. The open
  // times are sorted: each month is found by a binary search from its first row, not by a key
  // per row.
  const touched = monthsOf(incoming.openTime, incoming.length);
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
  // A damaged neighbour is never merged into new data: the write stops and names the fix.
  const decoded = await Promise.all(storedFiles.map((f) => decodePartition(layout, entry, f)));
  /** What each stored month holds now, to tell an unchanged month without encoding it. */
  const before = new Map<string, Candles>();
  for (const [i, candles] of decoded.entries()) {
    before.set(monthKey(storedFiles[i].first ?? 0), candles);
    const real = withoutFilled(candles);
    existingRealRows += real.length;
    existingParts.push(real);
  }
  const merged = mergeCandles(concat(existingParts), withoutFilled(incoming));
  result.rowsAdded = merged.length - existingRealRows;
  // Only minutes the exchange confirmed missing are filled (record them before writing).
  const confirmed = confirmedEmptyOf(core, symbol);
  const { candles: full } = fillGaps(merged, core.maxFill, confirmed);

  const items: JournalItem[] = [];
  const writes: FileWrite[] = [];
  // Split into months; a month whose rows equal its stored file's is unchanged (its bytes would
  // be the same), and every other month is encoded in parallel on the codec pool.
  const months: { k: string; part: Candles }[] = [];
  let lo = 0;
  for (const k of loadKeys) {
    const hi = lowerBound(full.openTime, nextMonthStart(k), lo, full.length);
    if (hi > lo) {
      const part = sliceCandles(full, lo, hi);
      const old = stored.get(k);
      const was = before.get(k);
      if (old && was && !replace.has(old.path) && sameCandles(was, part))
        result.unchanged.push(layout.rel(layout.partition(symbol, k)));
      else months.push({ k, part });
    }
    lo = hi;
  }
  const encoded = await Promise.all(
    months.map(({ k, part }) => codecPool().encode(part, { symbol, interval: '1m', month: k })),
  );
  for (const [mi, { k, part }] of months.entries()) {
    const abs = layout.partition(symbol, k);
    const rel = layout.rel(abs);
    const bytes = encoded[mi];
    const sum = sha256(bytes);
    const old = stored.get(k);
    if (old && old.sha256 === sum && !replace.has(old.path)) {
      result.unchanged.push(rel);
      continue;
    }
    const gaps = detectGaps(part, MINUTE_MS, true).map((g) => ({
      ...g,
      filled: isFillable(g.start, g.end, g.missing, core.maxFill, confirmed),
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
        writtenAt: core.now(),
      },
    });
    writes.push({ abs, bytes });
    result.written.push(rel);
  }
  result.unchanged.sort();
  if (writes.length === 0) return result;
  if (!reg.datasets[id]) reg.datasets[id] = entry;
  await commit(core, items, writes, (r) => {
    const e = r.datasets[id];
    e.source = [
      ...new Set([...e.source, ...(typeof source === 'string' ? [source] : source)]),
    ].slice(-50);
    e.updated = core.now();
  });
  return result;
}

/**
 * Removes the 1m candles in [start, end) (and any record that the range was confirmed empty),
 * so the next ingest downloads that range again. Derived timeframes are re-derived by it.
 */
export async function deleteRange(
  core: BankCore,
  symbolIn: string,
  start: number,
  end: number,
): Promise<number> {
  const { layout, reg } = core;
  const symbol = parseSymbol(symbolIn);
  const id = datasetId(symbol, '1m');
  const entry = reg.datasets[id];
  if (!entry) throw new NotFoundError(`no 1m data for ${symbol}`);
  let removed = 0;
  const emptied: string[] = [];
  const items: JournalItem[] = [];
  const writes: FileWrite[] = [];
  for (const f of entry.files) followable(layout, entry, f);
  for (const f of entry.files) {
    if (f.first === null || f.last === null || f.last < start || f.first >= end) continue;
    const { candles } = decodeCandles(await fsp.readFile(layout.abs(f.path)), f.path);
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
        writtenAt: core.now(),
      },
    });
    writes.push({ abs: layout.abs(f.path), bytes });
  }
  const ce = reg.confirmedEmpty[symbol];
  if (ce) reg.confirmedEmpty[symbol] = subtractRanges(ce, [[start, end]]);
  if (emptied.length) {
    reg.datasets[id] = summarize({
      ...entry,
      files: entry.files.filter((f) => !emptied.includes(f.path)),
    });
  }
  if (writes.length)
    await commit(core, items, writes, (r) => (r.datasets[id].updated = core.now()));
  else await core.store.save();
  for (const p of emptied) await fsp.rm(layout.abs(p), { force: true });
  return removed;
}

/** The month keys of sorted open times, in order: one binary search per month. */
export function monthsOf(openTime: Float64Array, length: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < length;) {
    const k = monthKey(openTime[i]);
    out.push(k);
    i = lowerBound(openTime, nextMonthStart(k), i, length);
  }
  return out;
}

/** The first index in [lo, hi) of sorted `xs` whose value is at least `x` (hi when none). */
export function lowerBound(xs: Float64Array, x: number, lo: number, hi: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (xs[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Same rows, every column equal (Object.is: a NaN equals itself, -0 differs from 0). */
function sameCandles(a: Candles, b: Candles): boolean {
  if (a.length !== b.length) return false;
  for (const col of ['openTime', 'filled', ...FLOAT_COLUMNS] as const) {
    const x = a[col];
    const y = b[col];
    for (let i = 0; i < a.length; i++) if (!Object.is(x[i], y[i])) return false;
  }
  return true;
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
