/**
 * The registry table's model: filter and sort of dataset rows. No DOM, so it is tested under
 * plain Node with the extension's other view logic.
 */
import { type IntegrityState, integrityText } from '../schemas/integrity.ts';
import type { DatasetSummary } from '../schemas/protocol.ts';

export type SortKey = keyof DatasetSummary;

/** Whether a dataset's files are damaged, changed or missing: Repair is its way out. */
export function needsRepair(i: IntegrityState | undefined): boolean {
  return i !== undefined && i.state !== 'verified' && i.state !== 'not-verified';
}

export function filterDatasets(rows: DatasetSummary[], filter: string): DatasetSummary[] {
  const terms = filter.trim().toLowerCase().split(/\s+/).filter(Boolean);
  if (terms.length === 0) return rows;
  return rows.filter((r) => {
    const hay = `${r.id} ${r.kind}`.toLowerCase();
    return terms.every((t) => hay.includes(t));
  });
}

export function sortDatasets(
  rows: DatasetSummary[],
  key: SortKey,
  descending: boolean,
): DatasetSummary[] {
  const dir = descending ? -1 : 1;
  return [...rows].sort((a, b) => {
    const x = a[key];
    const y = b[key];
    let c: number;
    if (typeof x === 'number' && typeof y === 'number') c = x - y;
    else if (x == null && y == null) c = 0;
    else if (x == null) c = -1;
    else if (y == null) c = 1;
    else c = String(x).localeCompare(String(y));
    return c === 0 ? a.id.localeCompare(b.id) : c * dir;
  });
}

const csvCell = (v: unknown): string => {
  const t = v == null ? '' : String(v);
  return /[",\n]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
};
const iso = (t: number | null): string => (t == null ? '' : new Date(t).toISOString());

/**
 * The registry table as CSV: one line per candle dataset shown, with its indicator caches
 * (their keys) in the last column. Times in ISO 8601 UTC.
 */
export function registryCsv(rows: DatasetSummary[], all: DatasetSummary[]): string {
  const header = [
    'dataset',
    'symbol',
    'interval',
    'rows',
    'first_utc',
    'last_utc',
    'gaps',
    'missing',
    'filled',
    'files',
    'bytes',
    'integrity',
    'pending_buckets',
    'indicators',
  ];
  // Indicator keys by `symbol/interval`, in one pass (a filter per row would be quadratic).
  const keys = new Map<string, string[]>();
  for (const i of all) {
    if (i.kind !== 'indicator') continue;
    const k = `${i.symbol}/${i.interval}`;
    let list = keys.get(k);
    if (!list) keys.set(k, (list = []));
    list.push(i.id.split('/').slice(2).join('/'));
  }
  const lines = rows.map((d) => {
    const inds = (keys.get(`${d.symbol}/${d.interval}`) ?? []).join(' ');
    return [
      d.id,
      d.symbol,
      d.interval,
      d.rows,
      iso(d.first),
      iso(d.last),
      d.gaps,
      d.missing,
      d.filled,
      d.files,
      d.bytes,
      d.integrity ? integrityText(d.integrity, iso) : '',
      d.pending ?? 0,
      inds,
    ]
      .map(csvCell)
      .join(',');
  });
  lines.unshift(header.join(','));
  return lines.join('\n') + '\n';
}
