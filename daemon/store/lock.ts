/**
 * One writer per bank. A process that writes (the daemon, or a CLI command that ingests, imports,
 * resamples or updates indicators) holds `<data>/.threadx-bank.lock`, a directory created
 * atomically by `proper-lockfile` (mkdir either creates it or fails, on every file system
 * including network ones), whose mtime the holder refreshes every few seconds (the heartbeat).
 * Inside it, `owner.json` says who holds it: pid, host, command, since, a random token, and what
 * makes the pid mean one process (`proc.ts`): the kernel's boot id, the pid namespace, the
 * process's start time and command line.
 *
 * A lock is stale when its holder is gone, and the holder is judged where its pid means
 * something: in the same boot and pid namespace of this host, the pid must still exist and be the
 * same process (same start time and command line; a reused pid is a stranger, never the holder).
 * Anywhere else (another host, another container, an earlier boot), only a heartbeat that does
 * not advance for `staleAfterMs` of this process's own clock makes it stale: the mtimes are
 * compared with each other, never with our clock, so hosts whose clocks disagree cannot take a
 * live lock. Taking over a stale lock is serialised by a second lock (`.threadx-bank.takeover`),
 * and the owner and heartbeat are re-read under it, so of several processes that find the same
 * stale lock at once exactly one takes it: the others then see a live owner and refuse.
 *
 * The token is a fencing token: `BankLock.assertHeld` re-reads `owner.json` before every commit,
 * so a writer whose lock was taken (a long pause, a split file system) stops before it writes.
 */
