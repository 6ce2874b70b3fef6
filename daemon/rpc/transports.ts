/**
 * `threadx serve`: the daemon on stdio, a Unix socket or a local port, and its lifecycle.
 *
 * - `--stdio`: the process that started us is the owner client. stdout carries only the protocol
 *   (console output is routed to the log). The daemon also listens on its default socket so that
 *   other clients can join; it exits when the owner is gone (stdin closed, parent dead) and no
 *   joined client remains.
 * - `--socket PATH`: a Unix socket created 0600 (in a 0700 folder when we create the folder).
 * - `--port N`: 127.0.0.1 only; a random token is written to `<data>/.threadx-token` (0600) and
 *   every connection must present it in `initialize`.
 * - `--join` (with `--stdio`): when a daemon already serves the data directory, proxy our stdio
 *   to it instead of failing, so an editor that always spawns a daemon shares the running one.
 * - `--idle-timeout S`: stop after S seconds without any client (socket and port modes).
 */
import { promises as fsp } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Config } from '../../schemas/config.ts';
import { createDaemon, PRODUCT_VERSION, type Daemon } from './daemon.ts';
import { MessageReader, frame, streamTransport } from './framing.ts';
import {
  type DaemonLock,
  type DiscoveryInfo,
  type Endpoint,
  TOKEN_FILE,
  acquireDaemonLock,
  defaultSocketPath,
  describeEndpoint,
  watchParent,
} from './lifecycle.ts';
import { messages } from './messages.ts';
import { lockedError } from '../store/lock.ts';
import type { Connection } from './server.ts';

export interface ServeOptions {
  dataDir: string;
  config: Config;
  configFile: string | null;
  mode: 'stdio' | 'socket' | 'port';
  socketPath?: string;
  port?: number;
  join?: boolean;
  /** Seconds without a client before stopping; 0 or absent: never (socket, port). */
  idleTimeout?: number;
  /** Where a human reads why we exit (stderr). */
  report: (text: string) => void;
  stdin?: NodeJS.ReadableStream & { destroy?: () => void };
  stdout?: NodeJS.WritableStream;
}

/** Runs the daemon until it is told to stop; resolves with the process exit code. */
export async function serve(opts: ServeOptions): Promise<number> {
  const dataDir = path.resolve(opts.dataDir);
  const outcome = await acquireDaemonLock(dataDir, `threadx serve --${opts.mode}`);
  if (!outcome.acquired) {
    if (opts.join && opts.mode === 'stdio' && outcome.info?.endpoint) {
      return joinProxy(outcome.info, opts);
    }
    opts.report(
      outcome.info
        ? messages.daemonRunning(dataDir, describeEndpoint(outcome.info.endpoint), outcome.pid)
        : lockedError(dataDir, outcome.owner, false).text,
    );
    return 1;
  }
  const lock = outcome.lock;
  let daemon: Daemon;
  try {
    daemon = await createDaemon({
      dataDir,
      config: opts.config,
      configFile: opts.configFile,
      lock: lock.bankLock,
    });
  } catch (e) {
    await lock.release();
    throw e;
  }
  return new Lifecycle(daemon, lock, opts, dataDir).run();
}

class Lifecycle {
  private readonly listeners: net.Server[] = [];
  private readonly cleanupFiles: string[] = [];
  private idleTimer: NodeJS.Timeout | null = null;
  private ownerGone = false;
  private owner: Connection | null = null;
  private finish!: (code: number) => void;
  private stopping = false;
  private readonly restoreConsole: () => void;

  constructor(
    private readonly daemon: Daemon,
    private readonly lock: DaemonLock,
    private readonly opts: ServeOptions,
    private readonly dataDir: string,
  ) {
    this.restoreConsole = opts.mode === 'stdio' ? routeConsole(daemon) : () => undefined;
  }

