/**
 * One daemon per data directory. A daemon holds `<data>/.threadx-daemon.lock` (created
 * exclusively, holding its pid) and describes itself in `<data>/.threadx-daemon.json` (endpoint,
 * pid, protocol version, start time), so a second `serve` finds it instead of fighting over the
 * bank. A lock whose pid is dead is stale and is taken over.
 *
 * Also here: watching the parent process (a stdio daemon dies with its editor) and the default
 * socket path.
 */
import { promises as fsp } from 'node:fs';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { PROTOCOL_VERSION } from '../../schemas/protocol.ts';

export type Endpoint =
  | { kind: 'socket'; path: string }
  | { kind: 'port'; host: '127.0.0.1'; port: number; tokenFile: string };

export interface DiscoveryInfo {
  endpoint: Endpoint | null;
  pid: number;
  protocolVersion: string;
  version: string;
  /** ms since the epoch. */
  started: number;
  dataDir: string;
  /** How the daemon was started: its own client on stdio, or only endpoints. */
  mode: 'stdio' | 'socket' | 'port';
}

export const LOCK_FILE = '.threadx-daemon.lock';
export const DISCOVERY_FILE = '.threadx-daemon.json';
export const TOKEN_FILE = '.threadx-token';

export function describeEndpoint(e: Endpoint | null): string {
  if (!e) return 'stdio only';
  return e.kind === 'socket' ? `socket ${e.path}` : `port ${e.host}:${e.port}`;
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

export async function readDiscovery(dataDir: string): Promise<DiscoveryInfo | null> {
  try {
    const info = JSON.parse(
      await fsp.readFile(path.join(dataDir, DISCOVERY_FILE), 'utf8'),
    ) as DiscoveryInfo;
    return typeof info.pid === 'number' ? info : null;
  } catch {
    return null;
  }
}

/** The running daemon of `dataDir`, if any (its lock's pid is alive). */
export async function findDaemon(dataDir: string): Promise<DiscoveryInfo | null> {
  const pid = await lockPid(path.join(dataDir, LOCK_FILE));
  if (pid === null || !isAlive(pid)) return null;
  const info = await readDiscovery(dataDir);
  return info && info.pid === pid ? info : null;
}

async function lockPid(file: string): Promise<number | null> {
  try {
    const n = Number.parseInt((await fsp.readFile(file, 'utf8')).trim(), 10);
    return Number.isFinite(n) ? n : null;
  } catch {
    return null;
  }
}

export type LockOutcome =
  | { acquired: true; lock: DaemonLock }
  | { acquired: false; pid: number; info: DiscoveryInfo | null };

export class DaemonLock {
  private released = false;

  constructor(readonly dataDir: string) {}

  get discoveryFile(): string {
    return path.join(this.dataDir, DISCOVERY_FILE);
  }

  async publish(info: Omit<DiscoveryInfo, 'pid' | 'protocolVersion' | 'dataDir'>): Promise<void> {
    const full: DiscoveryInfo = {
      ...info,
      pid: process.pid,
      protocolVersion: PROTOCOL_VERSION,
      dataDir: this.dataDir,
    };
    const tmp = `${this.discoveryFile}.${process.pid}.tmp`;
    await fsp.writeFile(tmp, `${JSON.stringify(full, null, 2)}\n`, { mode: 0o600 });
    await fsp.rename(tmp, this.discoveryFile);
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    // Only remove files that are still ours: a successor may have taken over a stale lock.
    const info = await readDiscovery(this.dataDir);
    if (info?.pid === process.pid) await fsp.rm(this.discoveryFile, { force: true });
    const lock = path.join(this.dataDir, LOCK_FILE);
    if ((await lockPid(lock)) === process.pid) await fsp.rm(lock, { force: true });
  }
}

/**
 * Takes the data directory's daemon lock, or says who holds it. A lock left by a dead process is
 * removed and taken.
 */
export async function acquireDaemonLock(dataDir: string): Promise<LockOutcome> {
  const file = path.join(dataDir, LOCK_FILE);
  await fsp.mkdir(dataDir, { recursive: true });
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const fh = await fsp.open(file, 'wx', 0o600);
      await fh.writeFile(`${process.pid}\n`);
      await fh.close();
      return { acquired: true, lock: new DaemonLock(dataDir) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const pid = await lockPid(file);
    if (pid !== null && pid !== process.pid && isAlive(pid)) {
      const info = await readDiscovery(dataDir);
      return { acquired: false, pid, info: info?.pid === pid ? info : null };
    }
    if (pid === null) {
      // Being written by a daemon that is starting right now, or garbage: look again shortly,
      // and take it over only if it stays unreadable.
      await new Promise((r) => setTimeout(r, 50));
      if ((await lockPid(file)) !== null) continue;
    }
    await fsp.rm(file, { force: true });
    await fsp.rm(path.join(dataDir, DISCOVERY_FILE), { force: true });
  }
  throw new Error(`cannot take the daemon lock ${file}`);
}

/**
 * Where a daemon listens by default: `<data>/.threadx/daemon.sock` (a 0700 folder), or, when that
 * path is too long for a Unix socket, a 0700 folder under the temp dir named after the user,
 * with a file named by a hash of the data directory. Named pipes on Windows.
 */
export function defaultSocketPath(dataDir: string): string {
  const hash = createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 16);
  if (process.platform === 'win32') return `\\\\.\\pipe\\threadx-${hash}`;
  const local = path.join(dataDir, '.threadx', 'daemon.sock');
  if (Buffer.byteLength(local) < 100) return local;
  const uid = typeof process.getuid === 'function' ? process.getuid() : os.userInfo().username;
  return path.join(os.tmpdir(), `threadx-${uid}`, `${hash}.sock`);
}

/**
 * Calls `onGone` once when the parent process (or the client process named in `initialize`) is
 * gone: re-parenting changes `process.ppid`, and a dead pid no longer answers signal 0.
 */
export function watchParent(
  onGone: () => void,
  opts: { intervalMs?: number; pids?: () => number[] } = {},
): () => void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    const gone =
      process.ppid !== parent ||
      !isAlive(parent) ||
      (opts.pids?.() ?? []).some((pid) => !isAlive(pid));
    if (gone) {
      clearInterval(timer);
      onGone();
    }
  }, opts.intervalMs ?? 1000);
  timer.unref();
  return () => clearInterval(timer);
}