import { promises as fsp, readFileSync, rmSync, rmdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import lockfile from 'proper-lockfile';
import { ThreadxError } from '../../schemas/errors.ts';
import { processCmdline, processStartMs, processStartTicks, selfIdentity } from './proc.ts';

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
/**
 * A lock held from elsewhere (another host, container or boot) whose heartbeat is seen not to
 * advance for this long, by our clock, is stale: twelve heartbeats missed.
 */
export const STALE_MS = 60_000;
let staleAfterMs = STALE_MS;
/** Tests shorten the bound (and restore it with `setLockStaleAfter(STALE_MS)`). */
export function setLockStaleAfter(ms: number): void {
  staleAfterMs = ms;
}
/** A lock directory without an owner file, unchanged this long, was left by a crash while taking it. */
const UNOWNED_STALE_MS = 10_000;
/** proper-lockfile's own stale removal is not used (it races): this disables it. */
const NEVER = 365 * 24 * 3600_000;
/** errno codes that mean the folder cannot be written at all (not a passing failure). */
export const READ_ONLY_ERRNO = new Set(['EROFS', 'EACCES', 'EPERM']);

export interface LockOwner {
  pid: number;
  host: string;
  /** What holds it, e.g. `threadx ingest` or `threadx serve --stdio`. */
  command: string;
  /** ms since the epoch, by the holder's clock. */
  since: number;
  /** A random fencing token: the holder checks it is still the lock's before every commit. */
  token: string;
  /** The holder's kernel boot id; with `pidNs`, where its pid means the holder. */
  bootId?: string;
  /** The holder's pid namespace (`readlink /proc/self/ns/pid`). */
  pidNs?: string;
  /** The holder's start time in clock ticks since boot (`/proc/PID/stat`, field 22). */
  startTicks?: number;
  /** The holder's command line (`/proc/PID/cmdline`). */
  cmdline?: string;
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

  private get dir(): string {
    return path.join(this.root, BANK_LOCK);
  }

  /**
   * Throws LOCKED unless this process still holds the bank's lock: the lock folder is there and
   * its `owner.json` carries our token (a fencing token, re-read every time).
   */
  async assertHeld(): Promise<void> {
    if (!this.lost && !this.released) {
      // Only a missing or different owner means the lock was taken; a failing read is thrown.
      const now = await fsp
        .readFile(path.join(this.dir, OWNER_FILE), 'utf8')
        .then(parseOwner, (e) => {
          if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
          throw e;
        });
      if (now?.token !== this.owner.token) {
        this.lost = new Error(
          now
            ? `it now names "${now.command}", pid ${now.pid} on ${now.host}`
            : 'its owner file was removed',
        );
      }
    }
    if (this.lost || this.released) {
      throw new ThreadxError(
        'LOCKED',
        `The lock on the bank at ${this.root} is no longer this process's (${this.lost?.message ?? 'it was released'}); nothing more was written.`,
        'Run "threadx verify" to check the bank, then run the command again once the other writer has finished.',
        { root: this.root },
      );
    }
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    process.off('exit', this.exitHook);
    if (this.lost) return;
    // Never remove a lock that is no longer ours (a successor's).
    if ((await readOwner(this.dir))?.token !== this.owner.token) return;
    await fsp.rm(path.join(this.dir, OWNER_FILE), { force: true });
    await this.unlock().catch(() => undefined);
  }
}

export type AcquireOutcome =
  { acquired: true; lock: BankLock } | { acquired: false; owner: LockOwner | null };

async function readOwner(dir: string): Promise<LockOwner | null> {
  try {
    return parseOwner(await fsp.readFile(path.join(dir, OWNER_FILE), 'utf8'));
  } catch {
    return null;
  }
}

function parseOwner(text: string): LockOwner | null {
  try {
    const o = JSON.parse(text) as LockOwner;
    return typeof o.pid === 'number' && typeof o.token === 'string' ? o : null;
  } catch {
    return null;
  }
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

/**
 * Whether the owner's pid means a process of this host, boot and pid namespace. An owner file
 * without a boot id or namespace (an older version's) counts as local when its host is ours.
 */
export function isLocalOwner(owner: LockOwner): boolean {
  if (owner.host !== os.hostname()) return false;
  const me = selfIdentity();
  if (owner.bootId && me.bootId && owner.bootId !== me.bootId) return false;
  if (owner.pidNs && me.pidNs && owner.pidNs !== me.pidNs) return false;
  return true;
}

/** How a local owner's pid stands: its holder, gone, or another process that reuses the pid. */
export function localHolder(owner: LockOwner): 'holder' | 'gone' | 'reused' {
  if (!isAlive(owner.pid)) return 'gone';
  if (owner.startTicks !== undefined) {
    const ticks = processStartTicks(owner.pid);
    if (ticks !== null && ticks !== owner.startTicks) return 'reused';
  } else {
    // An owner file without a start time: a process that started after the lock was taken
    // (a second of slack for the boot time's rounding) cannot be its holder.
    const started = processStartMs(owner.pid);
    if (started !== null && started > owner.since + 2_000) return 'reused';
  }
  if (owner.cmdline !== undefined) {
    const cmdline = processCmdline(owner.pid);
    if (cmdline !== null && cmdline !== owner.cmdline) return 'reused';
  }
  return 'holder';
}

/** Whether this owner is a live holder of the lock right now, judged without waiting. */
export function ownerLooksLive(owner: LockOwner): boolean {
  return isLocalOwner(owner) ? localHolder(owner) === 'holder' : true;
}

/** Who holds the bank's lock now (null when nobody does, or the holder is gone). */
export async function lockOwner(root: string): Promise<LockOwner | null> {
  const dir = path.join(path.resolve(root), BANK_LOCK);
  const owner = await readOwner(dir);
  return owner && ownerLooksLive(owner) ? owner : null;
}

async function mtimeOf(dir: string): Promise<number | null> {
  try {
    return (await fsp.stat(dir)).mtimeMs;
  } catch {
    return null;
  }
}

type Verdict =
  /** The lock is gone, or its owner changed: look again. */
  | { kind: 'again' }
  | { kind: 'live' }
  /** Stale; `mtime` as observed, so the takeover removes only the lock that was judged. */
  | { kind: 'stale'; mtime: number };

/**
 * Watches a lock that cannot be judged by its pid (held from elsewhere, or with no owner file
 * yet): live as soon as its mtime moves or its owner changes, stale when neither happens for
 * `boundMs` of our own clock.
 */
async function observe(dir: string, seen: LockOwner | null, boundMs: number): Promise<Verdict> {
  const first = await mtimeOf(dir);
  if (first === null) return { kind: 'again' };
  const start = performance.now();
  const step = Math.max(20, Math.min(250, boundMs / 8));
  for (;;) {
    await new Promise((r) => setTimeout(r, step));
    const m = await mtimeOf(dir);
    if (m === null) return { kind: 'again' };
    const owner = await readOwner(dir);
    if ((owner?.token ?? null) !== (seen?.token ?? null)) return { kind: 'again' };
    if (m !== first) return seen ? { kind: 'live' } : { kind: 'again' };
    if (performance.now() - start >= boundMs) return { kind: 'stale', mtime: m };
  }
}

async function judge(dir: string, owner: LockOwner | null, opts: AcquireOptions): Promise<Verdict> {
  const mtime = await mtimeOf(dir);
  if (mtime === null) return { kind: 'again' };
  if (!owner) {
    // Being taken right now (the owner file follows the folder within milliseconds), or left by
    // a crash in between: wait for the owner file, and only a long silence makes it stale.
    if (opts.watch === false) return { kind: 'live' };
    return observe(dir, null, UNOWNED_STALE_MS);
  }
  if (isLocalOwner(owner)) {
    return localHolder(owner) === 'holder' ? { kind: 'live' } : { kind: 'stale', mtime };
  }
  if (opts.watch === false) return { kind: 'live' };
  opts.onWatch?.(owner, staleAfterMs);
  return observe(dir, owner, staleAfterMs);
}

export interface AcquireOptions {
  onLost?: (err: Error) => void;
  /**
   * Whether to watch a lock held from elsewhere for its heartbeat (up to `STALE_MS`) before
   * refusing; false (a reader that only recovers) refuses at once.
   */
  watch?: boolean;
  /** Called when the lock is held from elsewhere and its heartbeat is being watched. */
  onWatch?: (owner: LockOwner, boundMs: number) => void;
}

/**
 * Tries to take the bank's lock. Never waits for a live holder: the outcome names it. A holder
 * from elsewhere is watched until its heartbeat shows it alive, or for the stale bound.
 */
export async function acquireBankLock(
  rootIn: string,
  command: string,
  opts: AcquireOptions = {},
): Promise<AcquireOutcome> {
  const root = path.resolve(rootIn);
  await fsp.mkdir(root, { recursive: true });
  const dir = path.join(root, BANK_LOCK);
  for (let attempt = 0; attempt < 20; attempt++) {
    const got = await tryLock(root, dir, command, opts.onLost);
    if (got) return { acquired: true, lock: got };
    const owner = await readOwner(dir);
    const v = await judge(dir, owner, opts);
    if (v.kind === 'again') continue;
    if (v.kind === 'live') {
      // The holder only recovers the bank while opening it (a reader's moment): look again
      // briefly; else report the holder.
      if (owner && owner.command === RECOVERY && attempt < 19) {
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      if (!owner && attempt < 19) {
        await new Promise((r) => setTimeout(r, 25));
        continue;
      }
      return { acquired: false, owner };
    }
    await takeOver(root, dir, owner, v.mtime);
  }
  return { acquired: false, owner: await readOwner(dir) };
}

function readOnlyError(root: string, dir: string, e: NodeJS.ErrnoException): ThreadxError {
  return new ThreadxError(
    'STORAGE',
    `The bank at ${root} cannot be written (${e.code} creating its lock ${dir}), and this command writes.`,
    'Make the folder writable (or mount it read-write) to run it; "threadx list", "threadx export", "threadx check" and "threadx verify" read a read-only bank.',
    { path: dir, errno: e.code, readOnly: true },
    { cause: e },
  );
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
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ELOCKED') return null;
    if (err.code && READ_ONLY_ERRNO.has(err.code)) throw readOnlyError(root, dir, err);
    throw new ThreadxError(
      'STORAGE',
      `Cannot create the lock ${dir}: ${err.message}.`,
      'Check that the data directory is writable.',
      { path: dir, ...(err.code ? { errno: err.code } : {}) },
      { cause: e },
    );
  }
  const owner: LockOwner = {
    pid: process.pid,
    host: os.hostname(),
    command,
    since: Date.now(),
    token: randomBytes(8).toString('hex'),
    ...selfIdentity(),
  };
  const ownerFile = path.join(dir, OWNER_FILE);
  const tmp = `${ownerFile}.${owner.token}.tmp`;
  // proper-lockfile recognises its lock by the folder's mtime: writing the owner file changes it,
  // so it is put back, or the first heartbeat would take the lock for compromised.
  const { atime, mtime } = await fsp.stat(dir);
  await fsp.writeFile(tmp, `${JSON.stringify(owner)}\n`, { mode: 0o644 });
  await fsp.rename(tmp, ownerFile);
  await fsp.utimes(dir, atime, mtime);
  // A process that exits without releasing (process.exit, an uncaught error) leaves no lock
  // behind, unless the lock is no longer ours.
  const exitHook = (): void => {
    try {
      if (parseOwner(readFileSync(ownerFile, 'utf8'))?.token !== owner.token) return;
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
async function takeOver(
  root: string,
  dir: string,
  seen: LockOwner | null,
  seenMtime: number,
): Promise<void> {
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
    // Re-read under the takeover lock: only the stale lock we judged may go, never a fresh one
    // nor one whose heartbeat moved meanwhile.
    const now = await readOwner(dir);
    if ((now?.token ?? null) !== (seen?.token ?? null)) return;
    if ((await mtimeOf(dir)) !== seenMtime) return;
    if (now && isLocalOwner(now) && localHolder(now) === 'holder') return;
    await fsp.rm(dir, { recursive: true, force: true });
  } finally {
    await release().catch(() => undefined);
  }
}

/**
 * The sentence a refused writer prints: who holds the bank, since when, and the fix. `canJoin`:
 * the command can run through the daemon (`--join`); otherwise the hint names the ingest that can.
 * A `kill` is advised only for a holder whose pid was checked to be it, in this pid namespace.
 */
export function lockedError(
  root: string,
  owner: LockOwner | null,
  isDaemon: boolean,
  canJoin = false,
): ThreadxError {
  const local = owner !== null && isLocalOwner(owner);
  const where = owner && !local ? ` on ${owner.host}, ${elsewhere(owner)}` : '';
  const who = owner
    ? `"${owner.command}" (pid ${owner.pid}${where}, since ${new Date(owner.since).toISOString()})`
    : 'another process that is starting';
  // Outside our pid namespace, that pid here is some other process: never advise killing it.
  const stop = (what: string): string =>
    !owner
      ? `stop ${what}`
      : local
        ? `stop ${what} (kill ${owner.pid})`
        : `stop ${what} where it runs (pid ${owner.pid} on ${owner.host} is not a pid of this machine or container)`;
  const hint = isDaemon
    ? canJoin
      ? `Add --join to run the command through that daemon, or ${stop('it')} and run the command again.`
      : `S${stop('that daemon').slice(1)} and run the command again; downloads can run through it with "threadx ingest --join".`
    : `Wait for it to finish, or ${stop('that process')} and run the command again.`;
  return new ThreadxError('LOCKED', `The bank at ${root} is being written by ${who}.`, hint, {
    root,
    ...(owner
      ? { pid: owner.pid, host: owner.host, command: owner.command, since: owner.since }
      : {}),
  });
}

/** What a process watching a lock held from elsewhere tells the user while it waits. */
export function watchingMessage(owner: LockOwner, boundMs: number): string {
  return `The bank's lock is held by "${owner.command}" (pid ${owner.pid} on ${owner.host}, ${elsewhere(owner)}), whose pid cannot be checked from here; watching its heartbeat for up to ${Math.round(boundMs / 1000)} s before taking a lock it no longer refreshes.`;
}

function elsewhere(owner: LockOwner): string {
  if (owner.host !== os.hostname()) return 'another machine sharing this folder';
  const me = selfIdentity();
  if (owner.bootId && me.bootId && owner.bootId !== me.bootId)
    return 'another boot or machine of that name, whose heartbeat is still fresh';
  return 'another container (pid namespace) of this machine';
}
