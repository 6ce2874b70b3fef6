import path from 'node:path';
import { monthKey, parseBankKey } from '../../schemas/common.ts';
import { type Interval, IntervalSchema } from '../../schemas/intervals.ts';
import { type Series, parseSeriesKey } from '../../schemas/markets.ts';

/**
 * The on-disk layout of a bank (layout version 2):
 *
 * ```
 * <data>/registry.json                               the registry (atomic JSON)
 * <data>/processed/<SERIES>/1m/<YYYY-MM>.parquet    1m truth, one file per UTC month
 * <data>/processed/<SERIES>/<interval>.parquet      derived timeframes
 * <data>/indicators_cache/<SERIES>/<interval>/<name>-<params>.parquet
 * <data>/raw/                                       archive files kept as downloaded
 * <data>/logs/                                      rotating logs
 * ```
 *
 * `<SERIES>` is the symbol for spot trade klines (`BTCUSDT`, as in layout version 1, so a spot
 * bank keeps every path) and `futures-<um|cm>/<klines|mark|index|premium>/<SYMBOL>` for futures
 * (`futures-um/mark/BTCUSDT`): a `-` never occurs in a symbol, so no spot folder can meet a
 * futures one, even on a case-insensitive file system.
 *
 * Every path is built from a validated series key (`seriesKey`), a known interval and numbers:
 * never from unchecked text.
 */
export class Layout {
  readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  get registry(): string {
    return path.join(this.root, 'registry.json');
  }
  get processed(): string {
    return path.join(this.root, 'processed');
  }
  get raw(): string {
    return path.join(this.root, 'raw');
  }
  get logs(): string {
    return path.join(this.root, 'logs');
  }
  get indicators(): string {
    return path.join(this.root, 'indicators_cache');
  }
  get lockFile(): string {
    return path.join(this.root, '.threadx.lock');
  }

  /** The folder of a series' candles; `key` is its bank key (`seriesKey`), e.g. BTCUSDT@um. */
  symbolDir(key: string): string {
    return path.join(this.processed, ...seriesDirs(seriesOf(parseBankKey(key))));
  }

  /** Path of the 1m partition holding `month` (ms of any time in that UTC month). */
  partition(symbol: string, monthKey: string): string {
    if (!/^\d{4}-\d{2}$/.test(monthKey))
      throw new Error(`invalid month key ${JSON.stringify(monthKey)}`);
    return path.join(this.symbolDir(symbol), '1m', `${monthKey}.parquet`);
  }

  derived(symbol: string, interval: Interval): string {
    const iv = IntervalSchema.parse(interval);
    if (iv === '1m') throw new Error('1m data is partitioned by month; use partition()');
    return path.join(this.symbolDir(symbol), `${iv}.parquet`);
  }

  indicator(symbol: string, interval: Interval, key: string): string {
    if (!/^[a-z]+(-[0-9.]+)*$/.test(key))
      throw new Error(`invalid indicator key ${JSON.stringify(key)}`);
    return path.join(
      this.indicators,
      ...seriesDirs(seriesOf(parseBankKey(symbol))),
      IntervalSchema.parse(interval),
      `${key}.parquet`,
    );
  }

  /** Path relative to the root with forward slashes, as stored in the registry. */
  rel(abs: string): string {
    return path.relative(this.root, abs).split(path.sep).join('/');
  }

  /** Resolves a registry path, refusing anything that would leave the data directory. */
  abs(rel: string): string {
    const p = path.resolve(this.root, rel);
    if (p !== this.root && !p.startsWith(this.root + path.sep)) {
      throw new Error(`path ${JSON.stringify(rel)} leaves the data directory`);
    }
    return p;
  }
}

export { monthKey };

/** The folders of a series under `processed/` and `indicators_cache/`. */
function seriesDirs(s: Series): string[] {
  if (s.market === 'spot' && s.kind === 'klines') return [s.symbol];
  return [`futures-${s.market}`, s.kind, s.symbol];
}

function seriesOf(key: string): Series {
  const s = parseSeriesKey(key);
  if (!s) throw new Error(`invalid series key ${JSON.stringify(key)}`);
  return s;
}

export { parseBankKey };

export function nextMonthStart(key: string): number {
  return Date.UTC(Number(key.slice(0, 4)), Number(key.slice(5, 7)), 1);
}
