/**
 * The transport-independent JSON-RPC server. A `Connection` owns one message channel (stdio, a
 * socket, paired streams in a test); the `RpcServer` owns the handlers and every connection, so
 * `registry/changed` reaches all clients and `shutdown` can cancel every running job.
 *
 * Every message goes through the same gate, in this order: framing (size cap, garbage), JSON,
 * envelope (JSON-RPC 2.0, no batches), lifecycle (initialize first, nothing after shutdown),
 * method lookup, params validated by the method's zod schema (issues path by path), then the
 * handler, whose thrown errors are mapped to protocol codes in `errors.ts`. Hostile input gets a
 * well-formed error and never reaches a handler, and nothing a client sends can crash the process.
 */
import { EventEmitter } from 'node:events';
import { timingSafeEqual } from 'node:crypto';
import {
  JSONRPCErrorException,
  JSONRPCServer,
  type JSONRPCID,
  type JSONRPCResponse,
} from 'json-rpc-2.0';
import {
  type DaemonNotificationMethod,
  type NotificationParams,
  type ParsedParams,
  type ProgressToken,
  type RequestMethod,
  type Result,
  type SymbolProgress,
  type WorkDoneProgress,
  CancelRequest,
  ErrorCodes,
  Initialize,
  PROTOCOL_VERSION,
  REQUESTS,
  isNotificationMethod,
  isRequestMethod,
  toParamIssues,
} from '../../schemas/protocol.ts';
import { type RpcErrorObject, cancelledError, invalidParams, toRpcError } from './errors.ts';
import { type ErrorCodeName, ThreadxError } from '../../schemas/errors.ts';
import type { FramingError, MessageTransport } from './framing.ts';
import type { Logger } from './logger.ts';
import { messages } from './messages.ts';

/**
 * A result already serialised to JSON. A handler whose answer is large and rarely changes (the
 * full registry list) returns this from a cache, and the connection splices it into the response
 * instead of serialising the same megabytes again.
 */
export class RawJson {
  constructor(readonly json: string) {}
}

/** What a handler knows about the request it serves. */
export interface RequestContext {
  readonly id: JSONRPCID;
  readonly method: RequestMethod;
  /** Fires on `$/cancelRequest`, on shutdown, and when the connection closes. */
  readonly signal: AbortSignal;
  readonly connection: Connection;
  /** Work-done progress for the request's `workDoneToken`; does nothing without one. */
  readonly progress: WorkDone;
}

export type Handler<M extends RequestMethod> = (
  params: ParsedParams<M>,
  ctx: RequestContext,
) => Promise<Result<M>> | Result<M>;

/** The handlers the daemon provides; `initialize` and `shutdown` belong to the server. */
export type Handlers = {
  [M in Exclude<RequestMethod, 'initialize' | 'shutdown'>]?: Handler<M>;
};

export interface ServerInfo {
  version: string;
  dataDir: string;
  ingest: boolean;
  indicators: boolean;
}

export interface ServerOptions {
  handlers: Handlers;
  logger: Logger;
  info: ServerInfo;
  /** Requests running at once on one connection before `Busy` (default 256). */
  maxInFlight?: number;
  /** A client that stops reading is cut off when this many bytes wait for it (default 64 MB). */
  maxPendingBytes?: number;
  /** Called by `shutdown` after every job was cancelled and has settled. */
  onShutdown?: () => Promise<void>;
  /** Called once a connection's `initialize` has been answered. */
  onInitialized?: () => void;
}

export interface ConnectionOptions {
  /** When set, `initialize` must carry this token (port transport). */
  token?: string;
  /** For logs: where the client came from. */
  label?: string;
  /** The owner connection (stdio of the process that started the daemon). */
  owner?: boolean;
}

interface Running {
  method: RequestMethod;
  controller: AbortController;
  progress: WorkDone;
  done?: Promise<void>;
}

/**
 * The events of the server: `connection` and `disconnect` (with the connection), `exit` with a
 * process exit code when a client asked for it, `idle` when the last connection closed.
 */
export class RpcServer extends EventEmitter {
  readonly connections = new Set<Connection>();
  readonly logger: Logger;
  readonly info: ServerInfo;
  private readonly jsonrpc: JSONRPCServer<RequestContext>;
  private readonly opts: ServerOptions;
  private shuttingDown: Promise<void> | null = null;

