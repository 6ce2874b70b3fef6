import { ThreadxError } from '../../schemas/errors.ts';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { bucketStart, MINUTE_MS, nextBucketStart, type Interval } from '../../schemas/intervals.ts';
import {
  archiveCsv,
  buildZip,
  checksumText,
  MICROSECONDS_FROM,
  noSuchKey,
  parsePeriod,
} from './archive.ts';
import { type Kline, openCandle, SeriesStore } from './data.ts';
import { type FaultSpec, FaultPlan } from './faults.ts';
import { WeightLimiter, windowUnit } from './limiter.ts';
import { mulberry32 } from './rng.ts';
import { ReplayStreams, type StreamOptions, type StreamStats } from './stream.ts';
import { buildUniverse, type SymbolConfig, type SymbolEntry, tickerEntry } from './universe.ts';
import {
  type FuturesMarket,
  FuturesApiError,
  buildContracts,
  futuresArchiveCsv,
  futuresArchiveRows,
  futuresRoute,
  futuresWeightOf,
  parseFuturesArchivePath,
} from './futures.ts';
import type { LimiterStats } from './limiter.ts';

/**
 * The replay exchange: a local HTTP server speaking Binance's spot (`/api`), USD-M (`/fapi`) and
 * COIN-M (`/dapi`) REST protocols and the data.binance.vision archive layout (spot and futures),
 * over recorded and synthetic 1m data, with Binance's weight limits (one budget per market) and
 * injectable faults. Binds 127.0.0.1 only.
 */

export interface ReplayOptions {
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /** Server clock for market data: a fixed instant or a function. Default: the real clock. */
  now?: number | (() => number);
  /** REQUEST_WEIGHT limit per window (default 6000). */
  weightLimit?: number;
  /** REQUEST_WEIGHT limit per window of each futures market (default 2400). */
  futuresWeightLimit?: number;
  /** Window length in ms, a whole number of seconds (default 60 000). */
  windowMs?: number;
  /** Ban length after a 418 (default two windows, as Binance's first ban is 2 minutes). */
  banMs?: number;
  /** Clock the weight windows are aligned on (default Date.now). */
  rateClock?: () => number;
  /** Response latency in ms: fixed, or jittered uniformly in [min, max]. */
  latencyMs?: number | { min: number; max: number };
  /** Seed for synthetic series, fault draws and jitter (default 1). */
  seed?: number;
  faults?: FaultSpec[];
  /** Extra or overridden symbols. */
  symbols?: Record<string, SymbolConfig>;
  /** Serve only these symbols (others answer -1121). */
  onlySymbols?: string[];
  /** Delay after a period ends before its archive appears (default 0). */
  archiveDelayMs?: number;
  /**
   * How far `/api/v3/time` (and exchangeInfo's serverTime) runs ahead of the clock the klines and
   * the `Date` header follow (ms; default 0): a disagreement between the exchange's clocks.
   */
  timeSkewMs?: number;
  /**
   * How far the klines lag the exchange's clock (ms; default 0), as on a busy exchange or behind
   * a caching mirror or proxy: the newest kline served is the minute containing `now - lag`, still
   * open and partial as of that instant, while the `Date` header (and `/api/v3/time`, with
   * `timeSkewMs` on top) follow `now`.
   */
  klineLagMs?: number;
  /**
   * Recorded 1m klines to serve for a symbol, oldest first, beside the shipped archives: minutes
   * inside a recording without a row are the exchange's own gaps (outages).
   */
  recorded?: Record<string, Kline[]>;
  /** The kline WebSocket streams' timing (see `StreamOptions`). */
  stream?: StreamOptions;
}

export interface ReplayStats {
  /** Requests per path (query string excluded). */
  requests: Record<string, number>;
  klineRequests: number;
  archiveRequests: number;
  totalWeight: number;
  count429: number;
  count418: number;
  /** The highest used weight any window reached. */
  maxUsedWeight: number;
  /** Fault hits by kind. */
  faults: Record<string, number>;
  /** Each futures market's own weight budget (the fields above are spot's). */
  futures: Record<FuturesMarket, LimiterStats & { klineRequests: number }>;
}

