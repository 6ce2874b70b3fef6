import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';
import { MINUTE_MS } from '../../schemas/intervals.ts';
import { type Kline, openCandle } from './data.ts';
import { type FaultPlan, type FaultSpec, WS_FAULT_KINDS } from './faults.ts';

/**
 * The replay exchange's market streams: Binance's kline WebSocket protocol (`/ws/<stream>`,
 * combined `/stream?streams=a@kline_1m/b@kline_1m`, SUBSCRIBE / UNSUBSCRIBE), driven by the
 * exchange's market clock. At each minute's close every subscribed stream receives the minute's
 * final event (`k.x` true), and between closes a running update of the open minute every
 * `updateMs` of market time. The server pings, drops a connection that does not answer, and
 * closes every connection at its maximum age, as Binance does after 24 h. Faults (`ws*`) drop,
 * delay, duplicate or falsify finals, cut sockets and silence them.
 */

export interface StreamOptions {
  /** How often (real ms) the server looks at the market clock (default 100). */
  tickMs?: number;
  /** Market ms between two running updates of a stream (default 2000, as Binance). */
  updateMs?: number;
  /** Real ms between pings (default 20 000). */
  pingMs?: number;
  /** A connection that has not answered a ping for this long (real ms) is dropped (60 000). */
  pongTimeoutMs?: number;
  /** Maximum age of a connection (real ms), then it is closed (default 24 h). */
  maxAgeMs?: number;
  /** Most streams a connection may carry (default 1024). */
  maxStreams?: number;
}

export interface StreamStats {
  connections: number;
  open: number;
  finals: number;
  updates: number;
}

/** What the stream needs from the exchange: its clock, its minutes, its faults. */
export interface StreamSource {
  /** The newest instant klines exist for (the market clock minus any kline lag). */
  now(): number;
  /** The kline of `symbol` opening at `t`, or undefined (unknown symbol, outage, not listed). */
  minute(symbol: string, t: number): Kline | undefined;
  faults: FaultPlan;
  countFault(kind: string): void;
}

const STREAM_RE = /^([a-z0-9]{2,20})@kline_1m$/;

interface Conn {
  ws: WebSocket;
  path: string;
  combined: boolean;
  /** Stream name → the last minute whose final was handled and the last running update. */
  streams: Map<string, { symbol: string; lastFinal: number; lastUpdate: number }>;
  opened: number;
  lastPong: number;
  silent: boolean;
  timers: Set<NodeJS.Timeout>;
}

export class ReplayStreams {
  readonly stats: StreamStats = { connections: 0, open: 0, finals: 0, updates: 0 };
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly conns = new Set<Conn>();
  private readonly tick: NodeJS.Timeout;
  private readonly ping: NodeJS.Timeout;
  private readonly opts: Required<StreamOptions>;

  constructor(
    private readonly src: StreamSource,
    opts: StreamOptions = {},
  ) {
    this.opts = {
      tickMs: opts.tickMs ?? 100,
      updateMs: opts.updateMs ?? 2000,
      pingMs: opts.pingMs ?? 20_000,
      pongTimeoutMs: opts.pongTimeoutMs ?? 60_000,
      maxAgeMs: opts.maxAgeMs ?? 24 * 3600_000,
      maxStreams: opts.maxStreams ?? 1024,
    };
    this.tick = setInterval(() => this.onTick(), this.opts.tickMs);
    this.tick.unref();
    this.ping = setInterval(() => this.onPing(), this.opts.pingMs);
    this.ping.unref();
  }

