/**
 * Commit and recovery: the bank's one transaction model.
 *
 * A group write (some files of one symbol, then the registry) goes:
 *
 *   1. the journal `.journal-<SYMBOL>.json` is written atomically, naming every file with the
 *      checksum it is about to have;
 *   2. each file is written atomically (temp file, fsync, rename);
 *   3. the registry is saved with the new entries;
 *   4. the journal is removed.
 *
 * Invariant (enforced here, tested by SIGKILL at random points in test/store/crash.test.ts and
 * test/faults/recovery.test.ts): after a crash at any moment each file is old or new, never
 * torn, and `recover` makes the registry agree with whichever it is: a file whose bytes have
 * the journal's checksum is registered, any other keeps its old entry. Recovery runs only under
 * the bank's lock, so it never touches the journal of a writer still writing.
 */
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { ThreadxError } from '../../schemas/errors.ts';
import { type Interval, isInterval } from '../../schemas/intervals.ts';
import type { DatasetEntry, FileEntry, Registry } from '../../schemas/registry.ts';
import type { BankCore } from './core.ts';
import type { Layout } from './layout.ts';
import { writeFileAtomic, removeStaleTemps } from './atomic.ts';
import { READ_ONLY_ERRNO, RECOVERY, acquireBankLock } from './lock.ts';
import { seeFile } from './observe.ts';
import { canonicalPath, fileSha } from './partitions.ts';
import { type IndicatorRecord, newEntry, newIndicatorEntry, upsertFile } from './registry.ts';

/** A file about to replace another, recorded in the journal before any of them is written. */
export interface JournalItem {
  dataset: string;
  file: FileEntry;
  /** For indicator files: what their registry entry says, so `recover` can rebuild it. */
  indicator?: IndicatorRecord;
}

/** A file's new bytes, written during a commit. */
export interface FileWrite {
  abs: string;
  bytes: Uint8Array;
}

/**
 * Writes a group of files under the journal, then the registry: a crash at any point leaves
 * each file old or new, and `recover` makes the registry agree with whichever it is.
 */
export async function commit(
  core: BankCore,
  items: JournalItem[],
  writes: FileWrite[],
  touch: (reg: Registry) => void,
): Promise<void> {
  await core.lock?.assertHeld();
  const journal = journalPath(core.layout, items[0].dataset);
  await writeFileAtomic(journal, JSON.stringify(items));
  for (const w of writes) await writeFileAtomic(w.abs, w.bytes);
  // Each entry keeps its file's modification time, so a listing sees a later change at once.
  await recordMtimes(core.layout, items);
  for (const it of items) {
    const e = core.reg.datasets[it.dataset];
    core.reg.datasets[it.dataset] = upsertFile(e, it.file);
  }
  touch(core.reg);
  await core.store.save();
  await fsp.rm(journal, { force: true });
}

/**
 * At open, for a bank opened without its lock: a reader takes no lock, unless a write was
 * interrupted: then it completes it under the lock when nobody holds it (a holder, here or
 * elsewhere, recovers for itself, and its journal is never touched while it heartbeats). Where
 * the lock cannot be created (a read-only folder), it says so in `recoveryNotes` and reads what
 * is committed.
 */
export async function recoverIfInterrupted(core: BankCore): Promise<void> {
  const { layout } = core;
  const journals = await listJournals(layout);
  const temps =
    (await removeStaleTemps(layout.processed, false)) +
    (await removeStaleTemps(layout.indicators, false)) +
    (await removeRootTemps(layout.root, false));
  if (journals.length === 0 && temps === 0) return;
  let got: Awaited<ReturnType<typeof acquireBankLock>>;
  try {
    got = await acquireBankLock(layout.root, RECOVERY, { watch: false });
  } catch (e) {
    const errno = e instanceof ThreadxError ? e.details.errno : undefined;
    if (typeof errno !== 'string' || !READ_ONLY_ERRNO.has(errno)) throw e;
    if (journals.length === 0) return; // only temp files: nothing is lost by leaving them
    core.recoveryNotes.push(
      `The bank at ${layout.root} holds an interrupted write (${journals.join(', ')}) that cannot be completed here: the folder cannot be written (${errno}). Reading what is committed; run "threadx verify" where the bank is writable to complete it.`,
    );
    return;
  }
  if (got.acquired) {
    try {
      await recover(core);
    } finally {
      await got.lock.release();
    }
  }
}

/**
 * Completes or rolls back a group write interrupted by a crash, then clears temp files. A
 * journal that cannot be replayed (unreadable, not the journal format, naming a file outside
 * its dataset) is moved to `<data>/quarantine/` and named in `recoveryNotes`; the files it
 * names are left as they are (`threadx verify` reports any that disagree with the registry).
 */
