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
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { ThreadxError } from '../../schemas/errors.ts';
import { ErrorCodes } from '../../schemas/protocol.ts';
import type { Config } from '../../schemas/config.ts';
import { createDaemon, PRODUCT_VERSION, type Daemon } from './daemon.ts';
import { MessageReader, frame, streamTransport } from './framing.ts';
import {
  type DaemonLock,
  type DiscoveryInfo,
  type Endpoint,
  DISCOVERY_FILE,
  TOKEN_FILE,
  acquireDaemonLock,
  defaultSocketPath,
  describeEndpoint,
  readDiscovery,
  watchParent,
} from './lifecycle.ts';
import { messages } from './messages.ts';
import { lockedError, watchingMessage } from '../app/bank-lock.ts';
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
  const outcome = await acquireDaemonLock(dataDir, `threadx serve --${opts.mode}`, (o, ms) =>
    opts.report(watchingMessage(o, ms)),
  );
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
    // A signal may come as soon as the discovery file is visible, before start-up has finished:
    // it is kept and acted on once the daemon is serving, never left to kill the process.
    let serving = false;
    let early: string | null = null;
    const onSignal = (sig: string): void => {
      if (serving) void this.stop(0, `received ${sig}`);
      else early ??= sig;
    };
    process.once('SIGINT', () => onSignal('SIGINT'));
    process.once('SIGTERM', () => onSignal('SIGTERM'));
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
    serving = true;
    if (early) void this.stop(0, `received ${early}`);
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
      await removeStaleSocket(socketPath, this.dataDir);
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
    // Connections not yet authenticated, oldest first, with their eviction; and those evicted
    // to make room, parked (nothing read, nothing kept) until their deadline.
    const pending = new Map<net.Socket, { evict: () => void; deadline: number }>();
    const parked = new Set<net.Socket>();
    // Evictions are logged as a count, at most every 10 s: a flood must not become a log flood.
    let evictions = 0;
    let evictionLogged = 0;
    const noteEviction = (): void => {
      evictions++;
      if (Date.now() - evictionLogged < 10_000) return;
      this.daemon.logger.warn(
        `pre-auth slots full (${PRE_AUTH.maxConnections}): evicted ${evictions} unauthenticated tcp connection(s), the oldest first`,
      );
      evictions = 0;
      evictionLogged = Date.now();
    };
    const park = (socket: net.Socket, deadline: number): void => {
      // A parked connection is closed at its deadline, not at once: a client that reconnects
      // whenever it is closed would otherwise evict the next waiter at once, in a loop.
      parked.add(socket);
      socket.once('close', () => parked.delete(socket));
      setTimeout(() => socket.destroy(), Math.max(0, deadline - Date.now())).unref();
      if (parked.size > PRE_AUTH.maxParked) {
        const oldest = parked.values().next().value!;
        parked.delete(oldest);
        oldest.destroy();
      }
    };
    const srv = net.createServer((socket) => {
      socket.setNoDelay(true);
      // Before authentication a connection costs little: few at once, a few KiB, a few seconds,
      // and its first message must be an `initialize` with the token, else it is closed. When
      // every pre-auth slot is taken, the oldest waiter makes room: whoever holds slots open
      // without a token cannot keep the owner out, whose `initialize` follows its connect.
      if (pending.size >= PRE_AUTH.maxConnections) {
        const [oldest, entry] = pending.entries().next().value!;
        pending.delete(oldest);
        entry.evict();
        park(oldest, entry.deadline);
        noteEviction();
      }
      let evicted = false;
      const auth = authenticate(socket, token, (ok) => {
        pending.delete(socket);
        if (!ok) {
          if (evicted) return;
          this.daemon.logger.warn(
            `refused tcp ${socket.remoteAddress}:${socket.remotePort}: no valid initialize first`,
          );
          return;
        }
        this.daemon.server.connect(streamTransport(socket, socket), {
          token,
          label: `tcp ${socket.remoteAddress}:${socket.remotePort}`,
        });
        socket.resume();
      });
      pending.set(socket, {
        evict: () => {
          evicted = true;
          auth.evict();
        },
        deadline: Date.now() + PRE_AUTH.timeoutMs,
      });
      socket.once('close', () => pending.delete(socket));
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

/**
 * What an unauthenticated TCP connection may cost: at most this many at once (a new one evicts
 * the oldest), at most this many bytes, for at most this long.
 */
export const PRE_AUTH = {
  maxConnections: 16,
  maxBytes: 16 * 1024,
  timeoutMs: 2_000,
  /** Evicted connections held (unread) until their deadline, beyond which the oldest is closed. */
  maxParked: 256,
};

/**
 * Reads the first message of a TCP connection (at most `PRE_AUTH.maxBytes`, within
 * `PRE_AUTH.timeoutMs`). It must be an `initialize` request carrying the token: then every byte
 * read so far is put back and `done(true)` hands the socket to the server, which answers it.
 * Anything else (a wrong token, another method, garbage, too much, too slow) gets one error
 * answer when it had an id, and the connection is closed: no second attempt on it.
 */
function authenticate(
  socket: net.Socket,
  token: string,
  done: (ok: boolean) => void,
): { evict: () => void } {
  const chunks: Buffer[] = [];
  let bytes = 0;
  let finished = false;
  // Evicted: nothing more is read or kept, no answer; the caller parks or closes the socket.
  const evict = (): void => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    socket.off('data', onData);
    socket.pause();
    chunks.length = 0;
    done(false);
  };
  const finish = (ok: boolean, reply?: string): void => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    socket.off('data', onData);
    if (ok) {
      socket.pause();
      socket.unshift(Buffer.concat(chunks));
    } else {
      if (reply) socket.end(frame(reply));
      else socket.end();
      socket.destroySoon();
      setTimeout(() => socket.destroy(), 1_000).unref();
    }
    chunks.length = 0;
    done(ok);
  };
  const reader = new MessageReader(
    (text) => {
      const m = parseFirst(text);
      const good =
        m !== null &&
        m.method === 'initialize' &&
        typeof m.params?.token === 'string' &&
        tokensEqual(m.params.token, token);
      if (good) return finish(true);
      const id = m && (typeof m.id === 'number' || typeof m.id === 'string') ? m.id : null;
      finish(
        false,
        JSON.stringify({
          jsonrpc: '2.0',
          id,
          error: {
            code: ErrorCodes.Unauthorized,
            message: messages.unauthorized(),
            data: { reason: 'UNAUTHORIZED' },
          },
        }),
      );
    },
    () => finish(false),
    { maxMessageBytes: PRE_AUTH.maxBytes, maxHeaderBytes: 1024 },
  );
  const onData = (chunk: Buffer): void => {
    bytes += chunk.length;
    if (bytes > PRE_AUTH.maxBytes) return finish(false);
    chunks.push(chunk);
    reader.push(chunk);
  };
  const timer = setTimeout(() => finish(false), PRE_AUTH.timeoutMs);
  timer.unref();
  socket.on('data', onData);
  socket.once('error', () => finish(false));
  socket.once('close', () => finish(false));
  return { evict };
}