export interface ReplayServer {
  url: string;
  /** Base of the archive tree (same server: `${url}`; paths start with /data/spot/...). */
  archiveUrl: string;
  /** Base of the WebSocket streams: `${wsUrl}/ws/<stream>`, `${wsUrl}/stream?streams=...`. */
  wsUrl: string;
  /** The streams' counters, and `cutAll` to drop every stream connection at once. */
  streams: { readonly stats: StreamStats; cutAll(): void };
  readonly stats: ReplayStats;
  weightLimit: number;
  windowMs: number;
  resetStats(): void;
  /** Clears the current window and any ban. */
  resetLimits(): void;
  setFaults(faults: FaultSpec[]): void;
  setNow(now: number | (() => number)): void;
  /** See `ReplayOptions.timeSkewMs`. */
  setTimeSkew(ms: number): void;
  /** See `ReplayOptions.klineLagMs`. */
  setKlineLag(ms: number): void;
  /** The server's market-data clock. */
  now(): number;
  close(): Promise<void>;
}

const INTERVAL_OK = new Set([
  '1s',
  '1m',
  '3m',
  '5m',
  '15m',
  '30m',
  '1h',
  '2h',
  '4h',
  '6h',
  '8h',
  '12h',
  '1d',
  '3d',
  '1w',
  '1M',
]);
const SYMBOL_RE = /^[A-Z0-9\-_.]{1,20}$/;
const INT_RE = /^-?[0-9]{1,20}$/;

/** A request the simulated exchange rejects, answered with Binance's status and error body. */
class ApiError extends ThreadxError {
  constructor(
    readonly status: number,
    readonly apiCode: number,
    msg: string,
  ) {
    super('BAD_REQUEST', msg, undefined, { status, apiCode });
  }
}

const mandatory = (p: string) =>
  new ApiError(
    400,
    -1102,
    `Mandatory parameter '${p}' was not sent, was empty/null, or malformed.`,
  );
const illegal = (p: string, range: string) =>
  new ApiError(
    400,
    -1100,
    `Illegal characters found in parameter '${p}'; legal range is '${range}'.`,
  );
const invalidSymbol = () => new ApiError(400, -1121, 'Invalid symbol.');

