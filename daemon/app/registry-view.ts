/**
 * The registry as clients see it: compact dataset summaries served from memory, and the changes
 * between two moments, which become `registry/changed` notifications.
 *
 * The summaries are computed once per registry state and cached; a write bumps the version. While
 * a job that writes is running, the cache is bypassed, so a list never shows a state older than
 * the last completed write.
 *
 * Every listing first looks at the files it lists (one `stat` each, `seeFiles`): a file whose
 * size or modification time differs from the registry's, or that is gone, makes its dataset's
 * integrity "changed" or "missing" in that very answer, whatever its last verify said. A change
 * seen bumps the version, so the cached summaries never outlive what is on disk.
 */
import type { DatasetSummary } from '../../schemas/protocol.ts';
import { type DatasetEntry, type FileSeen, datasetIntegrity } from '../../schemas/registry.ts';
import path from 'node:path';
import type { Bank } from '../store/bank.ts';
import type { Layout } from '../store/layout.ts';
import { seeFiles } from '../store/observe.ts';

/** The absolute location of a dataset: its 1m folder, its derived file or its indicator file. */
export function datasetLocation(layout: Layout, e: DatasetEntry): string | undefined {
  try {
    if (e.kind === 'indicator') return layout.indicator(e.symbol, e.interval, e.id.split('/')[2]);
    if (e.interval === '1m') return path.join(layout.symbolDir(e.symbol), '1m');
    return layout.derived(e.symbol, e.interval);
  } catch {
    return undefined;
  }
}

/**
 * A dataset as clients see it. With `seen` (a listing's stat of each file), its integrity is what
 * is on disk now, not only what the last verify found.
 */
export function summarize(
  e: DatasetEntry,
  layout?: Layout,
  seen?: ReadonlyMap<string, FileSeen>,
): DatasetSummary {
  const where = layout ? datasetLocation(layout, e) : undefined;
  let gaps = 0;
  let missing = 0;
  for (const g of e.gaps) {
    if (g.filled) continue;
    gaps++;
    missing += g.missing;
  }
  let bytes = 0;
  for (const f of e.files) bytes += f.bytes;
  return {
    id: e.id,
    symbol: e.symbol,
    market: e.market ?? 'spot',
    klineKind: e.klineKind ?? 'klines',
    interval: e.interval,
    kind: e.kind,
    rows: e.rows,
    first: e.first,
    last: e.last,
    gaps,
    missing,
    filled: e.filledCount,
    files: e.files.length,
    bytes,
    updated: e.updated,
    derived: e.kind === 'candles' && e.interval !== '1m',
    ...(e.indicator ? { indicator: e.indicator } : {}),
    pending: e.pending?.length ?? 0,
    integrity: datasetIntegrity(e.files, seen),
    ...(where ? { path: where } : {}),
  };
}

function fingerprint(e: DatasetEntry): string {
  const last = e.files.length ? e.files[e.files.length - 1].sha256 : '';
  const checked = e.files.map((f) => `${f.verify?.at ?? ''}${f.verify?.status ?? ''}`).join(',');
  return `${e.updated}|${e.rows}|${e.files.length}|${e.first}|${e.last}|${last}|${checked}|${e.pending?.length ?? 0}`;
}

type ListFilter = { symbol?: string; interval?: string; kind?: string };

function sameSeen(a: FileSeen | undefined, b: FileSeen | undefined): boolean {
  if (a === b) return true;
  if (!a || !b) return false;
  return a.bytes === b.bytes && a.mtime === b.mtime;
}

export interface RegistryDiff {
  changed: string[];
  removed: string[];
}

export class RegistryView {
  private json: { version: number; text: string } | null = null;
  private cache: {
    version: number;
    all: DatasetSummary[];
    bySymbol: Map<string, DatasetSummary[]>;
  } | null = null;
  private version = 0;
  private baseline: Map<string, string>;
  /** Jobs that write are running: do not trust the cache. */
  private writers = 0;
  /** What the last listings saw of each registered file on disk, by registry path. */
  private readonly seen = new Map<string, FileSeen>();

  constructor(private readonly bank: Bank) {
    this.baseline = this.snapshot();
  }

