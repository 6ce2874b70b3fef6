/**
 * Every message between the extension and its webviews (the data manager and the candlestick
 * preview), declared once as two discriminated unions and imported by both sides, so a renamed
 * field breaks the build instead of a panel.
 *
 * Type-only imports: this file adds nothing to the webview bundles.
 */
import type { Interval } from '../schemas/intervals.ts';
import type { DatasetSummary, LogLevel, Result } from '../schemas/protocol.ts';

export type Mode = 'single' | 'list' | 'top' | 'group';
export type Source = 'auto' | 'rest' | 'archive';

/** The data manager's download form as the person filled it in. */
export interface IngestForm {
  mode: Mode;
  symbols: string;
  topN: number;
  quote: string;
  group: string;
  intervals: Interval[];
  start: string;
  end: string;
  source: Source;
}

export type FormErrors = Partial<Record<keyof IngestForm, string>>;

export type { IndicatorName } from '../schemas/contracts.ts';
import type { IndicatorName } from '../schemas/contracts.ts';

/** An indicator with its parameters, as chosen in a view. */
export interface IndicatorChoice {
  name: IndicatorName;
  params: Record<string, number>;
}

export type GroupInfo = Result<'symbols/groups'>['groups'][number];
export type SymbolMatch = Result<'symbols/search'>['matches'][number];
export type PlanItem = Result<'ingest/plan'>['items'][number];

export type SkippedSymbol = Result<'ingest/plan'>['skipped'][number];

export interface PlanView {
  items: PlanItem[];
  /** Symbols the run would not download, with the reason (not listed, not trading). */
  skipped: SkippedSymbol[];
  totals: Result<'ingest/plan'>['totals'];
  /** Binance REQUEST_WEIGHT the plan costs (klines weight 2 per request). */
  weight: number;
  /** Seconds at the configured concurrency and the exchange's weight budget. */
  seconds: number;
}

export type SymbolJobState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

/** The state a data manager panel keeps across reloads (getState/setState). */
export interface ManagerState {
  form: IngestForm;
  filter: string;
  sort: { key: keyof DatasetSummary; descending: boolean };
  indicators: IndicatorChoice[];
}

/** The state a chart panel keeps across reloads; also how it is opened. */
export interface ChartState {
  symbol: string;
  interval: Interval;
  /** The visible window [start, end) in ms; none opens on the latest candles. */
  range?: [number, number];
  overlays: IndicatorChoice[];
  panels: IndicatorChoice[];
}

/** Candles and indicator columns for one chart view. */
export interface ChartData {
  seq: number;
  symbol: string;
  interval: Interval;
  requestedInterval: Interval;
  resampled: boolean;
  truncated: boolean;
  openTime: number[];
  open: number[];
  high: number[];
  low: number[];
  close: number[];
  volume: number[];
  filled: number[];
  indicators: { key: string; name: string; outputs: Record<string, (number | null)[]> }[];
  /** Why the indicators are missing, in words, when they are. */
  indicatorError?: string;
  /** The data's extent [first open time, end), for bounded zoom and "reset". */
  extent: [number, number] | null;
  /** The range [start, end) these candles were read for. */
  range?: [number, number];
  /** Ranges the exchange confirmed it has no candle for (outages), as [start, end). */
  outages?: [number, number][];
  /** The integrity of the files behind these candles, in words ("verified <time>", ...). */
  integrity?: string;
}

