import {
  allocCandles,
  type Candles,
  concatCandles,
  FLOAT_COLUMNS,
  sliceCandles,
  trimCandles,
} from '../../schemas/candles.ts';
import { MINUTE_MS } from '../../schemas/intervals.ts';
import type { Config } from '../../schemas/config.ts';
import {
  BinanceApiError,
  CancelledError,
  messages,
  RateLimitError,
  SourceError,
  type SourceErrorCode,
} from './errors.ts';
import { type RateLimitEntry, type RateGovernor, sharedGovernor, type Sleep } from './governor.ts';
import { get, type RetryOptions, withRetries } from './http.ts';

/**
 * The Binance spot REST client. Every request goes through the process's rate governor; the
 * governor learns the limit from exchangeInfo before the first paced request.
 */

export interface RestClientOptions extends RetryOptions {
  /** Default https://api.binance.com. */
  baseUrl?: string;
  governor?: RateGovernor;
  /** Per-request timeout in seconds (default 10). */
  timeoutSeconds?: number;
  fetch?: typeof fetch;
  sleep?: Sleep;
}

export interface ExchangeSymbol {
  symbol: string;
  status: string;
  baseAsset: string;
  quoteAsset: string;
  isSpotTradingAllowed?: boolean;
  permissions?: string[];
  permissionSets?: string[][];
  [k: string]: unknown;
}

export interface ExchangeInfo {
  timezone: string;
  serverTime: number;
  rateLimits: RateLimitEntry[];
  symbols: ExchangeSymbol[];
}

export interface Ticker24h {
  symbol: string;
  quoteVolume: number;
  volume: number;
  lastPrice: number;
  count: number;
}

export interface KlinePage {
  candles: Candles;
  /** Rows in the answer before validation and dedup. */
  rawCount: number;
  /** The response's `Date` header (ms), the exchange's clock when it answered; null if absent. */
  date?: number | null;
}

interface CallOptions {
  signal?: AbortSignal;
}

const WEIGHT = { klines: 2, time: 1, exchangeInfo: 20, tickerAll: 80, tickerOne: 2 } as const;

/** A client set up from the `[data.api]` configuration (base URL, retries, timeout). */
export function restClientFromConfig(
  api: Config['data']['api'],
  overrides: { baseUrl?: string; fetch?: typeof fetch } = {},
): BinanceRestClient {
  const governor = sharedGovernor();
  governor.applySettings({
    safetyMargin: api.weight_safety_margin,
    defaultLimit: api.rate_limit_weight_per_minute,
  });
  return new BinanceRestClient({
    governor,
    baseUrl: overrides.baseUrl ?? api.base_url,
    maxRetries: api.max_retries,
    retryDelay: api.retry_delay,
    timeoutSeconds: api.timeout_seconds,
    ...(overrides.fetch ? { fetch: overrides.fetch } : {}),
  });
}

export class BinanceRestClient {
  readonly baseUrl: string;
  readonly governor: RateGovernor;
  private readonly opts: RestClientOptions;
  private info: Promise<ExchangeInfo> | undefined;

  constructor(opts: RestClientOptions = {}) {
    this.baseUrl = (opts.baseUrl ?? 'https://api.binance.com').replace(/\/$/, '');
    this.governor = opts.governor ?? sharedGovernor();
    this.opts = opts;
  }

