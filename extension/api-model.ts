/**
 * The typed, versioned API ThreadX Data gives other extensions (`activate()`'s return value),
 * and the parts of it that need no `vscode`: the selection as kept in workspace state, read back
 * defensively (a value written by another version, or by hand, is dropped rather than trusted).
 */
import { IntervalSchema, type Interval } from '../schemas/intervals.ts';
import type { CandleColumns, DatasetSummary } from '../schemas/protocol.ts';

/** Bumped on a change that breaks a consumer; additions keep the version. */
export const API_VERSION = 1 as const;

/** The workspace-state key of the selected dataset. */
export const SELECTION_KEY = 'threadx.selection';

/** A dataset of the bank: a symbol's candles at one interval. */
export interface DatasetRef {
  symbol: string;
  interval: Interval;
}

/** A half-open range `[start, end)`: ms since the epoch or UTC ISO-8601 text. */
export interface ReadRange {
  start?: number | string;
  end?: number | string;
  /** Most candles to return (the last ones when the range holds more; `truncated` says so). */
  maxPoints?: number;
}

export interface CandleRead extends DatasetRef {
  length: number;
  /** True when the range held more than `maxPoints` candles and only the last were returned. */
  truncated: boolean;
  columns: CandleColumns;
}

export interface IndicatorRead extends DatasetRef {
  openTime: number[];
  /** Output columns by `key.output` (e.g. `macd-12-26-9.signal`), null before the lookback. */
  columns: Record<string, (number | null)[]>;
}

export interface IndicatorAsk {
  name: 'rsi' | 'macd' | 'bbands' | 'sma' | 'ema' | 'atr';
  params?: Record<string, number>;
}

/** What changed in the bank: dataset ids (`SYMBOL/interval[/indicator]`) written or removed. */
export interface BankChange {
  changed: string[];
  removed: string[];
}

/** An event as VS Code's `Event<T>` (declared here so this module needs no `vscode`). */
export type ApiEvent<T> = (listener: (e: T) => unknown) => { dispose(): unknown };

export interface ThreadxDataApi {
  readonly version: typeof API_VERSION;
  /** The dataset the user last previewed or selected in the registry tree; kept per workspace. */
  readonly selection: DatasetRef | undefined;
  readonly onDidChangeSelection: ApiEvent<DatasetRef | undefined>;
  /** Sets the selection (as the user's own choice would). */
  select(dataset: DatasetRef | undefined): Promise<void>;
  listDatasets(): Promise<DatasetSummary[]>;
  /** Candles as columns, exactly the interval asked for (derived ones equal Binance's). */
  readCandles(dataset: DatasetRef, range?: ReadRange): Promise<CandleRead>;
  /** Indicator values (identical to TA-Lib) aligned on the candles' open times. */
  readIndicators(
    dataset: DatasetRef,
    indicators: readonly IndicatorAsk[],
    range?: ReadRange,
  ): Promise<IndicatorRead>;
  /** Fires after the bank changed (a download, a derive, a delete, a repair ...). */
  readonly onDidChangeBank: ApiEvent<BankChange>;
}

/** A stored selection, or undefined when it is not one. */
export function parseSelection(value: unknown): DatasetRef | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { symbol, interval } = value as Record<string, unknown>;
  if (typeof symbol !== 'string' || !/^[A-Z0-9]{2,20}$/.test(symbol)) return undefined;
  const iv = IntervalSchema.safeParse(interval);
  return iv.success ? { symbol, interval: iv.data } : undefined;
}

export function sameDataset(a: DatasetRef | undefined, b: DatasetRef | undefined): boolean {
  return a?.symbol === b?.symbol && a?.interval === b?.interval;
}

/** Indicator outputs as `key.output` columns. */
export function indicatorColumns(
  indicators: readonly { key: string; outputs: Record<string, (number | null)[]> }[],
): Record<string, (number | null)[]> {
  const out: Record<string, (number | null)[]> = {};
  for (const ind of indicators)
    for (const [name, values] of Object.entries(ind.outputs)) out[`${ind.key}.${name}`] = values;
  return out;
}
