/**
 * The TypeScript client of the daemon, typed by the protocol declarations: method names, params
 * and results are checked at compile time, and nothing else is needed to talk to a daemon over a
 * child process's stdio, a Unix socket or a port.
 *
 * ```ts
 * const child = spawn('threadx', ['serve', '--stdio', '--join', '--data-dir', dir]);
 * const client = ThreadxClient.overStreams(child.stdout, child.stdin);
 * await client.initialize({ clientInfo: { name: 'my-tool' } });
 * const { datasets } = await client.request('registry/list', {});
 * const run = client.request('ingest/run', { symbols: ['BTCUSDC'], start: '2024-01-01' }, {
 *   signal: AbortSignal.timeout(60_000),
 *   onProgress: (p) => console.log(p.kind, p.percentage, p.message),
 * });
 * ```
 *
 * Importable by the extension: it depends on zod (through the protocol), Buffer and streams;
 * sockets and child processes are loaded only by the functions that use them.
 */
import { type ErrorCodeName, ERRORS, ThreadxError, isErrorCode } from '../../schemas/errors.ts';
import type { Readable, Writable } from 'node:stream';
import {
  type ClientNotificationMethod,
  type DaemonNotificationMethod,
  type ErrorData,
  type NotificationParams,
  type Params,
  type ProgressToken,
  type RequestMethod,
  type Result,
  type WorkDoneProgress,
  ErrorCodes,
  PROTOCOL_VERSION,
  REQUESTS,
} from '../../schemas/protocol.ts';
import { type MessageTransport, type ReaderOptions, streamTransport } from './framing.ts';

/**
 * An error answer of the daemon, as the one error model: `code` is the failure's stable code
 * (`data.reason`), `rpcCode` the JSON-RPC code (one of `ErrorCodes`), `data` the error's data.
 */
export class ResponseError extends ThreadxError {
  override readonly name = 'ResponseError';
  constructor(
    readonly rpcCode: number,
    message: string,
    readonly data?: ErrorData,
  ) {
    super(codeOfAnswer(rpcCode, data?.reason), message, data?.hint, {
      ...(data?.details ?? {}),
      ...(data?.issues ? { issues: data.issues } : {}),
      ...(data?.retryAfterMs !== undefined ? { retryAfterMs: data.retryAfterMs } : {}),
      ...(data?.symbol ? { symbol: data.symbol } : {}),
      ...(data?.dataset ? { dataset: data.dataset } : {}),
    });
  }

  get cancelled(): boolean {
    return this.rpcCode === ErrorCodes.RequestCancelled;
  }
}

/** The stable code of an answer: its `reason` when the table knows it, else by JSON-RPC code. */
function codeOfAnswer(rpcCode: number, reason: string | undefined): ErrorCodeName {
  if (reason && isErrorCode(reason)) return reason;
  const byRpc = (Object.keys(ERRORS) as ErrorCodeName[]).find((c) => ERRORS[c].rpc === rpcCode);
  return byRpc ?? 'INTERNAL';
}

/** The connection closed before the answer arrived. */
export class ConnectionClosedError extends ThreadxError {
  override readonly name = 'ConnectionClosedError';
  constructor(method: string) {
    super(
      'DAEMON_UNAVAILABLE',
      `the connection to the daemon closed before ${method} answered`,
      'Check the daemon log, then run the command again (a new daemon starts if none runs).',
    );
  }
}

export interface RequestOptions {
  /** Aborting sends `$/cancelRequest`; the promise then rejects with the daemon's answer. */
  signal?: AbortSignal;
  /** Progress of the request: a `workDoneToken` is added to the params for it. */
  onProgress?: (value: WorkDoneProgress) => void;
  /** Check the result against the protocol's schema (tests, strict clients). */
  validate?: boolean;
}

interface Pending {
  method: string;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  cleanup: () => void;
}

export interface Disposable {
  dispose(): void;
}

export class ThreadxClient {
  private nextId = 1;
  private nextToken = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly progress = new Map<ProgressToken, (value: WorkDoneProgress) => void>();
  private readonly handlers = new Map<string, Set<(params: unknown) => void>>();
  private readonly closeListeners = new Set<() => void>();
  private closed = false;
  /** Framing or JSON errors in what the daemon sent (should never happen). */
  readonly protocolErrors: string[] = [];

  constructor(private readonly transport: MessageTransport) {
    transport.onMessage((text) => this.receive(text));
    transport.onError((e) => this.protocolErrors.push(e.message));
    transport.onClose(() => this.onClosed());
  }

  /** A client over a pair of streams (a child's stdout/stdin, a socket, a test's PassThroughs). */
  static overStreams(input: Readable, output: Writable, opts?: ReaderOptions): ThreadxClient {
    return new ThreadxClient(streamTransport(input, output, opts));
  }

  /** Connects to a daemon's Unix socket (or Windows named pipe). */
  static async connectSocket(path: string): Promise<ThreadxClient> {
    const net = await import('node:net');
    const socket = net.createConnection({ path });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return ThreadxClient.overStreams(socket, socket);
  }