  /** One GET through the governor, with retries; `parse` may throw retryable errors. */
  private async call<T>(
    path: string,
    params: Record<string, string | number | undefined>,
    weight: number,
    signal: AbortSignal | undefined,
    parse: (body: unknown, headers: Headers) => T,
  ): Promise<T> {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined) qs.set(k, String(v));
    const url = `${this.baseUrl}${path}${qs.size > 0 ? `?${qs}` : ''}`;
    if (path !== '/api/v3/exchangeInfo' && !this.governor.isConfigured)
      await this.exchangeInfo({ signal });
    return withRetries(
      `GET ${path}`,
      signal,
      this.opts,
      async (attempt) => {
        const permit = await this.governor.acquire(weight, signal);
        let res;
        try {
          const t0 = Date.now();
          res = await get(url, {
            signal,
            timeoutSeconds: this.timeoutSeconds(attempt),
            fetch: this.opts.fetch,
          });
          this.latencies.push((Date.now() - t0) / 1000);
          if (this.latencies.length > 32) this.latencies.shift();
        } catch (err) {
          permit.settle();
          throw err;
        }
        permit.settle({ status: res.status, headers: res.headers });
        const text = new TextDecoder().decode(res.body);
        if (res.status === 429 || res.status === 418) {
          const ra = Number(res.headers.get('retry-after'));
          throw new RateLimitError(res.status, Number.isFinite(ra) ? ra * 1000 : 0);
        }
        if (res.status >= 500) {
          throw new BinanceApiError(
            'SERVER_ERROR',
            messages.serverError(path, res.status, text),
            res.status,
            0,
            text,
            true,
          );
        }
        if (res.status >= 400) throw apiError(path, params.symbol, res.status, text);
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch (err) {
          throw new SourceError('INVALID_RESPONSE', messages.invalidJson(url.split('?')[0]), true, {
            cause: err,
          });
        }
        return parse(body, res.headers);
      },
      (err) => err instanceof RateLimitError,
    );
  }

  /** Recent answer times (s), to give up on a hanging request sooner than the configured time-out. */
  private readonly latencies: number[] = [];

  /**
   * The configured time-out, shortened once the exchange has answered a few requests: ten times
   * its median recent answer time, at least 2 s, doubled for each retry of the same request. A
   * hanging request then costs seconds, not minutes, and a merely slow exchange still answers.
   */
  private timeoutSeconds(attempt: number): number {
    const configured = this.opts.timeoutSeconds ?? 10;
    if (this.latencies.length < 4) return configured;
    const sorted = [...this.latencies].sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)];
    return Math.min(configured, Math.max(2, 10 * median) * 2 ** attempt);
  }

  /** GET /api/v3/time. */
  serverTime(opts: CallOptions = {}): Promise<number> {
    return this.call('/api/v3/time', {}, WEIGHT.time, opts.signal, (b) => {
      const t = (b as { serverTime?: unknown }).serverTime;
      if (typeof t !== 'number') throw invalid('serverTime missing');
      return t;
    });
  }

  /** GET /api/v3/exchangeInfo, cached for the client's life (`refresh` re-reads it). */
  exchangeInfo(opts: CallOptions & { refresh?: boolean } = {}): Promise<ExchangeInfo> {
    if (!this.info || opts.refresh) {
      const p = this.call('/api/v3/exchangeInfo', {}, WEIGHT.exchangeInfo, opts.signal, (b) => {
        const info = b as ExchangeInfo;
        if (!Array.isArray(info.symbols) || !Array.isArray(info.rateLimits))
          throw invalid('not an exchangeInfo');
        return info;
      });
      this.info = p;
      p.then(
        (info) => this.governor.configure(info.rateLimits),
        () => {
          if (this.info === p) this.info = undefined;
        },
      );
    }
    return this.info;
  }

  /** GET /api/v3/ticker/24hr for every symbol (weight 80) or one. */
  ticker24h(opts: CallOptions & { symbol?: string } = {}): Promise<Ticker24h[]> {
    const weight = opts.symbol ? WEIGHT.tickerOne : WEIGHT.tickerAll;
    return this.call('/api/v3/ticker/24hr', { symbol: opts.symbol }, weight, opts.signal, (b) => {
      const list = Array.isArray(b) ? b : [b];
      return list.map((t: Record<string, unknown>) => ({
        symbol: String(t.symbol),
        quoteVolume: Number(t.quoteVolume),
        volume: Number(t.volume),
        lastPrice: Number(t.lastPrice),
        count: Number(t.count),
      }));
    });
  }

  /** One page of 1m klines with open time in [startTime, endTime] (inclusive), limit 1000. */
  klinesPage(
    symbol: string,
    startTime: number,
    endTime: number,
    opts: CallOptions & { limit?: number } = {},
  ) {
    const params = { symbol, interval: '1m', startTime, endTime, limit: opts.limit ?? 1000 };
    return this.call('/api/v3/klines', params, WEIGHT.klines, opts.signal, (b, headers) => {
      const date = Date.parse(headers.get('date') ?? '');
      return {
        ...parseKlinePage(b, startTime, endTime),
        date: Number.isFinite(date) ? date : null,
      };
    });
  }

  /** 1m klines with open time in [startTime, endTime] (inclusive), at most 1000. */
  async klines(
    symbol: string,
    startTime: number,
    endTime: number,
    opts: CallOptions = {},
  ): Promise<Candles> {
    return (await this.klinesPage(symbol, startTime, endTime, opts)).candles;
  }
}

function invalid(why: string): SourceError {
  return new SourceError('INVALID_RESPONSE', why, true);
}

function apiError(
  path: string,
  symbol: string | number | undefined,
  status: number,
  text: string,
): BinanceApiError {
  let code = 0;
  let msg = text;
  try {
    const b = JSON.parse(text) as { code?: unknown; msg?: unknown };
    if (typeof b.code === 'number') code = b.code;
    if (typeof b.msg === 'string') msg = b.msg;
  } catch {
    // Not JSON: keep the text.
  }
  if (code === -1121) {
    return new BinanceApiError(
      'INVALID_SYMBOL',
      messages.invalidSymbol(String(symbol), msg),
      status,
      code,
      msg,
    );
  }
  if (code === -1120)
    return new BinanceApiError(
      'INVALID_INTERVAL',
      messages.invalidInterval(msg),
      status,
      code,
      msg,
    );
  const kind: SourceErrorCode = status === 403 ? 'FORBIDDEN' : 'BAD_REQUEST';
  const message =
    status === 403 ? messages.forbidden(path) : messages.badRequest(path, status, code, msg);
  return new BinanceApiError(kind, message, status, code, msg);
}