  /** Takes an HTTP upgrade for a stream path; false when the path is not one. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    let names: string[];
    let combined: boolean;
    if (url.pathname === '/stream') {
      names = (url.searchParams.get('streams') ?? '').split('/').filter(Boolean);
      combined = true;
    } else if (url.pathname.startsWith('/ws/') || url.pathname === '/ws') {
      names = url.pathname.slice(4).split('/').filter(Boolean);
      combined = false;
    } else {
      return false;
    }
    const bad = names.find((n) => !STREAM_RE.test(n));
    if (bad !== undefined || names.length > this.opts.maxStreams) {
      const why =
        bad !== undefined
          ? `Invalid stream name ${JSON.stringify(bad)}: the replay serves <symbol>@kline_1m.`
          : `At most ${this.opts.maxStreams} streams a connection.`;
      socket.end(
        `HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(why)}\r\nConnection: close\r\n\r\n${why}`,
      );
      return true;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) =>
      this.accept(ws, url.pathname, combined, names),
    );
    return true;
  }

  private accept(ws: WebSocket, path: string, combined: boolean, names: string[]): void {
    const c: Conn = {
      ws,
      path,
      combined,
      streams: new Map(),
      opened: Date.now(),
      lastPong: Date.now(),
      silent: false,
      timers: new Set(),
    };
    for (const n of names) this.add(c, n);
    this.conns.add(c);
    this.stats.connections++;
    this.stats.open++;
    ws.on('pong', () => (c.lastPong = Date.now()));
    ws.on('message', (data) => this.onMessage(c, String(data as Buffer)));
    ws.on('error', () => ws.terminate());
    ws.on('close', () => {
      this.conns.delete(c);
      this.stats.open--;
      for (const t of c.timers) clearTimeout(t);
    });
  }

  private add(c: Conn, name: string): void {
    if (c.streams.has(name)) return;
    const now = this.src.now();
    // A new subscriber receives minutes that close from now on, never history.
    const lastFinal = Math.floor(now / MINUTE_MS) * MINUTE_MS - MINUTE_MS;
    c.streams.set(name, { symbol: name.split('@')[0].toUpperCase(), lastFinal, lastUpdate: 0 });
  }

  private onMessage(c: Conn, text: string): void {
    let msg: { method?: unknown; params?: unknown; id?: unknown };
    try {
      msg = JSON.parse(text) as typeof msg;
    } catch {
      return this.send(c, { code: 3, msg: 'Invalid JSON: expected value at line 1 column 1' });
    }
    const params = Array.isArray(msg.params) ? (msg.params as unknown[]) : [];
    const names = params.filter((p): p is string => typeof p === 'string');
    if (msg.method === 'SUBSCRIBE') {
      if (names.some((n) => !STREAM_RE.test(n)))
        return this.send(c, { code: 2, msg: 'Invalid request: unknown stream', id: msg.id });
      if (c.streams.size + names.length > this.opts.maxStreams)
        return this.send(c, { code: 2, msg: 'Too many streams', id: msg.id });
      for (const n of names) this.add(c, n);
      return this.send(c, { result: null, id: msg.id });
    }
    if (msg.method === 'UNSUBSCRIBE') {
      for (const n of names) c.streams.delete(n);
      return this.send(c, { result: null, id: msg.id });
    }
    if (msg.method === 'LIST_SUBSCRIPTIONS')
      return this.send(c, { result: [...c.streams.keys()], id: msg.id });
    this.send(c, { code: 2, msg: 'Invalid request: unknown method', id: msg.id });
  }

  private send(c: Conn, body: unknown): void {
    if (c.silent || c.ws.readyState !== WebSocket.OPEN) return;
    c.ws.send(JSON.stringify(body));
  }

  private event(c: Conn, name: string, symbol: string, k: Kline, final: boolean): void {
    const data = {
      e: 'kline',
      E: Date.now(),
      s: symbol,
      k: {
        t: k[0],
        T: k[6],
        s: symbol,
        i: '1m',
        f: 0,
        L: Math.max(0, k[8] - 1),
        o: k[1],
        c: k[4],
        h: k[2],
        l: k[3],
        v: k[5],
        n: k[8],
        x: final,
        q: k[7],
        V: k[9],
        Q: k[10],
        B: '0',
      },
    };
    this.send(c, c.combined ? { stream: name, data } : data);
    if (final) this.stats.finals++;
    else this.stats.updates++;
  }

  private draw(c: Conn, symbol: string, kinds: FaultSpec['kind'][]): FaultSpec[] {
    const fired = this.src.faults.draw(c.path, symbol, kinds);
    for (const f of fired) this.src.countFault(f.kind);
    return fired;
  }

  private onTick(): void {
    const now = this.src.now();
    const current = Math.floor(now / MINUTE_MS) * MINUTE_MS;
    for (const c of this.conns) {
      if (c.ws.readyState !== WebSocket.OPEN) continue;
      if (Date.now() - c.opened >= this.opts.maxAgeMs) {
        c.ws.close(1000, 'connection reached its maximum age');
        continue;
      }
      let cut = false;
      for (const [name, s] of c.streams) {
        // A jump of the market clock sends at most the last hour's finals.
        if (current - s.lastFinal > 61 * MINUTE_MS) s.lastFinal = current - 61 * MINUTE_MS;
        while (s.lastFinal + MINUTE_MS < current) {
          const t = (s.lastFinal += MINUTE_MS);
          const conn = WS_FAULT_KINDS.filter((k) => k === 'wsCut' || k === 'wsSilent');
          for (const f of this.draw(c, s.symbol, conn)) {
            if (f.kind === 'wsCut') cut = true;
            else c.silent = true;
          }
          if (cut || c.silent) break;
          this.final(c, name, s.symbol, t);
        }
        if (cut) break;
        if (c.silent) continue;
        if (now - s.lastUpdate >= this.opts.updateMs) {
          const k = this.src.minute(s.symbol, current);
          if (k) {
            s.lastUpdate = now;
            this.event(c, name, s.symbol, openCandle(k, now), false);
          }
        }
      }
      if (cut) c.ws.terminate();
    }
  }

  private final(c: Conn, name: string, symbol: string, t: number): void {
    const k = this.src.minute(symbol, t);
    if (!k) return;
    const kinds = WS_FAULT_KINDS.filter((x) => x !== 'wsCut' && x !== 'wsSilent');
    const fired = this.draw(c, symbol, kinds);
    if (fired.some((f) => f.kind === 'wsDropFinal')) return;
    let row = k;
    if (fired.some((f) => f.kind === 'wsWrongFinal')) {
      row = k.slice() as Kline;
      row[4] = (Number(k[4]) * 1.01).toFixed(8);
      if (Number(row[4]) > Number(row[2])) row[2] = row[4];
    }
    const times = fired.some((f) => f.kind === 'wsDuplicateFinal') ? 2 : 1;
    const late = fired.find((f) => f.kind === 'wsLateFinal');
    const emit = () => {
      for (let i = 0; i < times; i++) this.event(c, name, symbol, row, true);
    };
    if (!late) return emit();
    const timer = setTimeout(() => {
      c.timers.delete(timer);
      emit();
    }, late.delayMs ?? 10_000);
    c.timers.add(timer);
  }

  private onPing(): void {
    for (const c of this.conns) {
      if (c.silent) continue;
      if (Date.now() - c.lastPong > this.opts.pongTimeoutMs) {
        c.ws.terminate();
        continue;
      }
      if (c.ws.readyState === WebSocket.OPEN) c.ws.ping();
    }
  }

  /** Cuts every open connection (TCP destroyed, no close frame), as a network drop does. */
  cutAll(): void {
    for (const c of this.conns) c.ws.terminate();
  }

  close(): void {
    clearInterval(this.tick);
    clearInterval(this.ping);
    for (const c of this.conns) c.ws.terminate();
    this.wss.close();
  }
}