  /** Connects to a daemon's TCP port on 127.0.0.1; pass the token in `initialize`. */
  static async connectPort(port: number, host = '127.0.0.1'): Promise<ThreadxClient> {
    const net = await import('node:net');
    const socket = net.createConnection({ port, host });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    socket.setNoDelay(true);
    return ThreadxClient.overStreams(socket, socket);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * `initialize` with sensible defaults. Rejects when the daemon speaks another major version of
   * the protocol.
   */
  async initialize(params: Params<'initialize'> = {}): Promise<Result<'initialize'>> {
    const result = await this.request('initialize', {
      protocolVersion: PROTOCOL_VERSION,
      processId: typeof process === 'object' ? process.pid : null,
      capabilities: { progress: true, registryChanged: true },
      ...params,
    });
    const major = (v: string): string => v.split('.')[0];
    if (major(result.protocolVersion) !== major(PROTOCOL_VERSION)) {
      throw new Error(
        `the daemon speaks protocol ${result.protocolVersion}, this client ${PROTOCOL_VERSION}`,
      );
    }
    return result;
  }

  /** Sends a request and resolves with its result; rejects with a `ResponseError`. */
  request<M extends RequestMethod>(
    method: M,
    params: Params<M>,
    opts: RequestOptions = {},
  ): Promise<Result<M>> {
    if (this.closed) return Promise.reject(new ConnectionClosedError(method));
    const id = this.nextId++;
    let sent: unknown = params;
    let token: ProgressToken | undefined;
    if (opts.onProgress) {
      token = `p${this.nextToken++}`;
      this.progress.set(token, opts.onProgress);
      sent = { ...(params as object), workDoneToken: token };
    }
    return new Promise<Result<M>>((resolve, reject) => {
      const onAbort = (): void => {
        this.notify('$/cancelRequest', { id });
      };
      const cleanup = (): void => {
        opts.signal?.removeEventListener('abort', onAbort);
        // The daemon sends a request's last `$/progress` before its answer.
        if (token !== undefined) this.progress.delete(token);
      };
      this.pending.set(id, {
        method,
        resolve: (value) => {
          if (opts.validate) {
            const checked = REQUESTS[method].result.safeParse(value);
            if (!checked.success) {
              reject(
                new Error(
                  `${method}: result does not match the protocol: ${checked.error.message}`,
                ),
              );
              return;
            }
          }
          resolve(value as Result<M>);
        },
        reject,
        cleanup,
      });
      if (opts.signal?.aborted) {
        // Still send it, so that the daemon answers `RequestCancelled` in order.
        queueMicrotask(onAbort);
      } else {
        opts.signal?.addEventListener('abort', onAbort, { once: true });
      }
      this.transport.send(
        JSON.stringify({
          jsonrpc: '2.0',
          id,
          method,
          ...(sent === undefined ? {} : { params: sent }),
        }),
      );
    });
  }

  notify<M extends ClientNotificationMethod>(method: M, params?: NotificationParams<M>): void {
    if (this.closed) return;
    this.transport.send(
      JSON.stringify({ jsonrpc: '2.0', method, ...(params === undefined ? {} : { params }) }),
    );
  }

  /** Listens to a notification of the daemon (`registry/changed`, `log/message` ...). */
  onNotification<M extends DaemonNotificationMethod>(
    method: M,
    handler: (params: NotificationParams<M>) => void,
  ): Disposable {
    let set = this.handlers.get(method);
    if (!set) {
      set = new Set();
      this.handlers.set(method, set);
    }
    const h = handler as (params: unknown) => void;
    set.add(h);
    return { dispose: () => set.delete(h) };
  }

  onClose(listener: () => void): Disposable {
    if (this.closed) {
      listener();
      return { dispose: () => undefined };
    }
    this.closeListeners.add(listener);
    return { dispose: () => this.closeListeners.delete(listener) };
  }

  /**
   * LSP's polite stop: `shutdown`, then `exit`, then close. Resolves when the daemon has closed
   * the connection or `timeoutMs` has passed.
   */
  async stop(timeoutMs = 5000): Promise<void> {
    if (this.closed) return;
    const closed = new Promise<void>((resolve) => this.onClose(resolve));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    try {
      await Promise.race([this.request('shutdown', undefined), timeout]);
      this.notify('exit');
      await Promise.race([closed, timeout]);
    } catch {
      // Already gone.
    } finally {
      clearTimeout(timer);
      this.close();
    }
  }

  /** Closes the connection; pending requests reject with `ConnectionClosedError`. */
  close(): void {
    this.transport.close();
    this.onClosed();
  }

  private onClosed(): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.pending.values()) {
      p.cleanup();
      p.reject(new ConnectionClosedError(p.method));
    }
    this.pending.clear();
    for (const l of this.closeListeners) l();
    this.closeListeners.clear();
  }

  private receive(text: string): void {
    let msg: {
      id?: unknown;
      method?: unknown;
      params?: unknown;
      result?: unknown;
      error?: { code: number; message: string; data?: ErrorData };
    };
    try {
      msg = JSON.parse(text) as typeof msg;
    } catch {
      this.protocolErrors.push(`not JSON: ${text.slice(0, 100)}`);
      return;
    }
    if (typeof msg.method === 'string') {
      if (msg.method === '$/progress') {
        const p = msg.params as { token: ProgressToken; value: WorkDoneProgress };
        this.progress.get(p.token)?.(p.value);
      }
      for (const h of this.handlers.get(msg.method) ?? []) {
        try {
          h(msg.params);
        } catch {
          // A listener's bug must not break the connection.
        }
      }
      return;
    }
    if (typeof msg.id !== 'number') {
      if (msg.error) this.protocolErrors.push(`${msg.error.code}: ${msg.error.message}`);
      return;
    }
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    p.cleanup();
    if (msg.error) p.reject(new ResponseError(msg.error.code, msg.error.message, msg.error.data));
    else p.resolve(msg.result);
  }
}