const FIELD_COLUMNS: Array<[number, (typeof FLOAT_COLUMNS)[number]]> = [
  [1, 'open'],
  [2, 'high'],
  [3, 'low'],
  [4, 'close'],
  [5, 'volume'],
  [7, 'quoteVolume'],
  [8, 'trades'],
  [9, 'takerBuyBase'],
  [10, 'takerBuyQuote'],
];

/**
 * Validates and converts a /api/v3/klines body: 12 fields per row, numbers (as strings or
 * numbers) finite and non-negative, open time on a minute, close time = open + 59 999 ms,
 * coherent OHLC. Any malformed row fails the page (a retryable INVALID_RESPONSE). Rows outside
 * the asked range are dropped; identical duplicates are merged; order is restored.
 */
export function parseKlinePage(body: unknown, startTime: number, endTime: number): KlinePage {
  if (!Array.isArray(body))
    throw invalid(messages.malformedKline(-1, 'the answer is not an array'));
  const n = body.length;
  const c = allocCandles(n);
  let k = 0;
  let sorted = true;
  for (let i = 0; i < n; i++) {
    const r: unknown = body[i];
    if (!Array.isArray(r) || r.length !== 12)
      throw invalid(messages.malformedKline(i, 'not an array of 12 fields'));
    const t = toNumber(r[0]);
    if (!Number.isInteger(t) || t % MINUTE_MS !== 0) {
      throw invalid(
        messages.malformedKline(i, `open time ${JSON.stringify(r[0])} is not on a minute`),
      );
    }
    if (toNumber(r[6]) !== t + MINUTE_MS - 1) {
      throw invalid(
        messages.malformedKline(i, `close time ${JSON.stringify(r[6])} does not match a 1m kline`),
      );
    }
    for (const [f, col] of FIELD_COLUMNS) {
      const v = toNumber(r[f]);
      if (!Number.isFinite(v) || v < 0) {
        throw invalid(
          messages.malformedKline(i, `${col} ${JSON.stringify(r[f])} is not a non-negative number`),
        );
      }
      c[col][k] = v;
    }
    const o = c.open[k];
    const h = c.high[k];
    const l = c.low[k];
    const cl = c.close[k];
    if (h < Math.max(o, cl, l) || l > Math.min(o, cl)) {
      throw invalid(messages.malformedKline(i, 'high/low do not bound open/close'));
    }
    if (t < startTime || t > endTime) continue;
    if (k > 0 && t <= c.openTime[k - 1]) sorted = false;
    c.openTime[k] = t;
    k++;
  }
  c.length = k;
  const candles = sorted ? c : sortDedupe(c);
  return { candles: candles.length === n ? candles : trimCandles(candles), rawCount: n };
}

function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.length > 0) return Number(v);
  return NaN;
}

/** Sorts by open time and merges identical duplicates; differing duplicates are malformed. */
function sortDedupe(c: Candles): Candles {
  const idx = Array.from({ length: c.length }, (_, i) => i).sort(
    (a, b) => c.openTime[a] - c.openTime[b],
  );
  const out = allocCandles(c.length);
  let k = 0;
  for (const i of idx) {
    if (k > 0 && out.openTime[k - 1] === c.openTime[i]) {
      for (const col of FLOAT_COLUMNS) {
        if (out[col][k - 1] !== c[col][i]) {
          throw invalid(
            messages.malformedKline(i, `two different klines open at ${c.openTime[i]}`),
          );
        }
      }
      continue;
    }
    out.openTime[k] = c.openTime[i];
    for (const col of FLOAT_COLUMNS) out[col][k] = c[col][i];
    k++;
  }
  out.length = k;
  return out;
}

export interface EmptyRange {
  /** First minute confirmed empty (open time, ms). */
  start: number;
  /** End of the empty range, exclusive (ms). */
  end: number;
}

export interface PageEvent {
  candles: Candles;
  /** Ranges inside this page's span that the exchange confirmed have no klines. */
  emptyRanges: EmptyRange[];
  /** Next open time to fetch. */
  cursor: number;
}

export interface FetchRangeResult {
  candles: Candles;
  emptyRanges: EmptyRange[];
  pages: number;
  /** Server time used to exclude the open candle. */
  serverTime: number;
  /** End actually covered (exclusive): min(end, start of the open minute). */
  coveredEnd: number;
}