/** Extension → webview. */
export type HostMessage =
  | { type: 'init'; view: 'manager'; state: ManagerState; intervals: Interval[] }
  | { type: 'init'; view: 'chart'; state: ChartState; intervals: Interval[] }
  | { type: 'registry'; datasets: DatasetSummary[] }
  | { type: 'groups'; groups: GroupInfo[] }
  | { type: 'symbols'; query: string; matches: SymbolMatch[] }
  | { type: 'plan'; plan: PlanView }
  | { type: 'formErrors'; errors: FormErrors }
  | { type: 'jobStarted'; job: 'download' | 'indicators'; symbols: string[] }
  | {
      type: 'symbolProgress';
      symbol: string;
      state: SymbolJobState;
      percentage: number;
      message?: string;
    }
  | { type: 'overallProgress'; percentage: number; message: string }
  | { type: 'log'; level: LogLevel; time: number; message: string }
  | { type: 'jobDone'; job: 'download' | 'indicators'; ok: boolean; summary: string }
  | { type: 'error'; message: string }
  | { type: 'candles'; data: ChartData }
  | {
      type: 'chartError';
      seq: number;
      message: string;
      /** A symbol whose Repair fixes the read (a damaged file), to offer it in the chart. */
      repair?: string;
    }
  /** Read the current window again (after a repair, or when the bank changed under a failed read). */
  | { type: 'reload' }
  /** A file the view asked for was saved at `path`; `message` says so in words. */
  | { type: 'saved'; path: string; message?: string };

export type DatasetAction =
  'preview' | 'update' | 'verify' | 'export' | 'exportExcel' | 'delete' | 'repair';

/** Webview → extension. */
export type ViewMessage =
  | { type: 'ready' }
  | { type: 'plan'; form: IngestForm }
  | { type: 'download'; form: IngestForm }
  | { type: 'cancel' }
  | { type: 'searchSymbols'; query: string }
  | {
      type: 'updateIndicators';
      symbols: string[];
      intervals: Interval[];
      indicators: IndicatorChoice[];
      /** The ticked dataset ids (`SYMBOL/interval`): exactly these are computed. */
      datasets?: string[];
    }
  | { type: 'datasetAction'; action: DatasetAction; id: string }
  | { type: 'refresh' }
  /** The panel's state after a change, kept for the next panel opened in this workspace. */
  | { type: 'remember'; state: ManagerState }
  /** Opens a file the panel wrote (the saved registry table). */
  | { type: 'openFile'; path: string; reveal?: boolean }
  /** The registry table (all or filtered rows) as CSV, to save. */
  | { type: 'saveTable'; name: string; csv: string; rows: number }
  | {
      type: 'read';
      seq: number;
      symbol: string;
      interval: Interval;
      range?: [number, number];
      maxPoints: number;
      /** Serve exactly `interval` (the chart chose it); without a range, the latest candles. */
      exact?: boolean;
      indicators: IndicatorChoice[];
    }
  | { type: 'saveImage'; format: 'png' | 'svg'; data: string; name: string }
  /** The chart's Repair button after a read refused for a damaged file. */
  | { type: 'repair'; symbol: string }
  /** The chart's state after a change (timeframe, window, indicators), for the tab title. */
  | { type: 'chartState'; state: ChartState };

/** The indicators offered in the views, with the parameters the product documents. */
export const INDICATOR_PRESETS: { label: string; choice: IndicatorChoice; panel: boolean }[] = [
  { label: 'SMA 20', choice: { name: 'sma', params: { period: 20 } }, panel: false },
  { label: 'SMA 50', choice: { name: 'sma', params: { period: 50 } }, panel: false },
  { label: 'EMA 20', choice: { name: 'ema', params: { period: 20 } }, panel: false },
  {
    label: 'Bollinger 20, 2',
    choice: { name: 'bbands', params: { period: 20, k: 2 } },
    panel: false,
  },
  { label: 'RSI 14', choice: { name: 'rsi', params: { period: 14 } }, panel: true },
  {
    label: 'MACD 12, 26, 9',
    choice: { name: 'macd', params: { fast: 12, slow: 26, signal: 9 } },
    panel: true,
  },
  { label: 'ATR 14', choice: { name: 'atr', params: { period: 14 } }, panel: true },
];

export function choiceLabel(c: IndicatorChoice): string {
  const p = Object.values(c.params);
  return `${c.name.toUpperCase()}${p.length ? ` ${p.join(', ')}` : ''}`;
}

export function sameChoice(a: IndicatorChoice, b: IndicatorChoice): boolean {
  return a.name === b.name && JSON.stringify(a.params) === JSON.stringify(b.params);
}

export function isViewMessage(m: unknown): m is ViewMessage {
  return typeof m === 'object' && m !== null && typeof (m as { type?: unknown }).type === 'string';
}
