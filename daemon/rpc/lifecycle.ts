/**
 * One daemon per data directory, and one writer per bank. A daemon holds the bank's lock
 * (`<data>/.threadx-bank.lock`, `store/lock.ts`, the same lock a writing CLI command takes) and
 * describes itself in `<data>/.threadx-daemon.json` (endpoint, pid, protocol version, start
 * time), so a second `serve` or a CLI command finds it instead of fighting over the bank. A lock
 * whose holder is dead is stale and is taken over.
 *
 * Also here: watching the parent process (a stdio daemon dies with its editor) and the default
 * socket path.
 */
import { promises as fsp } from 'node:fs';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { PROTOCOL_VERSION } from '../../schemas/protocol.ts';
import {
  BANK_LOCK,
  type BankLock,
  type LockOwner,
  acquireBankLock,
  isAlive,
  isLocalOwner,
  lockOwner,
} from '../app/bank-lock.ts';

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

/** The bank's one-writer lock, which the daemon holds for its whole life. */
export const LOCK_FILE = BANK_LOCK;
export const DISCOVERY_FILE = '.threadx-daemon.json';
export const TOKEN_FILE = '.threadx-token';

export function describeEndpoint(e: Endpoint | null): string {
  if (!e) return 'stdio only';
  return e.kind === 'socket' ? `socket ${e.path}` : `port ${e.host}:${e.port}`;
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

/** The running daemon of `dataDir`, if any (it holds the bank's lock and published itself). */
export async function findDaemon(dataDir: string): Promise<DiscoveryInfo | null> {
  // Only a daemon whose pid means it here (this host, boot and pid namespace) can be joined.
  const owner = await lockOwner(dataDir);
  if (owner === null || !isLocalOwner(owner)) return null;
  const info = await readDiscovery(dataDir);
  return info && info.pid === owner.pid ? info : null;
}

export type LockOutcome =
  | { acquired: true; lock: DaemonLock }
  | { acquired: false; pid: number; owner: LockOwner | null; info: DiscoveryInfo | null };

export class DaemonLock {
  private released = false;

  constructor(
    readonly dataDir: string,
    /** The bank's lock: the daemon is the bank's one writer while it runs. */
    readonly bankLock: BankLock,
  ) {}

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
    await this.bankLock.release();
  }
}

/**
 * Takes the bank's lock for a daemon, or says who holds it (a daemon, with its discovery, or a
 * CLI command that is writing). A lock left by a dead process is taken over, by exactly one of
 * the processes that find it at once (`store/lock.ts`).
 */
export async function acquireDaemonLock(
  dataDir: string,
  command: string,
  onWatch?: (owner: LockOwner, boundMs: number) => void,
): Promise<LockOutcome> {
  const got = await acquireBankLock(dataDir, command, onWatch ? { onWatch } : {});
  if (got.acquired) return { acquired: true, lock: new DaemonLock(dataDir, got.lock) };
  const info = got.owner ? await readDiscovery(dataDir) : null;
  return {
    acquired: false,
    pid: got.owner?.pid ?? 0,
    owner: got.owner,
    info: info && got.owner && info.pid === got.owner.pid ? info : null,
  };
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
