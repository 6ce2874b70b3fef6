import { WebSocket } from 'ws';
import { allocCandles, type Candles } from '../../schemas/candles.ts';

/**
 * Binance's kline WebSocket streams, followed: the symbols are split over connections of at most
 * `maxStreams` combined streams (`/stream?streams=a@kline_1m/b@kline_1m`); each connection is
 * replaced on any drop, before the exchange's 24-hour limit, and when it has delivered nothing
 * (not even a ping) for `silenceMs`. Pings are answered by `ws` itself. Every kline event goes
 * to `onKline`; the caller decides what a final is worth (the stream can be late or miss bars).
 */

export interface StreamKline {
  symbol: string;
  /** One row: the kline's values (openTime, prices, volumes, trades). */
  candle: Candles;
  /** `k.x`: the kline is closed. */
  final: boolean;
  /** The exchange's event time (`E`). */
  eventTime: number;
}

export type StreamState =
  | { state: 'connected'; connection: number; streams: number }
  | {
      state: 'reconnecting';
      connection: number;
      reason: 'dropped' | 'silent' | 'age' | 'error';
      /** When the connection was lost: minutes from then on may have been missed. */
      since: number;
      detail?: string;
    };

export interface KlineStreamOptions {
  /** Base URL, e.g. wss://stream.binance.com:9443 or the replay's ws://127.0.0.1:PORT. */
  wsUrl: string;
  symbols: readonly string[];
  onKline: (k: StreamKline) => void;
  onState?: (s: StreamState) => void;
  /** A connection silent this long is dead (default 30 s). */
  silenceMs?: number;
  /** A connection is replaced after this age (default 23 h 50 min, under Binance's 24 h). */
  maxAgeMs?: number;
  /** Streams a connection carries at most (default 1024, Binance's limit). */
  maxStreams?: number;
  /** Pause before a reconnect (default 500 ms, doubling to 10 s while it keeps failing). */
  retryMs?: number;
}

interface Slot {
  index: number;
  symbols: string[];
  ws?: WebSocket;
  opened: number;
  lastHeard: number;
  failures: number;
  timer?: NodeJS.Timeout;
  lost?: number;
}

export class KlineStream {
  private readonly slots: Slot[] = [];
  private stopped = false;
  private watchdog?: NodeJS.Timeout;
  private readonly silenceMs: number;
  private readonly maxAgeMs: number;
  private readonly retryMs: number;

  constructor(private readonly opts: KlineStreamOptions) {
    this.silenceMs = opts.silenceMs ?? 30_000;
    this.maxAgeMs = opts.maxAgeMs ?? (23 * 60 + 50) * 60_000;
    this.retryMs = opts.retryMs ?? 500;
    const per = Math.min(1024, opts.maxStreams ?? 1024);
    for (let i = 0; i < opts.symbols.length; i += per)
      this.slots.push({
        index: this.slots.length,
        symbols: opts.symbols.slice(i, i + per),
        opened: 0,
        lastHeard: 0,
        failures: 0,
      });
  }

  /** Connections this stream uses. */
  get connections(): number {
    return this.slots.length;
  }

  start(): void {
    for (const s of this.slots) this.connect(s);
    this.watchdog = setInterval(() => this.check(), Math.min(1000, this.silenceMs / 4));
    this.watchdog.unref();
  }

  private url(s: Slot): string {
    const streams = s.symbols.map((x) => `${x.toLowerCase()}@kline_1m`).join('/');
    return `${this.opts.wsUrl.replace(/\/+$/, '')}/stream?streams=${streams}`;
  }

