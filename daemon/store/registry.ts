import { promises as fsp } from 'node:fs';
import {
  type DatasetEntry,
  type FileEntry,
  type Gap,
  type Registry,
  RegistrySchema,
  emptyRegistry,
} from '../../schemas/registry.ts';
import { type Interval, intervalMs } from '../../schemas/intervals.ts';
import { writeFileAtomic } from './atomic.ts';
import { ThreadxError } from '../../schemas/errors.ts';

/** SHA-256, lower-case hex (the one helper, in engine/archive-file.ts). */
export { sha256Hex as sha256 } from '../engine/archive-file.ts';

export class RegistryError extends ThreadxError {
  override readonly name = 'RegistryError';
  constructor(message: string) {
    super('REGISTRY', message);
  }
}

const REGISTRY_FIX =
  'Restore it from a backup; or move it away and run "threadx import" or "threadx ingest" again, which rewrite the data and a new registry ("threadx verify" then lists any file left unregistered).';

export async function loadRegistry(file: string): Promise<Registry> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return emptyRegistry();
    throw e;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
    // Let the text go before the schema copies the registry (200,000 datasets: 150 MB of it).
    text = '';
  } catch (e) {
    throw new ThreadxError(
      'REGISTRY',
      `${file} is not valid JSON (${(e as Error).message}).`,
      REGISTRY_FIX,
      { path: file },
    );
  }
  const parsed = RegistrySchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ThreadxError(
      'REGISTRY',
      `${file} does not match the registry format (${issue ? `${issue.path.join('.') || 'top level'}: ${issue.message}` : 'unknown'}).`,
      REGISTRY_FIX,
      { path: file },
    );
  }
  return parsed.data;
}

/**
 * Writes the registry atomically; returns the written file's identity (see `writeFileAtomic`).
 * The text is made at once (a consistent snapshot) but in pieces, written one by one.
 */
export function saveRegistry(
  file: string,
  reg: Registry,
): Promise<{ dev: number; ino: number; size: number; mtimeMs: number }> {
  return writeFileAtomic(file, registryText(reg));
}

/** Pieces of about this many characters. */
const PIECE = 1 << 20;

/**
 * `JSON.stringify(reg, null, 1)`, the registry's format, as pieces of about 1 MB: each dataset
 * is serialised alone and indented to its depth, so 200,000 datasets never make one string of
 * the whole file (and then one buffer of it) besides the registry itself.
 */
export function registryText(reg: Registry): string[] {
  const pieces: string[] = [];
  // Parts joined into one flat string per piece: `+=` would keep a rope of every small string.
  let parts: string[] = [];
  let size = 0;
  const add = (s: string): void => {
    parts.push(s);
    size += s.length;
    if (size >= PIECE) {
      pieces.push(parts.join(''));
      parts = [];
      size = 0;
    }
  };
  const record = (obj: Record<string, unknown>, last: boolean): void => {
    let first = true;
    for (const k in obj) {
      if (obj[k] === undefined) continue;
      add(`${first ? '' : ','}\n  ${JSON.stringify(k)}: `);
      add(JSON.stringify(obj[k], null, 1).replaceAll('\n', '\n  '));
      first = false;
    }
    add(first ? `{}${last ? '' : ','}` : `\n }${last ? '' : ','}`);
  };
  const top = reg as unknown as Record<string, unknown>;
  const keys = Object.keys(top).filter((k) => top[k] !== undefined);
  add('{');
  keys.forEach((k, i) => {
    const v = top[k];
    const last = i === keys.length - 1;
    add(`\n ${JSON.stringify(k)}: `);
    if ((k === 'datasets' || k === 'confirmedEmpty') && v && typeof v === 'object') {
      if (Object.keys(v).length) add('{');
      record(v as Record<string, unknown>, last);
    } else add(`${JSON.stringify(v, null, 1).replaceAll('\n', '\n ')}${last ? '' : ','}`);
  });
  add(keys.length ? '\n}' : '}');
  if (parts.length) pieces.push(parts.join(''));
  return pieces;
}

export function datasetId(symbol: string, interval: Interval): string {
  return `${symbol}/${interval}`;
}

/** Recomputes a dataset's totals from its files: rows, span, gaps (inside and between files). */
export function summarize(entry: DatasetEntry): DatasetEntry {
  const files = [...entry.files].sort((a, b) => (a.first ?? 0) - (b.first ?? 0));
  const step = entry.interval === '1M' ? 0 : intervalMs(entry.interval);
  const gaps: Gap[] = [];
  let rows = 0;
  let filled = 0;
  let prevLast: number | null = null;
  for (const f of files) {
    rows += f.rows;
    filled += f.filledCount;
    if (step > 0 && prevLast !== null && f.first !== null && f.first - prevLast > step) {
      gaps.push({
        start: prevLast + step,
        end: f.first,
        missing: Math.round((f.first - prevLast) / step) - 1,
        filled: false,
      });
    }
    // Loops, never `push(...x)` or `Math.min(...x)`: an argument list as long as a dataset's
    // gaps or files can overflow the stack.
    for (const g of f.gaps) gaps.push(g);
    if (f.last !== null) prevLast = f.last;
  }
  let first: number | null = null;
  let last: number | null = null;
  for (const f of files) {
    if (f.first !== null && (first === null || f.first < first)) first = f.first;
    if (f.last !== null && (last === null || f.last > last)) last = f.last;
  }
  return {
    ...entry,
    files,
    rows,
    filledCount: filled,
    gaps: gaps.sort((a, b) => a.start - b.start),
    first,
    last,
  };
}

export function upsertFile(entry: DatasetEntry, file: FileEntry): DatasetEntry {
  const files = entry.files.filter((f) => f.path !== file.path);
  if (file.rows > 0) files.push(file);
  return summarize({ ...entry, files });
}
