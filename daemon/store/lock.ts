/**
 * One writer per bank. A process that writes (the daemon, or a CLI command that ingests, imports,
 * resamples or updates indicators) holds `<data>/.threadx-bank.lock`, a directory created
 * atomically by `proper-lockfile` (mkdir either creates it or fails, on every file system
 * including network ones), whose mtime the holder refreshes every few seconds. Inside it,
 * `owner.json` says who holds it: pid, host, command, since.
 *
 * A lock is stale when its holder is gone: on this host, its pid no longer exists; on another
 * host (a shared folder), its mtime has not been refreshed for `STALE_MS`. Taking over a stale lock
 * is serialised by a second lock (`.threadx-bank.takeover`), and the owner is re-read under it,
 * so of several processes that find the same stale lock at once exactly one takes it: the others
 * then see a live owner and refuse.
 */
import { promises as fsp, rmSync, rmdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import lockfile from 'proper-lockfile';
import { ThreadxError } from '../../schemas/errors.ts';

export const BANK_LOCK = '.threadx-bank.lock';
/** The command name of a lock taken only to recover the bank while opening it. */
export const RECOVERY = 'threadx (recovery)';
const TAKEOVER_LOCK = '.threadx-bank.takeover';
const OWNER_FILE = 'owner.json';
/** The holder refreshes the lock's mtime this often (tests may shorten it, to 1 s at least). */
let UPDATE_MS = 5_000;
export function setLockHeartbeat(ms: number): void {
  UPDATE_MS = Math.max(1000, ms);
}
/** A lock held from another host whose mtime is older than this is stale. */
export const STALE_MS = 60_000;
/** A lock directory without an owner file older than this was left by a crash while taking it. */
const UNOWNED_STALE_MS = 10_000;
/** proper-lockfile's own stale removal is not used (it races): this disables it. */
const NEVER = 365 * 24 * 3600_000;

export interface LockOwner {
  pid: number;
  host: string;
  /** What holds it, e.g. `threadx ingest` or `threadx serve --stdio`. */
  command: string;
  /** ms since the epoch. */
  since: number;
  /** Distinguishes two holders that happen to share a pid (pid reuse). */
  token: string;
}

export class BankLock {
  private released = false;
  /** Set when another process removed or replaced the lock while we held it. */
  lost: Error | null = null;

  constructor(
    readonly root: string,
    readonly owner: LockOwner,
    private readonly unlock: () => Promise<void>,
    private readonly exitHook: () => void,
  ) {}

  get held(): boolean {
    return !this.released && this.lost === null;
  }

  /** Throws LOCKED unless this process still holds the bank's lock. */
  assertHeld(): void {
    if (this.lost) {
      throw new ThreadxError(
        'LOCKED',
        `The lock on the bank at ${this.root} was taken by another process while this one was writing (${this.lost.message}).`,
        'Stop the other writer, then run "threadx verify" and the command again.',
        { root: this.root },
      );
    }
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    process.off('exit', this.exitHook);
    if (this.lost) return;
    await fsp.rm(path.join(this.root, BANK_LOCK, OWNER_FILE), { force: true });
    await this.unlock().catch(() => undefined);
  }
}

export type AcquireOutcome =
  { acquired: true; lock: BankLock } | { acquired: false; owner: LockOwner | null };

async function readOwner(dir: string): Promise<LockOwner | null> {
  try {
    const o = JSON.parse(await fsp.readFile(path.join(dir, OWNER_FILE), 'utf8')) as LockOwner;
    return typeof o.pid === 'number' && typeof o.token === 'string' ? o : null;
  } catch {
    return null;
  }
}

/** Who holds the bank's lock now (null when nobody does, or the holder is gone). */
export async function lockOwner(root: string): Promise<LockOwner | null> {
  const dir = path.join(path.resolve(root), BANK_LOCK);
  const owner = await readOwner(dir);
  if (!owner) return null;
  return (await isStale(dir, owner)) === false ? owner : null;
}

/** Whether a process with this pid exists (EPERM: it does, owned by someone else). */
export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether the lock is stale; 'gone' when it was released meanwhile (then simply try again). */
async function isStale(dir: string, owner: LockOwner | null): Promise<boolean | 'gone'> {
  let mtime: number;
  try {
    mtime = (await fsp.stat(dir)).mtimeMs;
  } catch {
    return 'gone';
  }
  const age = Date.now() - mtime;
  if (!owner) return age > UNOWNED_STALE_MS;
  if (owner.host === os.hostname()) return !isAlive(owner.pid);
  return age > STALE_MS;
}

/**
 * Tries to take the bank's lock once. Never waits for a live holder: the outcome names it.
 */
export async function acquireBankLock(
  rootIn: string,
  command: string,
  opts: { onLost?: (err: Error) => void } = {},
): Promise<AcquireOutcome> {
  const root = path.resolve(rootIn);
  await fsp.mkdir(root, { recursive: true });
  const dir = path.join(root, BANK_LOCK);
  for (let attempt = 0; attempt < 20; attempt++) {
    const got = await tryLock(root, dir, command, opts.onLost);
    if (got) return { acquired: true, lock: got };
    const owner = await readOwner(dir);
    const stale = await isStale(dir, owner);
    if (stale === 'gone') continue;
    if (!stale) {
      // Held by a live process, or being taken right now (no owner file yet, young): look again
      // briefly when it has no owner yet or the holder only recovers the bank on opening it
      // (a reader's moment), else report the holder.
      if (owner && !(owner.command === RECOVERY && attempt < 19)) return { acquired: false, owner };
      if (attempt < 19) {
        await new Promise((r) => setTimeout(r, owner ? 100 : 25));
        continue;
      }
      return { acquired: false, owner };
    }
    await takeOver(root, dir, owner);
  }
  return { acquired: false, owner: await readOwner(dir) };
}

async function tryLock(
  root: string,
  dir: string,
  command: string,
  onLost?: (err: Error) => void,
): Promise<BankLock | null> {
  let lock: BankLock | null = null;
  let unlock: () => Promise<void>;
  try {
    // proper-lockfile keys its bookkeeping by the first argument: one name per lock.
    unlock = await lockfile.lock(path.join(root, '.threadx-bank'), {
      lockfilePath: dir,
      realpath: false,
      stale: NEVER,
      update: UPDATE_MS,
      retries: 0,
      onCompromised: (err) => {
        if (lock) lock.lost = err;
        onLost?.(err);
      },
    });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ELOCKED') return null;
    throw new ThreadxError(
      'STORAGE',
      `Cannot create the lock ${dir}: ${(e as Error).message}.`,
      'Check that the data directory is writable.',
      { path: dir },
      { cause: e },
    );
  }
  const owner: LockOwner = {
    pid: process.pid,
    host: os.hostname(),
    command,
    since: Date.now(),
    token: randomBytes(8).toString('hex'),
  };
  const ownerFile = path.join(dir, OWNER_FILE);
  const tmp = `${ownerFile}.${owner.token}.tmp`;
  // proper-lockfile recognises its lock by the folder's mtime: writing the owner file changes it,
  // so it is put back, or the first heartbeat would take the lock for compromised.
  const { atime, mtime } = await fsp.stat(dir);
  await fsp.writeFile(tmp, `${JSON.stringify(owner)}\n`, { mode: 0o644 });
  await fsp.rename(tmp, ownerFile);
  await fsp.utimes(dir, atime, mtime);
  // A process that exits without releasing (process.exit, an uncaught error) leaves no lock behind.
  const exitHook = (): void => {
    try {
      rmSync(ownerFile, { force: true });
      rmdirSync(dir);
    } catch {
      /* the next writer takes it over: our pid is gone */
    }
  };
  process.on('exit', exitHook);
  lock = new BankLock(root, owner, unlock, exitHook);
  return lock;
}

/** Removes a stale lock, serialised with every other process doing the same. */
async function takeOver(root: string, dir: string, seen: LockOwner | null): Promise<void> {
  let release: (() => Promise<void>) | null = null;
  try {
    release = await lockfile.lock(path.join(root, '.threadx-bank-takeover'), {
      lockfilePath: path.join(root, TAKEOVER_LOCK),
      realpath: false,
      stale: UNOWNED_STALE_MS,
      retries: { retries: 40, minTimeout: 10, maxTimeout: 50 },
    });
  } catch {
    return; // another process is taking it over: the caller looks again
  }
  try {
    // Re-read under the takeover lock: only the stale lock we saw may go, never a fresh one.
    const now = await readOwner(dir);
    if ((now?.token ?? null) !== (seen?.token ?? null)) return;
    if ((await isStale(dir, now)) !== true) return;
    await fsp.rm(dir, { recursive: true, force: true });
  } finally {
    await release().catch(() => undefined);
  }
}

/**
 * The sentence a refused writer prints: who holds the bank, since when, and the fix. `canJoin`:
 * the command can run through the daemon (`--join`); otherwise the hint names the ingest that can.
 */
export function lockedError(
  root: string,
  owner: LockOwner | null,
  isDaemon: boolean,
  canJoin = false,
): ThreadxError {
  const who = owner
    ? `"${owner.command}" (pid ${owner.pid}${owner.host === os.hostname() ? '' : ` on ${owner.host}`}, since ${new Date(owner.since).toISOString()})`
    : 'another process that is starting';
  const kill = `kill ${owner?.pid ?? 'PID'}`;
  const hint = isDaemon
    ? canJoin
      ? `Add --join to run the command through that daemon, or stop it (${kill}) and run the command again.`
      : `Stop that daemon (${kill}) and run the command again; downloads can run through it with "threadx ingest --join".`
    : `Wait for it to finish, or stop that process${owner ? ` (kill ${owner.pid})` : ''} and run the command again.`;
  return new ThreadxError('LOCKED', `The bank at ${root} is being written by ${who}.`, hint, {
    root,
    ...(owner ? { pid: owner.pid, command: owner.command, since: owner.since } : {}),
  });
}