function parseFirst(
  text: string,
): { id?: unknown; method?: unknown; params?: { token?: unknown } } | null {
  try {
    const m = JSON.parse(text) as unknown;
    return m !== null && typeof m === 'object' && !Array.isArray(m) ? (m as never) : null;
  } catch {
    return null;
  }
}

function tokensEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Removes a socket file that nobody listens on any more and that a daemon of this data directory
 * made (a daemon that crashed: its discovery file still names the socket). Anything else at that
 * path (a regular file, a folder, a link, someone else's socket, a dead socket another program
 * left) is refused, never removed.
 */
async function removeStaleSocket(socketPath: string, dataDir: string): Promise<void> {
  let st: import('node:fs').Stats;
  try {
    st = await fsp.lstat(socketPath);
  } catch {
    return;
  }
  const uid = typeof process.getuid === 'function' ? process.getuid() : st.uid;
  if (!st.isSocket() || st.uid !== uid) {
    throw new ThreadxError(
      'BAD_INPUT',
      `${socketPath} exists and is not a socket of this user's; the daemon removes only a stale socket of its own.`,
      'Pass another --socket path (a new file name), or move that file away if you do not need it.',
      { path: socketPath },
    );
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
  const ours = (await readDiscovery(dataDir))?.endpoint;
  if (ours?.kind !== 'socket' || path.resolve(ours.path) !== socketPath) {
    throw new ThreadxError(
      'BAD_INPUT',
      `${socketPath} is a socket that no daemon of ${dataDir} made (its discovery file ${DISCOVERY_FILE} does not name it), so it is left alone.`,
      `Serve on another path ("threadx serve --socket ${path.join(path.dirname(socketPath), 'threadx.sock')} --data-dir ${dataDir}"), or remove ${socketPath} yourself if no program needs it.`,
      { path: socketPath },
    );
  }
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