  private connect(s: Slot): void {
    if (this.stopped) return;
    const ws = new WebSocket(this.url(s), { handshakeTimeout: this.silenceMs });
    s.ws = ws;
    s.opened = Date.now();
    s.lastHeard = Date.now();
    const heard = () => (s.lastHeard = Date.now());
    ws.on('open', () => {
      heard();
      s.failures = 0;
      s.lost = undefined;
      this.opts.onState?.({ state: 'connected', connection: s.index, streams: s.symbols.length });
    });
    ws.on('ping', heard);
    ws.on('pong', heard);
    ws.on('message', (data) => {
      heard();
      this.onMessage(String(data as Buffer));
    });
    ws.on('error', (e) => this.lose(s, ws, 'error', e.message));
    ws.on('close', () => this.lose(s, ws, 'dropped'));
  }

  /** Replaces a slot's connection once (later events of the same socket are ignored). */
  private lose(
    s: Slot,
    ws: WebSocket,
    reason: 'dropped' | 'silent' | 'age' | 'error',
    detail?: string,
  ): void {
    if (s.ws !== ws) return;
    s.ws = undefined;
    ws.removeAllListeners();
    ws.on('error', () => undefined);
    ws.terminate();
    if (this.stopped) return;
    s.lost ??= s.lastHeard;
    s.failures++;
    this.opts.onState?.({
      state: 'reconnecting',
      connection: s.index,
      reason,
      since: s.lost,
      ...(detail ? { detail } : {}),
    });
    const wait = reason === 'age' ? 0 : Math.min(10_000, this.retryMs * 2 ** (s.failures - 1));
    s.timer = setTimeout(() => this.connect(s), wait);
  }

  private check(): void {
    const now = Date.now();
    for (const s of this.slots) {
      const ws = s.ws;
      if (!ws) continue;
      if (now - s.lastHeard >= this.silenceMs) this.lose(s, ws, 'silent');
      else if (ws.readyState === WebSocket.OPEN && now - s.opened >= this.maxAgeMs) {
        // Replaced before the exchange cuts it: the new one first, then the old one closes.
        s.failures = 0;
        this.lose(s, ws, 'age');
      }
    }
  }

  private onMessage(text: string): void {
    let msg: { data?: KlineEvent } & Partial<KlineEvent>;
    try {
      msg = JSON.parse(text) as typeof msg;
    } catch {
      return;
    }
    const ev = msg.data ?? (msg as KlineEvent);
    if (ev?.e !== 'kline' || typeof ev.k !== 'object' || ev.k.i !== '1m') return;
    const c = klineCandle(ev.k);
    if (!c) return;
    this.opts.onKline({ symbol: ev.k.s, candle: c, final: ev.k.x === true, eventTime: ev.E });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.watchdog) clearInterval(this.watchdog);
    await Promise.all(
      this.slots.map(async (s) => {
        if (s.timer) clearTimeout(s.timer);
        const ws = s.ws;
        s.ws = undefined;
        if (!ws) return;
        ws.removeAllListeners();
        ws.on('error', () => undefined);
        if (ws.readyState === WebSocket.OPEN) {
          const closed = new Promise((r) => ws.once('close', r));
          ws.close(1000);
          const t = setTimeout(() => ws.terminate(), 1000);
          await closed;
          clearTimeout(t);
        } else ws.terminate();
      }),
    );
  }
}

interface KlineEvent {
  e: string;
  E: number;
  k: {
    t: number;
    s: string;
    i: string;
    o: string;
    h: string;
    l: string;
    c: string;
    v: string;
    n: number;
    x: boolean;
    q: string;
    V: string;
    Q: string;
  };
}

/** One kline event as a row, or undefined when a field is not a number. */
function klineCandle(k: KlineEvent['k']): Candles | undefined {
  const c = allocCandles(1);
  const vals = [k.t, k.o, k.h, k.l, k.c, k.v, k.q, k.n, k.V, k.Q].map(Number);
  if (vals.some((v) => !Number.isFinite(v)) || typeof k.s !== 'string') return undefined;
  [
    c.openTime[0],
    c.open[0],
    c.high[0],
    c.low[0],
    c.close[0],
    c.volume[0],
    c.quoteVolume[0],
    c.trades[0],
    c.takerBuyBase[0],
    c.takerBuyQuote[0],
  ] = vals;
  c.length = 1;
  return c;
}
