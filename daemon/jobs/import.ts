import path from 'node:path';
import { parseSymbol } from '../../schemas/common.ts';
import { DAY_MS, DERIVED_INTERVALS, type Interval } from '../../schemas/intervals.ts';
import { refreshStaleIndicators } from './indicators.ts';
import type { Bank, WriteResult, DeriveResult } from '../store/bank.ts';
import {
  ImportError,
  type KlineFile,
  futuresSeriesOf,
  parseArchiveName,
  readKlineFile,
} from '../store/importer.ts';
import { monthsOf } from '../store/writes.ts';
import {
  type KlineKind,
  type Market,
  MARKET_NAMES,
  kindsOf,
  pricesOf,
  seriesKey,
} from '../../schemas/markets.ts';
import { subtractRanges } from '../engine/gaps.ts';
import { knownMinutes } from '../engine/resample.ts';
import { type Candles, concatCandles } from '../../schemas/candles.ts';
import { validateCandles, describeViolations } from '../engine/validate.ts';

export interface ImportItem {
  file: string;
  /** The series' bank key the file went to (the symbol for spot trade klines). */
  symbol: string | null;
  /** The market and kline kind the file was stored as. */
  series?: { market: Market; kind: KlineKind };
  ok: boolean;
  rows: number;
  checksum: 'verified' | 'absent' | 'failed';
  written: number;
  unchanged: number;
  error?: string;
  /** Why a file was refused before anything was written (`WRONG_INTERVAL`, `WRONG_MARKET`). */
  code?: 'WRONG_INTERVAL' | 'WRONG_MARKET';
  /** What the file's timestamps and text show. */
  detectedInterval?: Interval | null;
  market?: 'spot' | 'futures';
}

export interface ImportSummary {
  items: ImportItem[];
  derived: Record<string, DeriveResult[]>;
}

/** Files read (unzipped and parsed on the codec workers) ahead of the one being merged. */
const READ_AHEAD = 3;
/** Rows of consecutive files merged and written as one group (about six months of 1m). */
const GROUP_ROWS = 270_000;

/** A file read and checked, waiting in its group to be written. */
interface Ready {
  index: number;
  item: ImportItem;
  symbol: string;
  candles: Candles;
  absent: [number, number][];
}

/**
 * Imports 1m kline files into the bank. Each file is read, checksummed when a `.CHECKSUM` sits
 * beside it, validated, and merged; a bad file is reported and skipped, never half-written,
 * and the other files go on.
 *
 * The next files are read while one is merged (their archives unzip and parse on the codec
 * workers), and consecutive files of one symbol whose rows follow each other are written as one
 * group: each month is encoded once, a group is one commit, and the months encode in parallel.
 */
