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
  DEFAULT_BASE_URLS,
  type KlineKind,
  type Market,
  REST_PATHS,
  klinesPage as pageRowsOf,
  klinesParam,
  klinesWeight,
  klinesWindowMs,
  type PriceSign,
  pricesOf,
} from '../../schemas/markets.ts';
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
import type { FundingEvent } from '../engine/funding.ts';

/**
 * The Binance REST client of one market (spot `api`, USD-M `fapi`, COIN-M `dapi`). Every request
 * goes through the market's rate governor; the governor learns the limit from that market's
 * exchangeInfo before the first paced request.
 */

export interface RestClientOptions extends RetryOptions {
  /** Default spot. */
  market?: Market;
  /** Default the market's Binance host (https://api.binance.com for spot). */
  baseUrl?: string;
  /**
   * Klines a page asks for; default the cheapest per candle (`klinesPage`: spot 1000, futures
   * 499). Another value serves comparisons (the benchmark's 1000 on futures).
   */
  pageRows?: number;
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

/** Request weights besides klines (`klinesWeight`), per market. */
const WEIGHT = {
  spot: { time: 1, exchangeInfo: 20, tickerAll: 80, tickerOne: 2 },
  um: { time: 1, exchangeInfo: 1, tickerAll: 40, tickerOne: 1 },
  cm: { time: 1, exchangeInfo: 1, tickerAll: 40, tickerOne: 1 },
} as const;

/** The configured REST host of a market: `[data.api]` base_url, um_base_url, cm_base_url. */
export function configuredBaseUrl(api: Config['data']['api'], market: Market): string {
  if (market === 'um') return api.um_base_url;
  if (market === 'cm') return api.cm_base_url;
  return api.base_url;
}

/**
 * A client set up from the `[data.api]` configuration (the market's base URL, retries,
 * timeout), paced by the market's own governor: each market has its own weight budget.
 */
export function restClientFromConfig(
  api: Config['data']['api'],
  overrides: { baseUrl?: string; fetch?: typeof fetch; market?: Market } = {},
): BinanceRestClient {
  const market = overrides.market ?? 'spot';
  const governor = sharedGovernor(market);
  governor.applySettings({
    safetyMargin: api.weight_safety_margin,
    defaultLimit: market === 'spot' ? api.rate_limit_weight_per_minute : 2400,
  });
  return new BinanceRestClient({
    market,
    governor,
    baseUrl: overrides.baseUrl ?? configuredBaseUrl(api, market),
    maxRetries: api.max_retries,
    retryDelay: api.retry_delay,
    timeoutSeconds: api.timeout_seconds,
    ...(overrides.fetch ? { fetch: overrides.fetch } : {}),
  });
}

export class BinanceRestClient {
  readonly market: Market;
  readonly baseUrl: string;
  readonly governor: RateGovernor;
  /** Klines a page asks for: the cheapest per candle for the market (`klinesPage`). */
  readonly pageRows: number;
  private readonly opts: RestClientOptions;
  private info: Promise<ExchangeInfo> | undefined;

  constructor(opts: RestClientOptions = {}) {
    this.market = opts.market ?? 'spot';
    this.baseUrl = (opts.baseUrl ?? DEFAULT_BASE_URLS[this.market]).replace(/\/$/, '');
    this.governor = opts.governor ?? sharedGovernor(this.market);
    this.pageRows = opts.pageRows ?? pageRowsOf(this.market);
    this.opts = opts;
  }

  private get paths() {
    return REST_PATHS[this.market];
  }

  private get weights() {
    return WEIGHT[this.market];
  }