export async function startReplayServer(opts: ReplayOptions = {}): Promise<ReplayServer> {
  const seed = opts.seed ?? 1;
  let nowFn: () => number = clockOf(opts.now);
  let skew = opts.timeSkewMs ?? 0;
  let lag = opts.klineLagMs ?? 0;
  const rateClock = opts.rateClock ?? Date.now;
  const windowMs = opts.windowMs ?? 60_000;
  const unit = windowUnit(windowMs);
  const limiter = new WeightLimiter(
    opts.weightLimit ?? 6000,
    windowMs,
    opts.banMs ?? 2 * windowMs,
    rateClock,
  );
  const weightHeader = `X-MBX-USED-WEIGHT-${unit.num}${unit.letter}`;
  const futuresLimiters: Record<FuturesMarket, WeightLimiter> = {
    um: new WeightLimiter(
      opts.futuresWeightLimit ?? 2400,
      windowMs,
      opts.banMs ?? 2 * windowMs,
      rateClock,
    ),
    cm: new WeightLimiter(
      opts.futuresWeightLimit ?? 2400,
      windowMs,
      opts.banMs ?? 2 * windowMs,
      rateClock,
    ),
  };
  const universe = buildUniverse(opts.symbols, opts.onlySymbols);
  const contracts: Record<FuturesMarket, ReturnType<typeof buildContracts>> = {
    um: buildContracts(universe, 'um'),
    cm: buildContracts(universe, 'cm'),
  };
  const futuresSeries = new SeriesStore(
    (name) => {
      const [m, s] = name.split(':');
      return contracts[m as FuturesMarket]?.get(s)?.spec;
    },
    seed === 1 ? 0 : seed,
    undefined,
    opts.recorded,
  );
  const series = new SeriesStore(
    (s) => universe.get(s)?.spec,
    seed === 1 ? 0 : seed,
    undefined,
    opts.recorded,
  );
  const faults = new FaultPlan(seed);
  faults.set(opts.faults ?? []);
  const jitter = mulberry32(seed ^ 0x1a7e);
  const zips = new Map<string, { zip: Uint8Array; checksum: string; corrupt?: Uint8Array }>();
  let exchangeInfoCache: string | undefined;
  const stats = emptyStats();

  const latency = () => {
    const l = opts.latencyMs ?? 0;
    if (typeof l === 'number') return l;
    return l.min + (l.max - l.min) * jitter();
  };

  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, { code: -1000, msg: String(err) });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 30_000;
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname;
    stats.requests[path] = (stats.requests[path] ?? 0) + 1;
    const half = latency() / 2;
    // The request reaches the exchange half a round trip after it was sent.
    if (half > 0) await delay(half);
    if (path.startsWith('/data/futures/')) {
      stats.archiveRequests++;
      await answerFuturesArchive(path, res, half);
      return;
    }
    if (path.startsWith('/data/')) {
      stats.archiveRequests++;
      await answerArchive(path, res, half);
      return;
    }
    const market: FuturesMarket | null = path.startsWith('/fapi/')
      ? 'um'
      : path.startsWith('/dapi/')
        ? 'cm'
        : null;
    const lim = market ? futuresLimiters[market] : limiter;
    const weight = market
      ? futuresWeightOf(path, url.searchParams)
      : weightOf(path, url.searchParams);
    const verdict = lim.charge(weight);
    if (market) Object.assign(stats.futures[market], lim.stats);
    else Object.assign(stats, limiter.stats);
    const headers: Record<string, string> = {
      [weightHeader]: String(verdict.used),
      'Content-Type': 'application/json;charset=UTF-8',
      // The exchange's clock, as its answers carry it.
      Date: new Date(nowFn()).toUTCString(),
    };
    if (verdict.kind === 'banned') {
      headers['Retry-After'] = String(verdict.retryAfterS);
      const msg = `Way too much request weight used; IP banned until ${verdict.until}. Please use WebSocket Streams for live updates to avoid bans.`;
      return later(half, () => send(res, 418, { code: -1003, msg }, headers));
    }
    if (verdict.kind === 'limited') {
      headers['Retry-After'] = String(verdict.retryAfterS);
      const msg = `Too much request weight used; current limit is ${lim.limit} request weight per ${unit.num} ${unit.interval}. Please use WebSocket Streams for live updates to avoid polling the API.`;
      return later(half, () => send(res, 429, { code: -1003, msg }, headers));
    }
    const symbolParam = url.searchParams.get('symbol') ?? undefined;
    const fired = faults.draw(path, symbolParam, [
      'http5xx',
      'reset',
      'hang',
      'truncated',
      'rateLimit',
    ]);
    for (const f of fired) stats.faults[f.kind] = (stats.faults[f.kind] ?? 0) + 1;
    const transport = fired[0];
    if (transport?.kind === 'rateLimit') {
      // Counted in stats.faults.rateLimit (count429/count418 are the limiter's own).
      const status = transport.status ?? 429;
      headers['Retry-After'] = String(transport.retryAfter ?? 1);
      headers[weightHeader] = String(lim.limit + 1);
      const msg = 'Too much request weight used (injected).';
      return later(half, () => send(res, status, { code: -1003, msg }, headers));
    }
    if (transport?.kind === 'reset') {
      req.socket.destroy();
      return;
    }
    if (transport?.kind === 'hang') return;
    if (transport?.kind === 'http5xx') {
      const body = {
        code: -1007,
        msg: 'Timeout waiting for response from backend server. Send status unknown; execution status unknown.',
      };
      return later(half, () => send(res, transport.status ?? 503, body, headers));
    }
    let status = 200;
    let body: unknown;
    try {
      if (market) {
        body = futuresRoute(market, contracts[market], futuresSeries, path, url.searchParams, {
          now: nowFn(),
          serverTime: nowFn() + skew,
          klineNow: nowFn() - lag,
          weightLimit: lim.limit,
          window: { interval: unit.interval, num: unit.num },
        });
        if (/Klines$|\/klines$/.test(path) && body !== undefined) {
          stats.klineRequests++;
          stats.futures[market].klineRequests++;
        }
      } else body = route(path, url.searchParams);
    } catch (err) {
      if (!(err instanceof ApiError) && !(err instanceof FuturesApiError)) throw err;
      status = err.status;
      body = { code: err.apiCode, msg: err.message };
    }
    if (body === undefined) {
      return later(half, () => {
        res.writeHead(404, { [weightHeader]: String(verdict.used) }).end('');
      });
    }
    let text = typeof body === 'string' ? body : JSON.stringify(body);
    if (transport?.kind === 'truncated')
      text = text.slice(0, Math.max(1, Math.floor(text.length / 2)));
    return later(half, () => sendText(res, status, text, headers));
  }

  function route(path: string, q: URLSearchParams): unknown {
    switch (path) {
      case '/api/v3/ping':
        return {};
      case '/api/v3/time':
        return { serverTime: nowFn() + skew };
      case '/api/v3/exchangeInfo':
        return exchangeInfo(q);
      case '/api/v3/ticker/24hr':
        return ticker(q);
      case '/api/v3/klines':
        stats.klineRequests++;
        return klines(q);
      default:
        return undefined;
    }
  }

  function lookup(symbol: string | null): SymbolEntry {
    if (symbol === null || symbol === '') throw mandatory('symbol');
    if (!SYMBOL_RE.test(symbol)) throw illegal('symbol', '^[A-Z0-9-_.]{1,20}$');
    const e = universe.get(symbol);
    if (!e) throw invalidSymbol();
    return e;
  }

  function intParam(q: URLSearchParams, name: string): number | undefined {
    const v = q.get(name);
    if (v === null) return undefined;
    if (!INT_RE.test(v)) throw illegal(name, '^-?[0-9]{1,20}$');
    return Number(v);
  }

  function klines(q: URLSearchParams): Kline[] {
    const e = lookup(q.get('symbol'));
    const interval = q.get('interval');
    if (interval === null || interval === '') throw mandatory('interval');
    if (!INTERVAL_OK.has(interval) || interval === '1s')
      throw new ApiError(400, -1120, 'Invalid interval.');
    const start = intParam(q, 'startTime');
    const end = intParam(q, 'endTime');
    const limit = intParam(q, 'limit') ?? 500;
    if (limit < 1 || limit > 1000)
      throw new ApiError(400, -1130, "Data sent for parameter 'limit' is not valid.");
    if (start !== undefined && end !== undefined && start > end) {
      throw new ApiError(400, -1023, 'Start time is greater than end time.');
    }
    // The klines are built up to `now - lag`: the minute containing it is open and partial.
    const now = nowFn() - lag;
    const hi = Math.min(end ?? Infinity, now);
    let rows: Kline[];
    if (interval === '1m') {
      const newest = start === undefined;
      // Missing minutes are absent before the limit applies, as in a real outage.
      const skip = faults.hasMissing() ? (t: number) => faults.isMissing(e.symbol, t) : undefined;
      rows = series.range(e.symbol, start ?? 0, hi, limit, newest, skip);
    } else {
      rows = aggregated(e.symbol, interval as Interval, start, hi, limit);
    }
    const openStart = Math.floor(now / MINUTE_MS) * MINUTE_MS;
    if (interval === '1m' && rows.length > 0 && rows[rows.length - 1][0] === openStart) {
      rows[rows.length - 1] = openCandle(rows[rows.length - 1], now);
    }
    return damage(e.symbol, rows, now);
  }

  /**
   * Other Binance intervals aggregated from the 1m series as the exchange does: close the last
   * price and volumes, quote volume and trades summed over every minute, but open, high and low
   * over the minutes that traded (volume or trades > 0) when the bucket has any; a bucket in which
   * nothing traded is the plain aggregate of its flat minutes.
   */
  function aggregated(
    symbol: string,
    iv: Interval,
    start: number | undefined,
    hi: number,
    limit: number,
  ) {
    let lo: number;
    if (start !== undefined) {
      lo = bucketStart(start, iv) === start ? start : nextBucketStart(bucketStart(start, iv), iv);
    } else {
      lo = bucketStart(hi, iv);
      for (let i = 1; i < limit; i++) lo = bucketStart(lo - 1, iv);
    }
    const minutes = series.range(symbol, lo, hi, Number.MAX_SAFE_INTEGER);
    const out: Kline[] = [];
    let cur: Kline | undefined;
    let curEnd = 0;
    let traded = false;
    const sum = (a: string, b: string): string => (Number(a) + Number(b)).toFixed(8);
    for (const r of minutes) {
      if (faults.isMissing(symbol, r[0])) continue;
      const t = Number(r[5]) > 0 || r[8] > 0;
      if (!cur || r[0] >= curEnd) {
        if (cur) out.push(cur);
        const b = bucketStart(r[0], iv);
        curEnd = nextBucketStart(b, iv);
        cur = [b, r[1], r[2], r[3], r[4], r[5], curEnd - 1, r[7], r[8], r[9], r[10], '0'];
        traded = t;
        continue;
      }
      if (t && !traded) {
        // The first minute that traded: open, high and low restart from it.
        cur[1] = r[1];
        cur[2] = r[2];
        cur[3] = r[3];
        traded = true;
      } else if (t || !traded) {
        cur[2] = String(Math.max(Number(cur[2]), Number(r[2])).toFixed(8));
        cur[3] = String(Math.min(Number(cur[3]), Number(r[3])).toFixed(8));
      }
      cur[4] = r[4];
      cur[5] = sum(cur[5], r[5]);
      cur[7] = sum(cur[7], r[7]);
      cur[8] += r[8];
      cur[9] = sum(cur[9], r[9]);
      cur[10] = sum(cur[10], r[10]);
    }
    if (cur) out.push(cur);
    return start !== undefined ? out.slice(0, limit) : out.slice(-limit);
  }

  /** Row-level faults on a kline page. */
  function damage(symbol: string, rows: Kline[], now: number): Kline[] {
    const fired = faults.draw('/api/v3/klines', symbol, [
      'malformed',
      'duplicate',
      'outOfOrder',
      'openLast',
      'shortPage',
    ]);
    if (fired.length === 0) return rows;
    const out: Kline[] = rows.slice();
    for (const f of fired) {
      stats.faults[f.kind] = (stats.faults[f.kind] ?? 0) + 1;
      if (out.length === 0 && f.kind !== 'openLast') continue;
      const i = Math.floor(faults.next() * out.length);
      switch (f.kind) {
        case 'malformed': {
          const bad = out[i].slice() as unknown[];
          const how = Math.floor(faults.next() * 3);
          if (how === 0) bad.pop();
          else if (how === 1) bad[2] = 'NaN?';
          else bad[0] = (bad[0] as number) + 1234;
          out[i] = bad as Kline;
          break;
        }
        case 'duplicate':
          out.splice(i, 0, out[i], out[i]);
          break;
        case 'outOfOrder':
          for (let k = 0; k + 1 < out.length; k += 2) [out[k], out[k + 1]] = [out[k + 1], out[k]];
          break;
        case 'shortPage':
          out.splice(f.rows ?? 100);
          break;
        case 'openLast': {
          const t = Math.floor(now / MINUTE_MS) * MINUTE_MS;
          const open = series.range(symbol, t, t, 1)[0];
          if (open && out[out.length - 1]?.[0] !== t) out.push(openCandle(open, now));
          break;
        }
        default:
          break;
      }
    }
    return out;
  }

  function exchangeInfo(q: URLSearchParams): unknown {
    const symbol = q.get('symbol');
    const symbols = q.get('symbols');
    const head = {
      timezone: 'UTC',
      serverTime: nowFn() + skew,
      rateLimits: [
        {
          rateLimitType: 'REQUEST_WEIGHT',
          interval: unit.interval,
          intervalNum: unit.num,
          limit: limiter.limit,
        },
        { rateLimitType: 'ORDERS', interval: 'SECOND', intervalNum: 10, limit: 100 },
        { rateLimitType: 'ORDERS', interval: 'DAY', intervalNum: 1, limit: 200000 },
        { rateLimitType: 'RAW_REQUESTS', interval: 'MINUTE', intervalNum: 5, limit: 61000 },
      ],
      exchangeFilters: [],
    };
    if (symbol !== null) return { ...head, symbols: [lookup(symbol).info] };
    if (symbols !== null) {
      const list = parseSymbolList(symbols);
      return { ...head, symbols: list.map((s) => lookup(s).info) };
    }
    // The full answer is large and fixed: serialise it once, splicing in the live server time.
    exchangeInfoCache ??= JSON.stringify([...universe.values()].map((e) => e.info));
    return `${JSON.stringify(head).slice(0, -1)},"symbols":${exchangeInfoCache}}`;
  }

  function ticker(q: URLSearchParams): unknown {
    const now = nowFn();
    const symbol = q.get('symbol');
    const symbols = q.get('symbols');
    if (symbol !== null) return tickerEntry(lookup(symbol), now);
    const list = symbols !== null ? parseSymbolList(symbols).map(lookup) : [...universe.values()];
    return list.map((e) => tickerEntry(e, now));
  }

  async function answerArchive(path: string, res: ServerResponse, half: number): Promise<void> {
    const m =
      /^\/data\/spot\/(monthly|daily)\/klines\/([A-Z0-9]+)\/([0-9a-zA-Z]+)\/([A-Z0-9]+)-([0-9a-zA-Z]+)-([0-9-]+)\.zip(\.CHECKSUM)?$/.exec(
        path,
      );
    const notFound = () =>
      later(half, () => sendText(res, 404, noSuchKey(path), { 'Content-Type': 'application/xml' }));
    if (!m || m[2] !== m[4] || m[3] !== m[5] || m[3] !== '1m') return notFound();
    const [, kind, symbol, , , , key, isChecksum] = m;
    const fired = faults.draw(path, symbol, [
      'http5xx',
      'reset',
      'hang',
      ...(isChecksum ? [] : ['corruptArchive' as const]),
    ]);
    for (const f of fired) stats.faults[f.kind] = (stats.faults[f.kind] ?? 0) + 1;
    if (fired.some((f) => f.kind === 'reset')) return void res.socket?.destroy();
    if (fired.some((f) => f.kind === 'hang')) return;
    const err = fired.find((f) => f.kind === 'http5xx');
    if (err) return later(half, () => sendText(res, err.status ?? 503, 'Service Unavailable', {}));
    const period = parsePeriod(kind as 'monthly' | 'daily', key);
    const e = universe.get(symbol);
    if (!period || !e || period.end > nowFn() - (opts.archiveDelayMs ?? 0)) return notFound();
    const zipName = `${symbol}-1m-${key}.zip`;
    const cacheKey = `${kind}/${zipName}`;
    let entry = zips.get(cacheKey);
    if (!entry) {
      let rows = series.range(symbol, period.start, period.end - 1, Number.MAX_SAFE_INTEGER);
      if (faults.hasMissing()) rows = rows.filter((r) => !faults.isMissing(symbol, r[0]));
      if (rows.length === 0) return notFound();
      const micro = period.start >= MICROSECONDS_FROM;
      const csv = archiveCsv(rows, micro);
      const zip = buildZip(zipName.replace(/\.zip$/, '.csv'), csv);
      entry = { zip, checksum: checksumText(zipName, zip) };
      zips.set(cacheKey, entry);
      if (zips.size > 32) zips.delete(zips.keys().next().value as string);
    }
    if (isChecksum)
      return later(half, () =>
        sendText(res, 200, entry.checksum, { 'Content-Type': 'text/plain' }),
      );
    let bytes = entry.zip;
    if (fired.some((f) => f.kind === 'corruptArchive')) {
      // A republished-looking file: a valid zip whose content differs from the checksummed one.
      const rows = series
        .range(symbol, period.start, period.end - 1, Number.MAX_SAFE_INTEGER)
        .map((r) => {
          const c = r.slice() as Kline;
          c[4] = (Number(c[4]) * 1.0001).toFixed(8);
          return c;
        });
      bytes = entry.corrupt ??= buildZip(
        zipName.replace(/\.zip$/, '.csv'),
        archiveCsv(rows, period.start >= MICROSECONDS_FROM),
      );
    }
    const out = bytes;
    return later(half, () => {
      res.writeHead(200, {
        'Content-Type': 'application/zip',
        'Content-Length': String(out.length),
      });
      res.end(out);
    });
  }

  /** The futures archive tree: the same files and checksums, a header row, milliseconds. */
  async function answerFuturesArchive(
    path: string,
    res: ServerResponse,
    half: number,
  ): Promise<void> {
    const notFound = () =>
      later(half, () => sendText(res, 404, noSuchKey(path), { 'Content-Type': 'application/xml' }));
    const p = parseFuturesArchivePath(path);
    if (!p) return notFound();
    const fired = faults.draw(path, p.symbol, [
      'http5xx',
      'reset',
      'hang',
      ...(p.checksum ? [] : ['corruptArchive' as const]),
    ]);
    for (const f of fired) stats.faults[f.kind] = (stats.faults[f.kind] ?? 0) + 1;
    if (fired.some((f) => f.kind === 'reset')) return void res.socket?.destroy();
    if (fired.some((f) => f.kind === 'hang')) return;
    const err = fired.find((f) => f.kind === 'http5xx');
    if (err) return later(half, () => sendText(res, err.status ?? 503, 'Service Unavailable', {}));
    const period = parsePeriod(p.period, p.key);
    if (!period || period.end > nowFn() - (opts.archiveDelayMs ?? 0)) return notFound();
    const zipName = `${p.symbol}-1m-${p.key}.zip`;
    const cacheKey = path.replace(/\.CHECKSUM$/, '');
    let entry = zips.get(cacheKey);
    if (!entry) {
      const rows = futuresArchiveRows(
        p.market,
        p.kind,
        contracts[p.market],
        futuresSeries,
        p.symbol,
        period.start,
        period.end,
      );
      if (!rows || rows.length === 0) return notFound();
      const zip = buildZip(zipName.replace(/\.zip$/, '.csv'), futuresArchiveCsv(rows));
      entry = { zip, checksum: checksumText(zipName, zip) };
      zips.set(cacheKey, entry);
      if (zips.size > 32) zips.delete(zips.keys().next().value as string);
    }
    const e = entry;
    if (p.checksum)
      return later(half, () => sendText(res, 200, e.checksum, { 'Content-Type': 'text/plain' }));
    // A corrupt download: the bytes differ from the checksummed ones.
    const out = fired.some((f) => f.kind === 'corruptArchive')
      ? Uint8Array.from(e.zip, (b, i) => (i === e.zip.length >> 1 ? b ^ 0xff : b))
      : e.zip;
    return later(half, () => {
      res.writeHead(200, {
        'Content-Type': 'application/zip',
        'Content-Length': String(out.length),
      });
      res.end(out);
    });
  }
  const streams = new ReplayStreams(
    {
      now: () => nowFn() - lag,
      minute(symbol, t) {
        if (!universe.get(symbol) || faults.isMissing(symbol, t)) return undefined;
        const row = series.range(symbol, t, t, 1)[0];
        return row?.[0] === t ? row : undefined;
      },
      faults,
      countFault(kind) {
        stats.faults[kind] = (stats.faults[kind] ?? 0) + 1;
      },
    },
    opts.stream,
  );
  server.on('upgrade', (req, socket, head) => {
    if (!streams.upgrade(req, socket, head)) socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    archiveUrl: url,
    wsUrl: `ws://127.0.0.1:${port}`,
    streams,
    get stats() {
      return structuredClone({ ...stats, ...limiter.stats });
    },
    get weightLimit() {
      return limiter.limit;
    },
    set weightLimit(v: number) {
      limiter.limit = v;
      exchangeInfoCache = undefined;
    },
    windowMs,
    resetStats() {
      Object.assign(stats, emptyStats());
      limiter.resetStats();
      futuresLimiters.um.resetStats();
      futuresLimiters.cm.resetStats();
    },
    resetLimits() {
      limiter.resetState();
      futuresLimiters.um.resetState();
      futuresLimiters.cm.resetState();
    },
    setFaults(f) {
      faults.set(f);
      zips.clear();
    },
    setNow(n) {
      nowFn = clockOf(n);
    },
    now: () => nowFn(),
    setTimeSkew(ms: number) {
      skew = ms;
    },
    setKlineLag(ms: number) {
      lag = ms;
    },
    close() {
      return new Promise<void>((resolve) => {
        streams.close();
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
        server.closeAllConnections();
      });
    },
  };
}

