import { promises as fsp, constants } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * Writes a file so that readers see either the old content or the new, never a mix: the bytes
 * go to a temporary file in the same folder, are flushed to disk, then renamed over the target,
 * and the folder is flushed so the rename itself survives a crash.
 */
export async function writeFileAtomic(
  target: string,
  data: Uint8Array | string | readonly string[],
): Promise<{ dev: number; ino: number; size: number; mtimeMs: number }> {
  const dir = path.dirname(target);
  await fsp.mkdir(dir, { recursive: true });
  const tmp = path.join(
    dir,
    `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
  );
  const fh = await fsp.open(tmp, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o644);
  // The written file's identity, taken before the rename (which keeps it): the caller can tell
  // later whether the target is still this file.
  let st: { dev: number; ino: number; size: number; mtimeMs: number };
  try {
    // Pieces are written one by one: a large text is never one buffer as well as one string.
    if (Array.isArray(data)) for (const piece of data as readonly string[]) await fh.write(piece);
    else await fh.writeFile(data as Uint8Array | string);
    await fh.sync();
    st = await fh.stat();
  } catch (e) {
    await fh.close();
    await fsp.rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  try {
    await fsp.rename(tmp, target);
  } catch (e) {
    await fsp.rm(tmp, { force: true });
    throw e;
  }
  await syncDir(dir);
  return st;
}

async function syncDir(dir: string): Promise<void> {
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(dir, 'r');
    await fh.sync();
  } catch {
    // Some file systems do not support fsync on a directory; the rename is still atomic.
  } finally {
    await fh?.close();
  }
}

/**
 * Removes temporary files left by writers that were killed mid-write, and counts them; with
 * `remove` false it only counts (a reader asking whether there is anything to recover).
 */
export async function removeStaleTemps(dir: string, remove = true): Promise<number> {
  let removed = 0;
  let entries: import('node:fs').Dirent[];
  try {
    entries = await fsp.readdir(dir, { withFileTypes: true, recursive: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    if (e.isFile() && e.name.startsWith('.') && e.name.endsWith('.tmp')) {
      if (remove) await fsp.rm(path.join(e.parentPath, e.name), { force: true });
      removed++;
    }
  }
  return removed;
}
