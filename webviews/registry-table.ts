/**
 * The registry table's model: filter and sort of dataset rows. No DOM, so it is tested under
 * plain Node with the extension's other view logic.
 */
import type { DatasetSummary } from '../schemas/protocol.ts';

export type SortKey = keyof DatasetSummary;

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