  constructor(opts: ServerOptions) {
    super();
    this.opts = opts;
    this.logger = opts.logger;
    this.info = opts.info;
    this.jsonrpc = new JSONRPCServer<RequestContext>({
      errorListener: (message, error) => {
        // Expected failures (bad symbol, not found, cancelled) arrive here as exceptions too.
        if (!(error instanceof JSONRPCErrorException)) this.logger.error(message, error);
      },
    });
    // Handlers map their errors themselves; this catches what escapes them.
    this.jsonrpc.mapErrorToJSONRPCErrorResponse = (id, error) => {
      if (error instanceof JSONRPCErrorException) {
        return {
          jsonrpc: '2.0',
          id,
          error: { code: error.code, message: error.message, data: error.data },
        };
      }
      return { jsonrpc: '2.0', id, error: toRpcError(error) };
    };
    this.jsonrpc.addMethod('initialize', (params, ctx) =>
      ctx.connection.initialize(params as ParsedParams<'initialize'>),
    );
    this.jsonrpc.addMethod('shutdown', (_params, ctx) => this.shutdownFrom(ctx.connection));
    for (const [method, handler] of Object.entries(opts.handlers)) {
      const h = handler as Handler<RequestMethod>;
      this.jsonrpc.addMethod(method, async (params, ctx) => {
        try {
          return await h(params as never, ctx);
        } catch (e) {
          throw asException(ctx.signal.aborted ? cancelledOr(e) : toRpcError(e, method));
        }
      });
    }
  }

  get maxInFlight(): number {
    return this.opts.maxInFlight ?? 256;
  }
  get maxPendingBytes(): number {
    return this.opts.maxPendingBytes ?? 64 * 1024 * 1024;
  }
  get isShuttingDown(): boolean {
    return this.shuttingDown !== null;
  }

  /** Methods this server answers. */
  methods(): string[] {
    return Object.keys(REQUESTS).filter((m) => this.jsonrpc.hasMethod(m));
  }

  connect(transport: MessageTransport, opts: ConnectionOptions = {}): Connection {
    const conn = new Connection(this, transport, opts);
    this.connections.add(conn);
    this.logger.info(`client connected (${conn.label})`);
    this.emit('connection', conn);
    transport.onClose(() => {
      if (!this.connections.delete(conn)) return;
      // Its requests are cancelled; nobody waits for them, their answers have nowhere to go.
      void conn.abortAll(false);
      this.logger.info(`client disconnected (${conn.label})`);
      this.emit('disconnect', conn);
      if (this.connections.size === 0) this.emit('idle');
    });
    return conn;
  }

  /** Sends a notification to every initialized connection. */
  broadcast<M extends DaemonNotificationMethod>(method: M, params: NotificationParams<M>): void {
    for (const c of this.connections) {
      if (c.initialized && !(method === 'registry/changed' && !c.wantsRegistryChanged)) {
        c.notify(method, params);
      }
    }
  }

  /** @internal Runs a validated request through json-rpc-2.0 and the handler. */
  dispatch(
    id: JSONRPCID,
    method: RequestMethod,
    params: unknown,
    ctx: RequestContext,
  ): PromiseLike<JSONRPCResponse | null> {
    return this.jsonrpc.receive({ jsonrpc: '2.0', id, method, params: params as never }, ctx);
  }

  /**
   * Cancels every running request and waits for them to settle (their writes finish or roll
   * back), then runs the daemon's own shutdown. Idempotent.
   */
  /** Runs the daemon's `onInitialized` hook once, for the first initialized connection. */
  onInitialized(): void {
    if (this.initializedOnce) return;
    this.initializedOnce = true;
    this.opts.onInitialized?.();
  }
  private initializedOnce = false;

  shutdown(): Promise<void> {
    this.shuttingDown ??= (async () => {
      this.logger.info('shutting down: cancelling running requests');
      const settled = [...this.connections].map((c) => c.abortAll(true));
      await Promise.all(settled);
      await this.opts.onShutdown?.();
      this.logger.info('shutdown complete');
    })();
    return this.shuttingDown;
  }

  private async shutdownFrom(conn: Connection): Promise<null> {
    conn.shutdownRequested = true;
    const others = [...this.connections].filter((c) => c !== conn && c.initialized);
    if (others.length === 0) {
      // Our own request is in flight too: cancel the others only.
      await this.shutdown();
    }
    return null;
  }

  /** @internal `exit` arrived on `conn`. */
  exitFrom(conn: Connection): void {
    const others = [...this.connections].filter((c) => c !== conn && c.initialized);
    conn.close();
    if (others.length > 0 && !this.isShuttingDown) return;
    this.emit('exit', conn.shutdownRequested ? 0 : 1);
  }
}

function asException(e: RpcErrorObject): JSONRPCErrorException {
  return new JSONRPCErrorException(e.message, e.code, e.data);
}