export async function importFiles(
  bank: Bank,
  files: readonly string[],
  opts: {
    symbol?: string;
    /** The market to store into; by default the one the file shows (futures: its path, symbol). */
    market?: Market;
    /** The kline kind; by default the one the file's path shows, else trade klines. */
    kind?: KlineKind;
    intervals?: readonly Interval[];
    onFile?: (item: ImportItem, i: number, n: number) => void;
  } = {},
): Promise<ImportSummary> {
  const items: ImportItem[] = [];
  const ranges = new Map<string, [number, number]>();
  const reads: Promise<KlineFile>[] = [];
  const readAt = (i: number): Promise<KlineFile> => {
    for (let j = reads.length; j < Math.min(files.length, i + 1 + READ_AHEAD); j++) {
      const p = readKlineFile(files[j]);
      p.catch(() => undefined); // awaited in its turn; never an unhandled rejection meanwhile
      reads.push(p);
    }
    return reads[i];
  };
  let group: Ready[] = [];
  let groupRows = 0;
  const done = (item: ImportItem, i: number): void => {
    items.push(item);
    opts.onFile?.(item, i, files.length);
  };
  const flush = async (): Promise<void> => {
    const batch = group;
    group = [];
    groupRows = 0;
    if (batch.length === 0) return;
    const symbol = batch[0].symbol;
    try {
      // Recorded before the write, which fills only such minutes.
      const absent = batch.flatMap((r) => r.absent);
      if (absent.length) await bank.addConfirmedEmpty(symbol, absent);
      const incoming =
        batch.length === 1 ? batch[0].candles : concatCandles(batch.map((r) => r.candles));
      const res: WriteResult = await bank.write1m(
        symbol,
        incoming,
        batch.map((r) => `file:${path.basename(r.item.file)}`),
      );
      const monthOf = (p: string): string => path.basename(p, '.parquet');
      const counted = new Set<string>();
      for (const r of batch) {
        const months = new Set(monthsOf(r.candles.openTime, r.candles.length));
        for (const p of res.written)
          if (months.has(monthOf(p)) && !counted.has(p)) {
            r.item.written++;
            counted.add(p);
          }
        for (const p of res.unchanged) if (months.has(monthOf(p))) r.item.unchanged++;
        r.item.ok = true;
      }
      // A neighbouring month rewritten (an edge gap filled) counts for the group's first file.
      batch[0].item.written += res.written.filter((p) => !counted.has(p)).length;
      for (const r of batch) {
        if (r.candles.length === 0) continue;
        const lo = Math.min(r.candles.openTime[0], ...r.absent.map((x) => x[0]));
        const hi = Math.max(
          r.candles.openTime[r.candles.length - 1] + 60_000,
          ...r.absent.map((x) => x[1]),
        );
        const was = ranges.get(symbol);
        ranges.set(symbol, was ? [Math.min(was[0], lo), Math.max(was[1], hi)] : [lo, hi]);
      }
    } catch (e) {
      for (const r of batch) r.item.error = (e as Error).message;
    }
    for (const r of batch) done(r.item, r.index);
  };
  for (const [i, file] of files.entries()) {
    const item: ImportItem = {
      file,
      symbol: null,
      ok: false,
      rows: 0,
      checksum: 'absent',
      written: 0,
      unchanged: 0,
    };
    let ready: Ready;
    try {
      const kf = await readAt(i);
      item.checksum = kf.checksum;
      const exchangeSymbol = opts.symbol ? parseSymbol(opts.symbol) : kf.symbol;
      if (!exchangeSymbol)
        throw new ImportError(
          `${path.basename(file)}: cannot tell the symbol from the file name; pass --symbol`,
        );
      item.detectedInterval = kf.detectedInterval;
      item.market = kf.market;
      const name = path.basename(file);
      // Refused before anything is written: the bank is unchanged.
      if (kf.market === 'futures' && opts.market === 'spot') {
        item.code = 'WRONG_MARKET';
        throw new ImportError(
          `${name} is a futures kline file (${kf.marketReason ?? 'futures'}), and --market spot was given, so nothing was imported. Leave --market out (or give --market um or cm) to store it in its futures market, or import the spot file (data.binance.vision/data/spot/...).`,
        );
      }
      const shown = kf.market === 'futures' ? futuresSeriesOf(file, exchangeSymbol) : undefined;
      const market: Market = opts.market ?? shown?.market ?? 'spot';
      const kind: KlineKind = opts.kind ?? shown?.kind ?? 'klines';
      if (!kindsOf(market).includes(kind)) {
        item.code = 'WRONG_MARKET';
        throw new ImportError(
          `${name}: ${MARKET_NAMES[market]} has no ${kind} klines, so nothing was imported; give --market um or --market cm.`,
        );
      }
      const symbol = seriesKey({ market, kind, symbol: exchangeSymbol });
      item.symbol = symbol;
      item.series = { market, kind };
      if (kf.detectedInterval === null && kf.candles.length >= 2) {
        // Open times that fit no interval (1s klines, irregular rows) are not 1m klines.
        let step = Infinity;
        const t = kf.candles.openTime;
        for (let k = 1; k < kf.candles.length; k++)
          if (t[k] > t[k - 1]) step = Math.min(step, t[k] - t[k - 1]);
        item.code = 'WRONG_INTERVAL';
        throw new ImportError(
          `${name}: its open times are ${step / 1000} s apart at the closest, which is not a 1m kline file, so nothing was imported. Import the symbol's 1m file instead.`,
        );
      }
      const interval = kf.detectedInterval ?? kf.interval;
      if (interval && interval !== '1m') {
        item.code = 'WRONG_INTERVAL';
        throw new ImportError(
          `${name} holds ${interval} klines (${kf.detectedInterval ? 'detected from its timestamps' : 'by its name'}): the bank stores 1m only and derives ${interval} from it, so nothing was imported. Import the symbol's 1m file instead.`,
        );
      }
      const report = validateCandles(kf.candles, '1m', { prices: pricesOf(kind) });
      if (!report.ok)
        throw new ImportError(`${path.basename(file)}: ${describeViolations(report)}`);
      item.rows = kf.candles.length;
      // A checksum-verified Binance archive is the exchange's whole record of its day or month:
      // a minute it lacks is absent at the exchange (an outage, before the first trade), so the
      // buckets around it are whole.
      const absent = archiveAbsent(file, kf.checksum, kf.candles);
      ready = { index: i, item, symbol, candles: kf.candles, absent };
    } catch (e) {
      item.error = (e as Error).message;
      if (/checksum mismatch/i.test(item.error)) item.checksum = 'failed';
      // Reported in file order: the files before it are written first.
      await flush();
      done(item, i);
      continue;
    }
    // A group holds one symbol's files in ascending, non-overlapping order.
    const last = group.at(-1);
    const n = ready.candles.length;
    if (
      last &&
      (last.symbol !== ready.symbol ||
        groupRows + n > GROUP_ROWS ||
        (n > 0 &&
          last.candles.length > 0 &&
          ready.candles.openTime[0] <= last.candles.openTime[last.candles.length - 1]))
    )
      await flush();
    group.push(ready);
    groupRows += n;
  }
  await flush();
  const derived: Record<string, DeriveResult[]> = {};
  for (const [symbol, range] of ranges) {
    // The intervals asked for, and every timeframe already stored: none falls behind its 1m.
    const stored = DERIVED_INTERVALS.filter((iv) => bank.get(symbol, iv));
    const intervals = [...new Set([...(opts.intervals ?? []), ...stored])];
    if (intervals.length) derived[symbol] = await bank.derive(symbol, intervals, range);
    await refreshStaleIndicators(bank, symbol);
  }
  return { items, derived };
}

/** Minutes of a checksum-verified 1m archive's period (from its name) that it has no row for. */
function archiveAbsent(
  file: string,
  checksum: 'verified' | 'absent',
  candles: Candles,
): [number, number][] {
  const named = parseArchiveName(file);
  if (checksum !== 'verified' || !named || named.interval !== '1m' || candles.length === 0)
    return [];
  const [y, m, d] = named.period.split('-').map(Number);
  const start = d ? Date.UTC(y, m - 1, d) : Date.UTC(y, m - 1, 1);
  const end = d ? start + DAY_MS : Date.UTC(y, m, 1);
  const first = candles.openTime[0];
  const last = candles.openTime[candles.length - 1];
  if (first < start || last >= end) return [];
  return subtractRanges([[start, end]], knownMinutes(candles));
}