  async run(): Promise<number> {
    const { daemon, opts } = this;
    const { server, logger } = daemon;
    const done = new Promise<number>((resolve) => (this.finish = resolve));
    let endpoint: Endpoint | null = null;
    try {
      if (opts.mode === 'port') {
        endpoint = await this.listenPort(opts.port ?? 0);
      } else {
        const socketPath = opts.socketPath
          ? path.resolve(opts.socketPath)
          : defaultSocketPath(this.dataDir);
        endpoint = await this.listenSocket(socketPath).catch((e: Error) => {
          // On stdio the socket is a convenience for joiners; without it we still serve.
          if (opts.mode === 'stdio') {
            logger.warn(`no socket for other clients: ${e.message}`);
            return null;
          }
          throw e;
        });
      }
      await this.lock.publish({
        endpoint,
        version: PRODUCT_VERSION,
        started: Date.now(),
        mode: opts.mode,
      });
    } catch (e) {
      await this.cleanup();
      throw e;
    }
    logger.info(
      `daemon ${PRODUCT_VERSION} (pid ${process.pid}) serving ${this.dataDir} on ${opts.mode}${
        endpoint ? `, ${describeEndpoint(endpoint)}` : ''
      }`,
    );

    server.on('exit', (code: number) => void this.stop(code, 'exit requested'));
    server.on('idle', () => this.onIdle());
    server.on('connection', () => this.clearIdle());
    const onSignal = (sig: string): void => void this.stop(0, `received ${sig}`);
    process.once('SIGINT', () => onSignal('SIGINT'));
    process.once('SIGTERM', () => onSignal('SIGTERM'));

    if (opts.mode === 'stdio') {
      const stdin = (opts.stdin ?? process.stdin) as NodeJS.ReadableStream;
      const stdout = (opts.stdout ?? process.stdout) as NodeJS.WritableStream;
      const transport = streamTransport(
        stdin as unknown as import('node:stream').Readable,
        stdout as unknown as import('node:stream').Writable,
      );
      this.owner = server.connect(transport, { owner: true, label: 'stdio' });
      transport.onClose(() => this.onOwnerGone('stdin closed'));
      watchParent(() => this.onOwnerGone('parent process exited'), {
        pids: () => (this.owner?.processId ? [this.owner.processId] : []),
      });
    } else {
      this.onIdle();
    }
    return done;
  }

  private onOwnerGone(why: string): void {
    if (this.ownerGone) return;
    this.ownerGone = true;
    const others = this.daemon.server.connections.size;
    if (others === 0) void this.stop(0, why);
    else this.daemon.logger.info(`${why}; ${others} joined client(s) remain, serving them`);
  }

  private onIdle(): void {
    if (this.opts.mode === 'stdio') {
      if (this.ownerGone) void this.stop(0, 'last client left');
      return;
    }
    const s = this.opts.idleTimeout ?? 0;
    if (s <= 0) return;
    this.clearIdle();
    this.idleTimer = setTimeout(() => void this.stop(0, `idle for ${s} s`), s * 1000);
  }

  private clearIdle(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }

  private async stop(code: number, why: string): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.daemon.logger.info(`stopping: ${why}`);
    this.clearIdle();
    try {
      await this.daemon.close();
    } catch (e) {
      this.daemon.logger.error('error while stopping', e);
    }
    await this.cleanup();
    this.restoreConsole();
    this.finish(code);
  }

  private async cleanup(): Promise<void> {
    await Promise.all(
      this.listeners.map((l) => new Promise<void>((resolve) => l.close(() => resolve()))),
    );
    for (const f of this.cleanupFiles) await fsp.rm(f, { force: true });
    await this.lock.release();
  }

  private async listenSocket(socketPath: string): Promise<Endpoint> {
    if (process.platform !== 'win32') {
      const dir = path.dirname(socketPath);
      try {
        await fsp.mkdir(dir, { mode: 0o700 });
        await fsp.chmod(dir, 0o700);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
          await fsp.mkdir(dir, { recursive: true, mode: 0o700 });
        }
      }
      await removeStaleSocket(socketPath);
    }
    const srv = net.createServer((socket) => {
      this.daemon.server.connect(streamTransport(socket, socket), {
        label: `socket ${socket.remoteAddress ?? 'local'}`,
      });
    });
    // The socket file is created by listen(): with this umask it is 0600 from the first moment.
    const old = process.platform === 'win32' ? null : process.umask(0o177);
    try {
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(socketPath, () => {
          srv.off('error', reject);
          resolve();
        });
      });
    } finally {
      if (old !== null) process.umask(old);
    }
    if (process.platform !== 'win32') {
      await fsp.chmod(socketPath, 0o600);
      this.cleanupFiles.push(socketPath);
    }
    this.listeners.push(srv);
    return { kind: 'socket', path: socketPath };
  }

  private async listenPort(port: number): Promise<Endpoint> {
    const token = randomBytes(32).toString('hex');
    const tokenFile = path.join(this.dataDir, TOKEN_FILE);
    await fsp.rm(tokenFile, { force: true });
    await fsp.writeFile(tokenFile, token, { mode: 0o600, flag: 'wx' });
    this.cleanupFiles.push(tokenFile);
    const srv = net.createServer((socket) => {
      socket.setNoDelay(true);
      const conn = this.daemon.server.connect(streamTransport(socket, socket), {
        token,
        label: `tcp ${socket.remoteAddress}:${socket.remotePort}`,
      });
      // An unauthenticated socket gets a few seconds to initialize, then it is dropped.
      const timer = setTimeout(() => {
        if (!conn.initialized) conn.close();
      }, 10_000);
      timer.unref();
    });
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen({ port, host: '127.0.0.1' }, () => {
        srv.off('error', reject);
        resolve();
      });
    });
    this.listeners.push(srv);
    const addr = srv.address() as net.AddressInfo;
    return { kind: 'port', host: '127.0.0.1', port: addr.port, tokenFile };
  }
}

/** Removes a socket file that nobody listens on any more (a daemon that crashed). */
async function removeStaleSocket(socketPath: string): Promise<void> {
  try {
    await fsp.lstat(socketPath);
  } catch {
    return;
  }
  const alive = await new Promise<boolean>((resolve) => {
    const s = net.createConnection({ path: socketPath });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
  if (alive) throw new Error(`${socketPath} is in use by another process`);
  await fsp.rm(socketPath, { force: true });
}

/** On stdio, stdout is the protocol's: console output goes to the log instead. */
/* eslint-disable no-console -- replacing the console's methods is the point here. */
function routeConsole(daemon: Daemon): () => void {
  const saved = { ...console };
  const to =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (...args: unknown[]): void =>
      daemon.logger.log(level, args.map((a) => (typeof a === 'string' ? a : String(a))).join(' '));
  console.log = to('info');
  console.info = to('info');
  console.debug = to('debug');
  console.warn = to('warn');
  console.error = to('error');
  return () => Object.assign(console, saved);
}
/* eslint-enable no-console */

/**
 * Relays our stdio to the running daemon. Messages from our client are re-framed (and, for a port
 * endpoint, `initialize` gets the token from the owner-only token file); the daemon's bytes are
 * passed through untouched.
 */
async function joinProxy(info: DiscoveryInfo, opts: ServeOptions): Promise<number> {
  const endpoint = info.endpoint!;
  const socket =
    endpoint.kind === 'socket'
      ? net.createConnection({ path: endpoint.path })
      : net.createConnection({ port: endpoint.port, host: endpoint.host });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const token =
    endpoint.kind === 'port' ? (await fsp.readFile(endpoint.tokenFile, 'utf8')).trim() : null;
  const stdin = (opts.stdin ?? process.stdin) as NodeJS.ReadableStream;
  const stdout = (opts.stdout ?? process.stdout) as NodeJS.WritableStream;
  socket.pipe(stdout as NodeJS.WritableStream, { end: false });
  const reader = new MessageReader(
    (text) => {
      let out = text;
      if (token) {
        try {
          const m = JSON.parse(text) as { method?: string; params?: Record<string, unknown> };
          if (m.method === 'initialize') {
            m.params = { ...(m.params ?? {}), token };
            out = JSON.stringify(m);
          }
        } catch {
          // Not JSON: the daemon will answer the parse error.
        }
      }
      socket.write(frame(out));
    },
    () => undefined,
  );
  stdin.on('data', (chunk: Buffer) => reader.push(chunk));
  return new Promise<number>((resolve) => {
    stdin.once('end', () => socket.end());
    socket.once('close', () => resolve(0));
    socket.once('error', () => resolve(1));
  });
}