function cancelledOr(e: unknown): RpcErrorObject {
  const mapped = toRpcError(e);
  // A handler that noticed the abort may throw anything; report it as the cancellation it is,
  // unless it failed for a reason of its own that the client should see.
  return mapped.code === ErrorCodes.InternalError || mapped.code === ErrorCodes.StorageError
    ? toRpcError(cancelledError())
    : mapped.code === ErrorCodes.RequestCancelled
      ? mapped
      : toRpcError(cancelledError());
}

let connectionCounter = 0;

/** One client. */
export class Connection {
  readonly label: string;
  initialized = false;
  shutdownRequested = false;
  wantsRegistryChanged = true;
  clientName = 'unknown';
  /** The client's process id from `initialize` (LSP: the daemon exits when it dies). */
  processId: number | null = null;
  /** Requests in flight by id, for `$/cancelRequest`. */
  private readonly running = new Map<JSONRPCID, Running>();
  /** Every request in flight (ids may be null). */
  private readonly inflight = new Set<Running>();
  private closed = false;
  private unsubscribeLogs: (() => void) | null = null;

  constructor(
    readonly server: RpcServer,
    private readonly transport: MessageTransport,
    private readonly opts: ConnectionOptions,
  ) {
    this.label = opts.label ?? `connection ${++connectionCounter}`;
    transport.onMessage((text) => this.receive(text));
    transport.onError((err) => this.framingError(err));
  }

  get isOwner(): boolean {
    return this.opts.owner === true;
  }
  get inFlight(): number {
    return this.inflight.size;
  }

  notify<M extends DaemonNotificationMethod>(method: M, params: NotificationParams<M>): void {
    this.send({ jsonrpc: '2.0', method, params });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.unsubscribeLogs?.();
    this.transport.close();
  }

  /** Subscribes this connection to log lines (replacing an earlier subscription). */
  subscribeLogs(listener: ((level: string, time: number, message: string) => void) | null): void {
    this.unsubscribeLogs?.();
    this.unsubscribeLogs = null;
    if (!listener) return;
    this.unsubscribeLogs = this.server.logger.subscribe((r) =>
      listener(r.level, r.time, r.message),
    );
  }

  /** Cancels every request of this connection; resolves when they have all answered. */
  abortAll(byShutdown: boolean): Promise<void> {
    const waits: Promise<void>[] = [];
    for (const r of this.inflight) {
      // The `shutdown` request that asked for this is not one of the jobs to cancel.
      if (r.method === 'shutdown') continue;
      r.controller.abort(byShutdown ? 'shutdown' : 'closed');
      if (r.done) waits.push(r.done);
    }
    if (!byShutdown) this.unsubscribeLogs?.();
    return Promise.all(waits).then(() => undefined);
  }

  /** @internal */
  initialize(params: ParsedParams<'initialize'>): Result<'initialize'> {
    if (this.initialized) {
      throw asException(
        toRpcError(new ThreadxError('INVALID_REQUEST', messages.alreadyInitialized())),
      );
    }
    if (this.opts.token !== undefined && !sameToken(params.token, this.opts.token)) {
      this.server.logger.warn(`refused ${this.label}: wrong or missing token`);
      // Answer, then hang up: the client learns why, and gets no second try on this socket.
      setImmediate(() => this.close());
      throw asException(toRpcError(new ThreadxError('UNAUTHORIZED', messages.unauthorized())));
    }
    this.initialized = true;
    this.clientName = params.clientInfo
      ? `${params.clientInfo.name}${params.clientInfo.version ? ` ${params.clientInfo.version}` : ''}`
      : 'unknown';
    this.wantsRegistryChanged = params.capabilities?.registryChanged !== false;
    this.processId = params.processId ?? null;
    this.server.logger.info(`initialized ${this.label} for ${this.clientName}`);
    // After the answer is on its way: work that may compete with it for the CPU.
    setImmediate(() => this.server.onInitialized());
    const info = this.server.info;
    return {
      protocolVersion: PROTOCOL_VERSION,
      serverInfo: { name: 'threadx-data', version: info.version },
      dataDir: info.dataDir,
      pid: process.pid,
      capabilities: {
        progress: true,
        cancellation: true,
        registryChanged: true,
        logs: true,
        ingest: info.ingest,
        indicators: info.indicators,
        methods: this.server.methods(),
      },
    };
  }

