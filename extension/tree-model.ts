/**
 * The registry tree's model: datasets grouped by symbol, then timeframe, then detail rows. Built
 * from `registry/list` answers; no `vscode`, so its shape is tested under plain Node.
 */
import { INTERVALS } from '../schemas/intervals.ts';
import type { DatasetSummary } from '../schemas/protocol.ts';
import { type Integrity, type VerifyIssue, integrityText } from '../schemas/registry.ts';
import { bytes, plural, utcMinute } from './format.ts';
import { KIND_NAMES, MARKETS, MARKET_NAMES, parseSeriesKey } from '../schemas/markets.ts';

export type ChecksumState = 'unverified' | 'ok' | 'problem';

export interface DetailRow {
  label: string;
  description: string;
  icon: string;
}

export interface TimeframeNode {
  kind: 'timeframe';
  id: string;
  symbol: string;
  interval: DatasetSummary['interval'];
  dataset: DatasetSummary;
  indicators: DatasetSummary[];
  checksum: ChecksumState;
  problem?: string;
  /** The daemon's persisted integrity record, as a phrase ("verified ...", "corrupt: ..."). */
  integrity: string;
}

export interface SymbolNode {
  kind: 'symbol';
  symbol: string;
  timeframes: TimeframeNode[];
  rows: number;
  checksum: ChecksumState;
}

/** Verify results by dataset id (the last `registry/verify` the extension ran). */
export type VerifyState = Map<string, { status: VerifyIssue['status']; detail?: string }>;

export function verifyStateFrom(checked: boolean, issues: VerifyIssue[]): VerifyState {
  const m: VerifyState = new Map();
  if (!checked) return m;
  for (const i of issues) {
    if (i.dataset && i.status !== 'ok' && !m.has(i.dataset)) {
      m.set(i.dataset, { status: i.status, detail: i.detail ?? i.path });
    }
  }
  return m;
}

const order = (i: string): number => (INTERVALS as readonly string[]).indexOf(i);

export function buildTree(
  datasets: DatasetSummary[],
  verify: VerifyState | undefined,
): SymbolNode[] {
  const bySymbol = new Map<string, SymbolNode>();
  const candles = datasets.filter((d) => d.kind === 'candles');
  // Indicators by `symbol/interval`, in one pass: filtering the whole list per timeframe would be
  // quadratic (200,000 datasets: 4·10¹⁰ comparisons).
  const indicatorsOf = new Map<string, DatasetSummary[]>();
  for (const d of datasets) {
    if (d.kind !== 'indicator') continue;
    const key = `${d.symbol}/${d.interval}`;
    let list = indicatorsOf.get(key);
    if (!list) indicatorsOf.set(key, (list = []));
    list.push(d);
  }
  for (const d of candles) {
    let node = bySymbol.get(d.symbol);
    if (!node) {
      node = { kind: 'symbol', symbol: d.symbol, timeframes: [], rows: 0, checksum: 'unverified' };
      bySymbol.set(d.symbol, node);
    }
    // The daemon's record wins: it is persisted and survives reloads and restarts. The
    // extension's own last verify is only a fallback for a daemon that sends none.
    const problem = d.integrity ? undefined : verify?.get(d.id);
    const checksum: ChecksumState = d.integrity
      ? integrityChecksum(d.integrity)
      : verify === undefined
        ? 'unverified'
        : problem
          ? 'problem'
          : 'ok';
    node.timeframes.push({
      kind: 'timeframe',
      id: d.id,
      symbol: d.symbol,
      interval: d.interval,
      dataset: d,
      indicators: indicatorsOf.get(`${d.symbol}/${d.interval}`) ?? [],
      checksum,
      problem: d.integrity
        ? checksum === 'problem'
          ? integrityText(d.integrity, utcTime)
          : undefined
        : problem
          ? `${problem.status}: ${problem.detail ?? ''}`.trim()
          : undefined,
      integrity: d.integrity
        ? integrityText(d.integrity, utcTime)
        : checksum === 'ok'
          ? 'verified'
          : checksum === 'problem'
            ? problem
              ? `${problem.status}: ${problem.detail ?? ''}`.trim()
              : 'problem'
            : 'not verified',
    });
    node.rows += d.rows;
  }
  const symbols = [...bySymbol.values()].sort(
    (a, b) => marketRank(a.symbol) - marketRank(b.symbol) || a.symbol.localeCompare(b.symbol),
  );
  for (const s of symbols) {
    s.timeframes.sort((a, b) => order(a.interval) - order(b.interval));
    s.checksum = s.timeframes.some((t) => t.checksum === 'problem')
      ? 'problem'
      : s.timeframes.every((t) => t.checksum === 'ok')
        ? 'ok'
        : 'unverified';
  }
  return symbols;
}

