import path from 'node:path';
import { monthKey, parseSymbol } from '../../schemas/common.ts';
import { type Interval, IntervalSchema } from '../../schemas/intervals.ts';

/**
 * The on-disk layout of a bank (layout version 1):
 *
 * ```
 * <data>/registry.json                               the registry (atomic JSON)
 * <data>/processed/<SYMBOL>/1m/<YYYY-MM>.parquet    1m truth, one file per UTC month
 * <data>/processed/<SYMBOL>/<interval>.parquet      derived timeframes
 * <data>/indicators_cache/<SYMBOL>/<interval>/<name>-<params>.parquet
 * <data>/raw/                                       archive files kept as downloaded
 * <data>/logs/                                      rotating logs
 * ```
 *
 * Every path is built from a validated symbol, a known interval and numbers: never from
 * unchecked text.
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

  symbolDir(symbol: string): string {
    return path.join(this.processed, parseSymbol(symbol));
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
      parseSymbol(symbol),
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

export function nextMonthStart(key: string): number {
  return Date.UTC(Number(key.slice(0, 4)), Number(key.slice(5, 7)), 1);
}