/**
 * A kline is final once every clock the client has says its minute is over, with this margin:
 * the server time, the answer's `Date` header (1 s resolution) and the local clock may disagree.
 */
export const CLOSE_MARGIN_MS = 2_000;

/**
 * Fetches every closed 1m kline with open time in [start, end) (ms, half-open), page by page.
 *
 * - A page is always followed by the next one (cursor = the minute after its last row), whatever
 *   its length: a proxy or mirror may answer fewer rows than asked.
 * - A range is reported in `emptyRanges` (the caller records it as confirmed empty and never
 *   fetches it again) only on an explicit answer: a request whose start lies in the range and
 *   that returns no row in it. A hole between two rows of a page is asked about again from its
 *   first minute, and the rows after it are taken from that answer.
 * - The still-open candle is never returned: the range is clipped to the minutes closed at the
 *   server time, and the newest row of an answer is kept only when it is closed by every clock
 *   (the server time, the answer's Date header, the local clock) with `CLOSE_MARGIN_MS`, or when
 *   a later minute exists. Fetching stops there; the rest is fetched by a later run.
 */
export async function fetchRange1m(
  client: BinanceRestClient,
  symbol: string,
  start: number,
  end: number,
  opts: {
    signal?: AbortSignal;
    onPage?: (e: PageEvent) => void | Promise<void>;
    /**
     * A server time read by the caller (e.g. once for a batch of chunks fetched in parallel);
     * by default it is read here. Candles closing at or after it are not returned.
     */
    serverTime?: number;
    /** The local clock (tests). */
    now?: () => number;
  } = {},
): Promise<FetchRangeResult> {
  const serverTime = opts.serverTime ?? (await client.serverTime({ signal: opts.signal }));
  const localNow = opts.now ?? Date.now;
  // The minute containing serverTime is open; everything before it is closed.
  let coveredEnd = Math.min(end, Math.floor(serverTime / MINUTE_MS) * MINUTE_MS);
  const first = Math.ceil(start / MINUTE_MS) * MINUTE_MS;
  const parts: Candles[] = [];
  const empty: EmptyRange[] = [];
  let cursor = first;
  let pages = 0;
  while (cursor < coveredEnd) {
    if (opts.signal?.aborted) throw new CancelledError(opts.signal.reason);
    const page = await client.klinesPage(symbol, cursor, coveredEnd - 1, { signal: opts.signal });
    pages++;
    const clock = Math.min(serverTime, page.date ?? Infinity, localNow()) - CLOSE_MARGIN_MS;
    let c = dropOpen(page.candles, serverTime);
    // The newest row: final only if every clock has passed its close.
    let reachedOpen = c.length < page.candles.length;
    if (c.length > 0 && c.openTime[c.length - 1] + MINUTE_MS > clock) {
      c = trimCandles(sliceCandles(c, 0, c.length - 1));
      reachedOpen = true;
    }
    const pageEmpty: EmptyRange[] = [];
    let next: number;
    if (c.length === 0) {
      // No closed row from `cursor` on: an explicit empty answer, unless the open candle was
      // the only row (then the data simply ends here for now).
      if (!reachedOpen) pageEmpty.push({ start: cursor, end: coveredEnd });
      next = reachedOpen ? cursor : coveredEnd;
    } else {
      if (c.openTime[0] > cursor) pageEmpty.push({ start: cursor, end: c.openTime[0] });
      // Keep the rows up to the first hole; the hole is asked about from its first minute.
      let k = 1;
      while (k < c.length && c.openTime[k] === c.openTime[k - 1] + MINUTE_MS) k++;
      if (k < c.length) {
        c = trimCandles(sliceCandles(c, 0, k));
        reachedOpen = false;
      }
      next = c.openTime[c.length - 1] + MINUTE_MS;
    }
    if (reachedOpen) coveredEnd = Math.min(coveredEnd, next);
    for (const r of pageEmpty) pushRange(empty, r);
    if (c.length > 0) parts.push(c);
    await opts.onPage?.({ candles: c, emptyRanges: pageEmpty, cursor: next });
    cursor = next;
  }
  return { candles: concatCandles(parts), emptyRanges: empty, pages, serverTime, coveredEnd };
}

function dropOpen(c: Candles, serverTime: number): Candles {
  let n = c.length;
  while (n > 0 && c.openTime[n - 1] + MINUTE_MS - 1 >= serverTime) n--;
  return n === c.length ? c : trimCandles(sliceCandles(c, 0, n));
}

function pushRange(list: EmptyRange[], r: EmptyRange): void {
  const last = list[list.length - 1];
  if (last && last.end === r.start) last.end = r.end;
  else list.push({ ...r });
}