  /** The weight of one kline page of `limit` rows on this market. */
  klinesWeight(limit = this.pageRows): number {
    return klinesWeight(this.market, limit);
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
    if (path !== this.paths.exchangeInfo && !this.governor.isConfigured)
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
        if (res.status >= 400) throw apiError(path, params.symbol ?? params.pair, res.status, text);
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

  /** GET /api/v3/time (/fapi/v1/time, /dapi/v1/time). */
  serverTime(opts: CallOptions = {}): Promise<number> {
    return this.call(this.paths.time, {}, this.weights.time, opts.signal, (b) => {
      const t = (b as { serverTime?: unknown }).serverTime;
      if (typeof t !== 'number') throw invalid('serverTime missing');
      return t;
    });
  }

  /** The market's exchangeInfo, cached for the client's life (`refresh` re-reads it). */
  exchangeInfo(opts: CallOptions & { refresh?: boolean } = {}): Promise<ExchangeInfo> {
    if (!this.info || opts.refresh) {
      const path = this.paths.exchangeInfo;
      const p = this.call(path, {}, this.weights.exchangeInfo, opts.signal, (b) => {
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

  /** The market's ticker/24hr for every symbol (spot weight 80, futures 40) or one. */
  ticker24h(opts: CallOptions & { symbol?: string } = {}): Promise<Ticker24h[]> {
    const weight = opts.symbol ? this.weights.tickerOne : this.weights.tickerAll;
    const path = this.paths.ticker24h;
    return this.call(path, { symbol: opts.symbol }, weight, opts.signal, (b) => {
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

  /**
   * One page of 1m klines of `kind` with open time in [startTime, endTime] (inclusive), limit
   * `pageRows` (spot 1000, futures 499). Without `endTime`, the first page from `startTime` on,
   * however far its first row is; where the market bounds the span (COIN-M mark and index: 200
   * days), the end sent is the end of that span.
   */
  klinesPage(
    symbol: string,
    startTime: number,
    endTime: number | undefined,
    opts: CallOptions & { limit?: number; kind?: KlineKind } = {},
  ) {
    const kind = opts.kind ?? 'klines';
    if (this.market === 'spot' && kind !== 'klines')
      throw new SourceError('BAD_REQUEST', `spot has no ${kind} klines`, false);
    const limit = opts.limit ?? this.pageRows;
    const span = klinesWindowMs(this.market, kind);
    const end = span !== undefined ? Math.min(endTime ?? Infinity, startTime + span - 1) : endTime;
    const params = {
      [klinesParam(kind)]: symbol,
      interval: '1m',
      startTime,
      endTime: end,
      limit,
    };
    const path = this.paths.klines[kind];
    const weight = klinesWeight(this.market, limit);
    return this.call(path, params, weight, opts.signal, (b, headers) => {
      const date = Date.parse(headers.get('date') ?? '');
      return {
        ...parseKlinePage(b, startTime, endTime ?? Infinity, pricesOf(kind)),
        date: Number.isFinite(date) ? date : null,
      };
    });
  }

  /**
   * One page of funding-rate events of a perpetual (`/fapi/v1/fundingRate`,
   * `/dapi/v1/fundingRate`) with funding time in [startTime, endTime], oldest first, at most
   * `limit` (1000).
   */
  fundingRate(
    symbol: string,
    startTime: number,
    opts: CallOptions & { endTime?: number; limit?: number } = {},
  ): Promise<FundingEvent[]> {
    const path = this.paths.fundingRate;
    if (!path)
      return Promise.reject(
        new SourceError('BAD_REQUEST', 'spot has no funding rates: pick --market um or cm', false),
      );
    const params = { symbol, startTime, endTime: opts.endTime, limit: opts.limit ?? 1000 };
    return this.call(path, params, 1, opts.signal, (b) => {
      if (!Array.isArray(b)) throw invalid('the funding-rate answer is not an array');
      return b.map((r: Record<string, unknown>, i) => {
        const e = {
          fundingTime: Number(r.fundingTime),
          fundingRate: Number(r.fundingRate),
          markPrice: r.markPrice === undefined || r.markPrice === '' ? null : Number(r.markPrice),
        };
        if (!Number.isInteger(e.fundingTime) || !Number.isFinite(e.fundingRate))
          throw invalid(`funding-rate row ${i} is malformed`);
        return e;
      });
    });
  }

  /** 1m klines with open time in [startTime, endTime] (inclusive), at most 1000. */
  async klines(
    symbol: string,
    startTime: number,
    endTime: number,
    opts: CallOptions & { kind?: KlineKind } = {},
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
 * numbers) finite and non-negative (prices of a `signed` kind, the premium index, may be
 * negative), open time on a minute, close time = open + 59 999 ms,
 * coherent OHLC. Any malformed row fails the page (a retryable INVALID_RESPONSE). Rows outside
 * the asked range are dropped; identical duplicates are merged; order is restored.
 */
export function parseKlinePage(
  body: unknown,
  startTime: number,
  endTime: number,
  prices: PriceSign = 'positive',
): KlinePage {
  const signed = prices === 'signed';
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
      if (!Number.isFinite(v) || (v < 0 && !(signed && f <= 4))) {
        throw invalid(
          messages.malformedKline(
            i,
            `${col} ${JSON.stringify(r[f])} is not a ${signed && f <= 4 ? 'finite' : 'non-negative'} number`,
          ),
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
  /** Server time used to bound the range to closed minutes. */
  serverTime: number;
  /**
   * End actually covered (exclusive): min(end, start of the server's open minute), or earlier
   * when the exchange had nothing final past it yet (the frontier), which a later run fetches.
   */
  coveredEnd: number;
}

/**
 * How long after its close a kline is final even when the exchange has shown no later one: a
 * generous bound on how far a busy exchange, a caching mirror or a proxy may lag its clock.
 * `data.api.final_after_minutes` configures it.
 */
export const FINAL_AFTER_MS = 60 * MINUTE_MS;

/**
 * Whether the minute opening at `openTime` is final by the clocks alone: it closed at least
 * `finalAfterMs` before `clock` (the earliest of the clocks the caller has).
 */
export function settledByClock(openTime: number, clock: number, finalAfterMs: number): boolean {
  return openTime + MINUTE_MS <= clock - finalAfterMs;
}

const PAGE_ROWS = 1000;

/**
 * The kline requests `fetchRange1m` makes for [start, end) when the exchange has every minute:
 * one a page, and room in the last page for a row after `end` when the newest minute is too
 * recent to be final by the clock (the row after it is what proves it). The plan counts with it,
 * so a plan and its fetch agree.
 */
export function requestsFor(
  start: number,
  end: number,
  clock: number,
  finalAfterMs: number = FINAL_AFTER_MS,
  pageRows: number = PAGE_ROWS,
): number {
  const minutes = Math.ceil((end - start) / MINUTE_MS);
  if (minutes <= 0) return 0;
  const proof = settledByClock(end - MINUTE_MS, clock, finalAfterMs) ? 0 : 1;
  return Math.ceil((minutes + proof) / pageRows);
}

/**
 * Fetches every final 1m kline with open time in [start, end) (ms, half-open), page by page.
 * Each page asks for the 1000 klines from its cursor on, with no end time, so the answer also
 * shows whether the exchange has anything later.
 *
 * - **A minute is final** when the exchange has shown a later minute (a later row in the same or
 *   a later answer, the still-open minute included), or when every clock (the server time, the
 *   answer's `Date` header, the local clock) says it closed at least `finalAfterMs` ago. Klines
 *   can lag the exchange's clock (a busy exchange, a caching mirror, a proxy): the newest row of
 *   an answer may still be open, with partial values, whatever the clocks say. It is kept back;
 *   a later page or a later run proves it.
 * - **A range is confirmed empty** (reported in `emptyRanges`; the caller records it and never
 *   fetches it again) only on an answer to a request that starts in it, holds no row in it, and
 *   holds a later row: an outage has rows after it. An answer with nothing from its cursor on is
 *   the frontier ("not yet"): nothing is reported, and a later run asks again.
 * - A page is always followed by the next one (cursor = the minute after its last row), whatever
 *   its length: a proxy or mirror may answer fewer rows than asked. A hole between two rows of a
 *   page is asked about again from its first minute, and the rows after it are taken from that
 *   answer.
 * - The range is clipped to the minutes closed at the server time; rows past it only serve as
 *   proof.
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
    /** See `FINAL_AFTER_MS` (the default). */
    finalAfterMs?: number;
    /** The kline kind (default trade klines). */
    kind?: KlineKind;
  } = {},
): Promise<FetchRangeResult> {
  const serverTime = opts.serverTime ?? (await client.serverTime({ signal: opts.signal }));
  const localNow = opts.now ?? Date.now;
  const finalAfter = opts.finalAfterMs ?? FINAL_AFTER_MS;
  // The minute containing serverTime is open; nothing from it on is asked for.
  let coveredEnd = Math.min(end, Math.floor(serverTime / MINUTE_MS) * MINUTE_MS);
  const first = Math.ceil(start / MINUTE_MS) * MINUTE_MS;
  const parts: Candles[] = [];
  const empty: EmptyRange[] = [];
  let cursor = first;
  let pages = 0;
  let clock = Math.min(serverTime, localNow());
  const settled = (t: number): boolean => settledByClock(t, clock, finalAfter);
  // The newest row so far while nothing has proven it final (one row), kept back.
  let held: Candles | null = null;
  while (cursor < coveredEnd || (held !== null && !settled(held.openTime[0]))) {
    if (opts.signal?.aborted) throw new CancelledError(opts.signal.reason);
    const page = await client.klinesPage(symbol, cursor, undefined, {
      signal: opts.signal,
      ...(opts.kind ? { kind: opts.kind } : {}),
    });
    pages++;
    clock = Math.min(serverTime, page.date ?? Infinity, localNow());
    const rows = page.candles;
    const out: Candles[] = [];
    const pageEmpty: EmptyRange[] = [];
    // Any row at or after the cursor is a later minute: the row kept back is final.
    if (held && (rows.length > 0 || settled(held.openTime[0]))) {
      out.push(held);
      held = null;
    }
    let inRange = 0;
    while (inRange < rows.length && rows.openTime[inRange] < coveredEnd) inRange++;
    let next: number;
    let frontier = false;
    if (rows.length === 0) {
      // Nothing from the cursor on: the frontier, not an outage. A later run asks again.
      frontier = true;
      next = cursor;
    } else if (inRange === 0) {
      // The exchange's next row is past the range: the rest of the range is empty.
      if (cursor < coveredEnd) pageEmpty.push({ start: cursor, end: coveredEnd });
      next = Math.max(cursor, coveredEnd);
    } else {
      let c = inRange === rows.length ? rows : trimCandles(sliceCandles(rows, 0, inRange));
      if (c.openTime[0] > cursor) pageEmpty.push({ start: cursor, end: c.openTime[0] });
      // Keep the rows up to the first hole; the hole is asked about from its first minute.
      let k = 1;
      while (k < c.length && c.openTime[k] === c.openTime[k - 1] + MINUTE_MS) k++;
      // A row after the kept ones (past the hole, or past the range) proves them all final.
      const proven = k < c.length || inRange < rows.length;
      if (k < c.length) c = trimCandles(sliceCandles(c, 0, k));
      next = c.openTime[c.length - 1] + MINUTE_MS;
      if (!proven && !settled(c.openTime[c.length - 1])) {
        held = trimCandles(sliceCandles(c, c.length - 1, c.length));
        c = trimCandles(sliceCandles(c, 0, c.length - 1));
      }
      if (c.length > 0) out.push(c);
    }
    const c = out.length === 1 ? out[0] : concatCandles(out);
    for (const r of pageEmpty) pushRange(empty, r);
    if (c.length > 0) parts.push(c);
    await opts.onPage?.({ candles: c, emptyRanges: pageEmpty, cursor: next });
    cursor = next;
    if (frontier) break;
  }
  // A row still kept back is the open minute as far as anyone can tell: never returned.
  coveredEnd = Math.min(coveredEnd, held ? held.openTime[0] : cursor);
  return { candles: concatCandles(parts), emptyRanges: empty, pages, serverTime, coveredEnd };
}

function pushRange(list: EmptyRange[], r: EmptyRange): void {
  const last = list[list.length - 1];
  if (last && last.end === r.start) last.end = r.end;
  else list.push({ ...r });
}

/**
 * Every funding event of `symbol` with funding time in [start, end), page by page (1000 a page;
 * a short page ends it).
 */
export async function fetchFunding(
  client: BinanceRestClient,
  symbol: string,
  start: number,
  end: number,
  opts: CallOptions & { onPage?: () => void } = {},
): Promise<{ events: FundingEvent[]; pages: number }> {
  const events: FundingEvent[] = [];
  let cursor = start;
  let pages = 0;
  while (cursor < end) {
    const page = await client.fundingRate(symbol, cursor, {
      endTime: end - 1,
      limit: 1000,
      signal: opts.signal,
    });
    pages++;
    opts.onPage?.();
    for (const e of page) if (e.fundingTime >= start && e.fundingTime < end) events.push(e);
    if (page.length < 1000) break;
    cursor = page[page.length - 1].fundingTime + 1;
  }
  return { events, pages };
}
