/**
 * Finding a daemon that already serves a data directory, so that a second window (or a CLI user's
 * `threadx serve --socket`) is joined instead of starting a rival writer.
 *
 * The daemon writes a discovery file into the data directory with its endpoint, pid and protocol
 * version. A file whose pid is gone, or whose protocol major differs, is ignored.
 */
import { DAEMON_FILES } from '../schemas/contracts.ts';
import { promises as fsp } from 'node:fs';
import path from 'node:path';

export interface Discovery {
  pid: number;
  protocolVersion: string;
  /** Unix socket or named pipe path. */
  socket?: string;
  /** TCP port on 127.0.0.1 (then `tokenFile` holds the secret for `initialize`). */
  port?: number;
  tokenFile?: string;
  file: string;
}

export function parseDiscovery(text: string, file: string): Discovery | undefined {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (!raw || typeof raw !== 'object') return undefined;
  const endpoint = (
    raw.endpoint && typeof raw.endpoint === 'object' ? raw.endpoint : raw
  ) as Record<string, unknown>;
  const pid = raw.pid;
  if (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 0) return undefined;
  const d: Discovery = {
    pid,
    protocolVersion: typeof raw.protocolVersion === 'string' ? raw.protocolVersion : '0',
    file,
  };
  if (typeof endpoint.socket === 'string') d.socket = endpoint.socket;
  else if (typeof endpoint.path === 'string') d.socket = endpoint.path;
  if (typeof endpoint.port === 'number') d.port = endpoint.port;
  if (typeof endpoint.tokenFile === 'string') d.tokenFile = endpoint.tokenFile;
  if (d.socket === undefined && d.port === undefined) return undefined;
  return d;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The live daemon serving `dataDir` that speaks protocol major `major`, if any. */
export async function findDaemon(dataDir: string, major: string): Promise<Discovery | undefined> {
  const file = path.join(dataDir, DAEMON_FILES.discovery);
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  const d = parseDiscovery(text, file);
  if (!d || !alive(d.pid)) return undefined;
  if (d.protocolVersion.split('.')[0] !== major) return undefined;
  return d;
}

/** The token of a port transport: the file named by the discovery, else `<data>/.threadx-token`. */
export async function readToken(dataDir: string, d: Discovery): Promise<string | undefined> {
  const file = d.tokenFile ?? path.join(dataDir, DAEMON_FILES.token);
  try {
    return (await fsp.readFile(file, 'utf8')).trim();
  } catch {
    return undefined;
  }
}