  private send(message: unknown): void {
    if (this.closed) return;
    if (this.transport.pendingBytes > this.server.maxPendingBytes) {
      this.server.logger.warn(`${this.label} stopped reading; closing it`);
      this.close();
      return;
    }
    let text: string;
    try {
      const m = message as { id?: unknown; result?: unknown };
      text =
        m.result instanceof RawJson
          ? `{"jsonrpc":"2.0","id":${JSON.stringify(m.id)},"result":${m.result.json}}`
          : JSON.stringify(message);
    } catch (e) {
      this.server.logger.error('cannot serialise a message', e);
      return;
    }
    this.transport.send(text);
  }

  private sendError(id: JSONRPCID, code: ErrorCodeName, message: string): void {
    this.sendErrorObject(id, toRpcError(new ThreadxError(code, message)));
  }

  private framingError(err: FramingError): void {
    this.server.logger.debug(`${this.label}: ${err.message}`);
    this.sendErrorObject(
      null,
      toRpcError(
        new ThreadxError('PARSE_ERROR', messages.framingError(err.message), undefined, {
          framing: err.reason,
        }),
      ),
    );
  }

  private receive(text: string): void {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch (e) {
      this.sendError(null, 'PARSE_ERROR', messages.parseError((e as Error).message));
      return;
    }
    try {
      this.route(msg);
    } catch (e) {
      // A bug in routing must cost one message, not the daemon.
      this.server.logger.error('failed to route a message', e);
      const id = idOf(msg);
      this.sendError(id ?? null, 'INTERNAL', 'routing');
    }
  }

  private route(msg: unknown): void {
    if (Array.isArray(msg)) {
      this.sendError(null, 'INVALID_REQUEST', messages.batchUnsupported());
      return;
    }
    if (typeof msg !== 'object' || msg === null) {
      this.invalid(null, 'expected an object');
      return;
    }
    const m = msg as Record<string, unknown>;
    const hasId = Object.prototype.hasOwnProperty.call(m, 'id');
    const id = idOf(m);
    if (hasId && id === undefined) {
      this.invalid(null, 'id must be a string, an integer or null');
      return;
    }
    if (m.jsonrpc !== '2.0') {
      this.invalid(id ?? null, 'jsonrpc must be "2.0"');
      return;
    }
    if (!Object.prototype.hasOwnProperty.call(m, 'method')) {
      // A response: the daemon sends no requests, so there is nothing to match it with.
      if ('result' in m || 'error' in m) return;
      this.invalid(id ?? null, 'no method');
      return;
    }
    if (typeof m.method !== 'string') {
      this.invalid(id ?? null, 'method must be a string');
      return;
    }
    if (m.params !== undefined && (typeof m.params !== 'object' || Array.isArray(m.params))) {
      if (hasId) {
        this.sendErrorObject(
          id ?? null,
          toRpcError(invalidParams(m.method, [{ path: [], message: 'params must be an object' }])),
        );
      }
      return;
    }
    if (!hasId) this.notification(m.method, m.params);
    else this.request(id ?? null, m.method, m.params);
  }

  private invalid(id: JSONRPCID, why: string): void {
    this.sendError(id, 'INVALID_REQUEST', messages.invalidRequest(why));
  }

  private sendErrorObject(id: JSONRPCID, e: RpcErrorObject): void {
    this.send({ jsonrpc: '2.0', id, error: e });
  }

  private notification(method: string, params: unknown): void {
    if (method === 'exit') {
      this.server.exitFrom(this);
      return;
    }
    if (!isNotificationMethod(method) || !this.initialized) return;
    if (method === CancelRequest.method) {
      const parsed = CancelRequest.params.safeParse(params);
      if (parsed.success) this.running.get(parsed.data.id)?.controller.abort('cancelled');
      return;
    }
  }