function emptyStats(): ReplayStats {
  return {
    requests: {},
    klineRequests: 0,
    archiveRequests: 0,
    totalWeight: 0,
    count429: 0,
    count418: 0,
    maxUsedWeight: 0,
    faults: {},
    futures: {
      um: { totalWeight: 0, count429: 0, count418: 0, maxUsedWeight: 0, klineRequests: 0 },
      cm: { totalWeight: 0, count429: 0, count418: 0, maxUsedWeight: 0, klineRequests: 0 },
    },
  };
}

function clockOf(now: number | (() => number) | undefined): () => number {
  if (now === undefined) return Date.now;
  if (typeof now === 'number') return () => now;
  return now;
}

function parseSymbolList(text: string): string[] {
  try {
    const v: unknown = JSON.parse(text);
    if (Array.isArray(v) && v.every((s) => typeof s === 'string')) return v as string[];
  } catch {
    // Fall through to Binance's error.
  }
  throw illegal('symbols', '^\\[("[A-Z0-9-_.]{1,20}"(,"[A-Z0-9-_.]{1,20}"){0,}){0,1}\\]$');
}

/** Binance's documented request weights. */
function weightOf(path: string, q: URLSearchParams): number {
  switch (path) {
    case '/api/v3/klines':
      return 2;
    case '/api/v3/exchangeInfo':
      return 20;
    case '/api/v3/ticker/24hr': {
      if (q.get('symbol') !== null) return 2;
      const list = q.get('symbols');
      if (list === null) return 80;
      const n = list.split(',').length;
      return n <= 20 ? 2 : n <= 100 ? 40 : 80;
    }
    default:
      return 1;
  }
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  sendText(res, status, JSON.stringify(body), {
    'Content-Type': 'application/json;charset=UTF-8',
    ...headers,
  });
}

function sendText(
  res: ServerResponse,
  status: number,
  text: string,
  headers: Record<string, string>,
) {
  if (res.destroyed) return;
  res.writeHead(status, { ...headers, 'Content-Length': String(Buffer.byteLength(text)) });
  res.end(text);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function later(ms: number, fn: () => void): Promise<void> {
  if (ms <= 0) {
    fn();
    return Promise.resolve();
  }
  return delay(ms).then(fn);
}