export function timeframeDescription(t: TimeframeNode): string {
  const pending = t.dataset.pending ?? 0;
  const rows = `${t.dataset.rows.toLocaleString('en-US')} rows`;
  const extra = [
    pending ? `${plural(pending, 'edge bucket')} pending` : '',
    t.checksum === 'problem' ? t.integrity : '',
  ].filter(Boolean);
  return extra.length ? `${rows}, ${extra.join(', ')}` : rows;
}

function integrityChecksum(i: Integrity): ChecksumState {
  return i.state === 'verified' ? 'ok' : i.state === 'not-verified' ? 'unverified' : 'problem';
}

/** `2024-01-31 12:00 UTC`. */
function utcTime(t: number): string {
  return `${utcMinute(t)} UTC`;
}

export function symbolDescription(s: SymbolNode): string {
  const series = parseSeriesKey(s.symbol);
  const what =
    series && series.market !== 'spot'
      ? ` · ${MARKET_NAMES[series.market]}${series.kind === 'klines' ? '' : `, ${KIND_NAMES[series.kind]}`}`
      : '';
  return `${plural(s.timeframes.length, 'timeframe')}${what}`;
}

/** Spot first, then USD-M, then COIN-M: the tree lists each market's series together. */
function marketRank(key: string): number {
  const m = parseSeriesKey(key)?.market ?? 'spot';
  return MARKETS.indexOf(m);
}

export function detailRows(t: TimeframeNode): DetailRow[] {
  const d = t.dataset;
  const rows: DetailRow[] = [
    { label: 'Rows', description: d.rows.toLocaleString('en-US'), icon: 'list-ordered' },
    { label: 'First', description: `${utcMinute(d.first)} UTC`, icon: 'debug-step-back' },
    { label: 'Last', description: `${utcMinute(d.last)} UTC`, icon: 'debug-step-over' },
    {
      label: 'Gaps',
      description: d.gaps === 0 ? 'none' : `${d.gaps} (${plural(d.missing, 'candle')} missing)`,
      icon: d.gaps === 0 ? 'pass' : 'warning',
    },
    { label: 'Filled', description: plural(d.filled, 'candle'), icon: 'symbol-constant' },
    {
      label: 'Files',
      description: `${d.files} (${bytes(d.bytes)})${d.derived ? ', derived from 1m' : ''}`,
      icon: 'file-binary',
    },
    {
      label: 'Checksum',
      description: t.integrity,
      icon: checksumIcon(t.checksum),
    },
  ];
  if (d.pending) {
    rows.splice(3, 0, {
      label: 'Pending',
      description: `${plural(d.pending, 'edge bucket')} (not a candle until all its minutes are in)`,
      icon: 'watch',
    });
  }
  if (t.indicators.length) {
    rows.push({
      label: 'Indicators',
      description: t.indicators.map((i) => i.id.split('/')[2] ?? i.id).join(', '),
      icon: 'graph-line',
    });
  }
  return rows;
}

export function checksumIcon(c: ChecksumState): string {
  return c === 'ok' ? 'verified' : c === 'problem' ? 'error' : 'database';
}

/**
 * The location of a dataset as the daemon reported it (`registry/list`'s `path`), or undefined
 * when the dataset is not listed. The extension never builds a path into the bank itself.
 */
export function datasetLocation(
  datasets: readonly DatasetSummary[],
  symbol: string,
  interval: string,
): string | undefined {
  return datasets.find(
    (d) => d.kind === 'candles' && d.symbol === symbol && d.interval === interval,
  )?.path;
}

/** The symbols a `registry/changed` touches (dataset ids are `SYMBOL/interval[/...]`). */
export function changedSymbols(changed: readonly string[], removed: readonly string[]): string[] {
  return [...new Set([...changed, ...removed].map((id) => id.split('/')[0]))].sort();
}

/**
 * The dataset list after some symbols were listed again: every dataset of `symbols` is replaced
 * by `fresh` (which holds only those symbols' datasets); the others stay as they were.
 */
export function mergeDatasets(
  current: readonly DatasetSummary[],
  symbols: readonly string[],
  fresh: readonly DatasetSummary[],
): DatasetSummary[] {
  const touched = new Set(symbols);
  return [...current.filter((d) => !touched.has(d.symbol)), ...fresh].sort((a, b) =>
    a.id < b.id ? -1 : a.id > b.id ? 1 : 0,
  );
}