export async function recover(
  core: BankCore,
): Promise<{ applied: number; rolledBack: number; quarantined: string[] }> {
  const { layout, reg } = core;
  let applied = 0;
  let rolledBack = 0;
  const quarantined: string[] = [];
  // Never on a journal whose writer may still be writing: only under the lock, still ours.
  await core.lock?.assertHeld();
  for (const name of await listJournals(layout)) {
    const jp = path.join(layout.root, name);
    let items: JournalItem[] | null = null;
    let why = '';
    try {
      items = journalItems(JSON.parse(await fsp.readFile(jp, 'utf8')), layout);
      if (!items) why = 'it is not a list of files of known datasets';
    } catch (e) {
      why = `it is not valid JSON (${(e as Error).message})`;
    }
    if (!items) {
      // Journals are written atomically: one that cannot be read was never completed, and no
      // file it names was touched by that write. Keep it for a person to look at.
      const dest = path.join(layout.root, 'quarantine', `${name.slice(1)}.${core.now()}`);
      await fsp.mkdir(path.dirname(dest), { recursive: true });
      await fsp.rename(jp, dest);
      quarantined.push(dest);
      core.recoveryNotes.push(
        `The journal ${jp} could not be replayed (${why}); it was moved to ${dest}. Run "threadx verify" to check the bank.`,
      );
      continue;
    }
    await recordMtimes(layout, items);
    for (const it of items) {
      const actual = await fileSha(layout.abs(it.file.path));
      if (actual === it.file.sha256 && it.indicator) {
        const entry = reg.datasets[it.dataset] ?? newIndicatorEntry(it.indicator);
        reg.datasets[it.dataset] = {
          ...upsertFile(entry, it.file),
          sourceChecksum: it.indicator.sourceChecksum,
        };
        applied++;
      } else if (actual === it.file.sha256) {
        const [sym, iv] = it.dataset.split('/') as [string, Interval];
        const entry = reg.datasets[it.dataset] ?? newEntry(sym, iv, []);
        reg.datasets[it.dataset] = upsertFile(entry, it.file);
        applied++;
      } else {
        rolledBack++;
      }
    }
    await core.store.save();
    await fsp.rm(jp, { force: true });
  }
  await removeStaleTemps(layout.processed);
  await removeStaleTemps(layout.indicators);
  await removeRootTemps(layout.root);
  return { applied, rolledBack, quarantined };
}

/** The journals of interrupted group writes in the bank's folder. */
async function listJournals(layout: Layout): Promise<string[]> {
  return (await fsp.readdir(layout.root)).filter((f) =>
    /^\.journal-[A-Z0-9_]+(@[a-z.]+)?\.json$/.test(f),
  );
}

/** One journal per symbol, so group writes of different symbols can run concurrently. */
function journalPath(layout: Layout, dataset: string): string {
  return path.join(layout.root, `.journal-${dataset.split('/')[0]}.json`);
}

/**
 * A parsed journal's items when every one names a file at its dataset's canonical path with a
 * checksum; null otherwise (the journal is then quarantined, not followed).
 */
function journalItems(json: unknown, layout: Layout): JournalItem[] | null {
  if (!Array.isArray(json) || json.length === 0) return null;
  for (const it of json as JournalItem[]) {
    if (!it || typeof it !== 'object' || typeof it.dataset !== 'string') return null;
    const f = it.file as FileEntry | undefined;
    if (!f || typeof f.path !== 'string' || typeof f.sha256 !== 'string') return null;
    if (!Array.isArray(f.gaps) || typeof f.rows !== 'number') return null;
    const [symbol, interval, key] = it.dataset.split('/');
    const d = {
      id: it.dataset,
      symbol,
      interval: interval as Interval,
      kind: key === undefined ? 'candles' : 'indicator',
    } as DatasetEntry;
    if (!isInterval(interval) || canonicalPath(layout, d, f) !== f.path) return null;
  }
  return json as JournalItem[];
}

/** Temp files of the registry and journals at the data root, left by a writer that was killed. */
async function removeRootTemps(root: string, remove = true): Promise<number> {
  let names: string[];
  try {
    names = await fsp.readdir(root);
  } catch {
    return 0;
  }
  let found = 0;
  for (const n of names) {
    if (/^\.(registry\.json|journal-[A-Z0-9_]+(@[a-z.]+)?\.json)\..+\.tmp$/.test(n)) {
      if (remove) await fsp.rm(path.join(root, n), { force: true });
      found++;
    }
  }
  return found;
}

/** Sets each item's `mtime` from its file on disk (left unset for a file that cannot be seen). */
async function recordMtimes(layout: Layout, items: JournalItem[]): Promise<void> {
  for (const it of items) {
    const seen = await seeFile(layout.abs(it.file.path));
    if (seen) it.file.mtime = seen.mtime;
    else delete it.file.mtime;
  }
}