  private request(id: JSONRPCID, method: string, params: unknown): void {
    if (!isRequestMethod(method)) {
      this.sendError(id, 'METHOD_NOT_FOUND', messages.methodNotFound(method));
      return;
    }
    if (!this.initialized && method !== Initialize.method) {
      this.sendError(id, 'NOT_INITIALIZED', messages.notInitialized(method));
      return;
    }
    if (this.shutdownRequested || (this.server.isShuttingDown && method !== 'shutdown')) {
      this.sendError(id, 'INVALID_REQUEST', messages.shuttingDown(method));
      return;
    }
    if (!this.server.methods().includes(method)) {
      this.sendError(id, 'METHOD_NOT_FOUND', messages.unavailable(method));
      return;
    }
    if (id !== null && this.running.has(id)) {
      this.sendError(id, 'INVALID_REQUEST', messages.duplicateId(id));
      return;
    }
    if (this.inflight.size >= this.server.maxInFlight) {
      this.sendError(id, 'BUSY', messages.tooManyRequests(this.server.maxInFlight));
      return;
    }
    const parsed = REQUESTS[method].params.safeParse(params);
    if (!parsed.success) {
      this.sendErrorObject(id, toRpcError(invalidParams(method, toParamIssues(parsed.error))));
      return;
    }
    const controller = new AbortController();
    const token = (parsed.data as { workDoneToken?: ProgressToken } | null | undefined)
      ?.workDoneToken;
    const progress = new WorkDone(this, token);
    const running: Running = { method, controller, progress };
    if (id !== null) this.running.set(id, running);
    this.inflight.add(running);
    const ctx: RequestContext = {
      id,
      method,
      signal: controller.signal,
      connection: this,
      progress,
    };
    const started = performance.now();
    const done = Promise.resolve(this.server.dispatch(id, method, parsed.data, ctx))
      .then(
        (response) => {
          progress.finish();
          if (response) this.send(response);
          const ms = performance.now() - started;
          if (ms > 1000) this.server.logger.info(`${method} took ${Math.round(ms)} ms`);
        },
        (e: unknown) => {
          progress.finish();
          this.server.logger.error(`${method} failed outside its handler`, e);
          this.sendErrorObject(id, toRpcError(e, method));
        },
      )
      .finally(() => {
        if (id !== null && this.running.get(id) === running) this.running.delete(id);
        this.inflight.delete(running);
      });
    running.done = done;
  }
}

function idOf(m: unknown): JSONRPCID | undefined {
  if (typeof m !== 'object' || m === null || Array.isArray(m)) return undefined;
  const id = (m as { id?: unknown }).id;
  if (id === null) return null;
  if (typeof id === 'string' && id.length <= 200) return id;
  if (typeof id === 'number' && Number.isSafeInteger(id)) return id;
  return undefined;
}

function sameToken(given: string | undefined, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * LSP work-done progress for one request. `report` is throttled: a notification goes out when the
 * whole percentage changes or 100 ms have passed, so a job may call it for every item.
 */
export class WorkDone {
  private state: 'idle' | 'begun' | 'ended' = 'idle';
  private lastPercent = -1;
  private lastAt = 0;
  /** Symbol states not sent yet (held back by the throttle). */
  private readonly pending = new Map<string, SymbolProgress>();

  constructor(
    private readonly connection: Connection,
    readonly token: ProgressToken | undefined,
  ) {}

  get enabled(): boolean {
    return this.token !== undefined;
  }

  begin(title: string, message?: string, cancellable = true): void {
    if (this.token === undefined || this.state !== 'idle') return;
    this.state = 'begun';
    this.lastAt = performance.now();
    this.lastPercent = 0;
    this.send({
      kind: 'begin',
      title,
      cancellable,
      percentage: 0,
      ...(message ? { message } : {}),
    });
  }

  /**
   * Reports `done` of `total` (or a bare message when total is 0), with the per-symbol states
   * that changed. Reports are throttled to ten a second; symbol states held back by the throttle
   * go out with the next report (or before `end`), so a client never misses a symbol's last state.
   */
  report(done: number, total: number, message?: string, symbols?: SymbolProgress[]): void {
    if (this.token === undefined || this.state !== 'begun') return;
    for (const s of symbols ?? []) this.pending.set(s.symbol, s);
    const percentage =
      total > 0 ? Math.max(0, Math.min(100, Math.floor((done / total) * 100))) : undefined;
    const now = performance.now();
    if (percentage === this.lastPercent && now - this.lastAt < 100) return;
    if (percentage === undefined && now - this.lastAt < 100) return;
    this.lastAt = now;
    if (percentage !== undefined) this.lastPercent = percentage;
    this.sendReport(percentage, message);
  }

  private sendReport(percentage: number | undefined, message?: string): void {
    const symbols = [...this.pending.values()];
    this.pending.clear();
    this.send({
      kind: 'report',
      ...(percentage !== undefined ? { percentage } : {}),
      ...(message ? { message } : {}),
      ...(symbols.length ? { symbols } : {}),
    });
  }

  end(message?: string): void {
    if (this.token === undefined || this.state !== 'begun') return;
    if (this.pending.size) this.sendReport(this.lastPercent >= 0 ? this.lastPercent : undefined);
    this.state = 'ended';
    this.send({ kind: 'end', ...(message ? { message } : {}) });
  }

  /** @internal Called when the request answered: a begun progress always gets its end. */
  finish(): void {
    this.end();
  }

  private send(value: WorkDoneProgress): void {
    if (this.token === undefined) return;
    this.connection.notify('$/progress', { token: this.token, value });
  }
}