  /** Marks the start of a job that writes; call the returned function when it is over. */
  beginWrite(): () => void {
    this.writers++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.writers--;
      this.version++;
    };
  }

  /** The datasets matching `filter`, their files looked at first (see the module's comment). */
  async list(filter?: ListFilter): Promise<DatasetSummary[]> {
    await this.look(filter);
    return this.listSeen(filter);
  }

  /** The unfiltered `registry/list` result as JSON, cached per registry state and disk state. */
  async listJson(): Promise<string> {
    await this.look();
    if (this.json && this.json.version === this.version && this.writers === 0)
      return this.json.text;
    const text = JSON.stringify({ datasets: this.listSeen() });
    this.json = { version: this.version, text };
    return text;
  }

  private listSeen(filter?: ListFilter): DatasetSummary[] {
    const { all, bySymbol } = this.summaries();
    let out = filter?.symbol ? (bySymbol.get(filter.symbol) ?? []) : all;
    if (filter?.interval) out = out.filter((d) => d.interval === filter.interval);
    if (filter?.kind) out = out.filter((d) => d.kind === filter.kind);
    return out;
  }

  /**
   * Stats the files of the datasets `filter` selects and keeps what it saw; a difference from the
   * last look (a file changed, removed or rewritten) bumps the version.
   */
  private async look(filter?: ListFilter): Promise<void> {
    const entries = this.entries(filter);
    const now = await seeFiles(this.bank.layout, entries);
    let changed = false;
    for (const e of entries)
      for (const f of e.files) {
        const a = now.get(f.path);
        if (sameSeen(a, this.seen.get(f.path))) continue;
        changed = true;
        if (a === undefined) this.seen.delete(f.path);
        else this.seen.set(f.path, a);
      }
    // A full look forgets the files no longer registered, so the map stays the registry's size.
    if (!filter) for (const p of this.seen.keys()) if (!now.has(p)) this.seen.delete(p);
    if (changed) this.version++;
  }

  /**
   * The registry entries `filter` selects. A symbol's come from the cached summaries' index when
   * it is current (what the extension asks after `registry/changed`: no pass over every dataset).
   */
  private entries(filter?: ListFilter): DatasetEntry[] {
    const datasets = this.bank.registry().datasets;
    const keep = (e: DatasetEntry | undefined): e is DatasetEntry =>
      e !== undefined &&
      (!filter?.symbol || e.symbol === filter.symbol) &&
      (!filter?.interval || e.interval === filter.interval) &&
      (!filter?.kind || e.kind === filter.kind);
    if (filter?.symbol && this.cache?.version === this.version && this.writers === 0)
      return (this.cache.bySymbol.get(filter.symbol) ?? []).map((d) => datasets[d.id]).filter(keep);
    const out: DatasetEntry[] = [];
    for (const id in datasets) if (keep(datasets[id])) out.push(datasets[id]);
    return out;
  }

  /** Datasets written or removed since the last call; the caller broadcasts them. */
  diff(): RegistryDiff {
    const now = this.snapshot();
    const changed: string[] = [];
    const removed: string[] = [];
    for (const [id, fp] of now) if (this.baseline.get(id) !== fp) changed.push(id);
    for (const id of this.baseline.keys()) if (!now.has(id)) removed.push(id);
    this.baseline = now;
    if (changed.length || removed.length) this.version++;
    return { changed: changed.sort(), removed: removed.sort() };
  }

  private summaries(): { all: DatasetSummary[]; bySymbol: Map<string, DatasetSummary[]> } {
    if (this.cache && this.cache.version === this.version && this.writers === 0) return this.cache;
    const all = this.bank.list().map((e) => summarize(e, this.bank.layout, this.seen));
    const bySymbol = new Map<string, DatasetSummary[]>();
    for (const d of all) {
      let list = bySymbol.get(d.symbol);
      if (!list) bySymbol.set(d.symbol, (list = []));
      list.push(d);
    }
    this.cache = { version: this.version, all, bySymbol };
    return this.cache;
  }

  private snapshot(): Map<string, string> {
    const out = new Map<string, string>();
    for (const [id, e] of Object.entries(this.bank.registry().datasets))
      out.set(id, fingerprint(e));
    return out;
  }
}
