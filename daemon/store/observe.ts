/**
 * What a listing sees of the bank's files right now: one `stat` per registered file, so every
 * view can say "changed" the moment a file's size or modification time differs from the
 * registry's, without reading the file (the checksum stays `verify`'s job).
 */
import { promises as fsp, statSync } from 'node:fs';
import type { DatasetEntry, FileSeen } from '../../schemas/registry.ts';
import type { Layout } from './layout.ts';

/**
 * Files stat'ed between two turns of the event loop. A synchronous `stat` costs a few
 * microseconds; the promise API costs ten times that in a busy process (the thread pool, a
 * promise and, for a missing file, an Error with its stack). So a listing stats in batches and
 * yields between them: a daemon listing 200,000 files stays responsive, and finishes sooner.
 */
export const STAT_BATCH = 512;

/**
 * A file's size and modification time as the registry records them (`mtime` in ms); null when
 * it is gone; undefined when it cannot be looked at (permissions): the registry's record stands.
 */
export function seeFileSync(abs: string): FileSeen | undefined {
  try {
    const st = statSync(abs, { throwIfNoEntry: false });
    return st ? { bytes: st.size, mtime: st.mtimeMs } : null;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOTDIR' ? null : undefined;
  }
}

/** `seeFileSync` for one file on the way to reading or writing it. */
export async function seeFile(abs: string): Promise<FileSeen | undefined> {
  try {
    const st = await fsp.stat(abs);
    return { bytes: st.size, mtime: st.mtimeMs };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR' ? null : undefined;
  }
}

/**
 * Stats every file of `datasets`, `batch` at a time with a turn of the event loop between. A
 * path the layout refuses (a tampered entry pointing outside the bank) is not followed and gets
 * no observation: `verify` reports it.
 */
export async function seeFiles(
  layout: Layout,
  datasets: readonly DatasetEntry[],
  batch = STAT_BATCH,
): Promise<Map<string, FileSeen>> {
  const out = new Map<string, FileSeen>();
  let n = 0;
  for (const d of datasets)
    for (const f of d.files) {
      if (++n % batch === 0) await new Promise((resolve) => setImmediate(resolve));
      let abs: string;
      try {
        abs = layout.abs(f.path);
      } catch {
        continue;
      }
      const seen = seeFileSync(abs);
      if (seen !== undefined) out.set(f.path, seen);
    }
  return out;
}
