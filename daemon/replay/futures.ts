import { DAY_MS, MINUTE_MS } from '../../schemas/intervals.ts';
import {
  ARCHIVE_KIND_DIRS,
  CM_WINDOW_MS,
  type KlineKind,
  REST_PATHS,
  klinesWeight,
} from '../../schemas/markets.ts';
import type { Kline, SeriesSpec, SeriesStore } from './data.ts';
import { hash2, hashString, unit } from './rng.ts';
import type { SymbolEntry } from './universe.ts';

/**
 * The futures side of the replay exchange: USD-M (`/fapi`) and COIN-M (`/dapi`) contracts, their
 * trade, mark, index and premium-index 1m klines, exchangeInfo and ticker/24hr, the request
 * weights Binance documents (klines by `limit`), COIN-M's 200-day window for mark and index
 * klines, and the futures archive tree (`/data/futures/{um|cm}/...`, CSVs with a header row,
 * milliseconds).
 *
 * Trade klines of a contract are the series `<market>:<SYMBOL>` of the replay's series store:
 * Binance's own USD-M archives where the product ships them (assets/replay/futures/um), a seeded
 * walk elsewhere. Mark and index klines follow the trade price within a few basis points, and
 * the premium index is the signed spread between them, all deterministic per minute.
 */

export type FuturesMarket = 'um' | 'cm';

export interface Contract {
  symbol: string;
  pair: string;
  contractType: 'PERPETUAL' | 'CURRENT_QUARTER';
  /** Delivery (ms); perpetuals carry Binance's far-future 2100-12-25. */
  deliveryDate: number;
  onboardDate: number;
  status: 'TRADING' | 'SETTLING' | 'CLOSE';
  baseAsset: string;
  quoteAsset: string;
  marginAsset: string;
  spec: SeriesSpec;
  quoteVolume24h: number;
}

/** A rejected futures request: Binance's status and error body. */
export class FuturesApiError extends Error {
  constructor(
    readonly status: number,
    readonly apiCode: number,
    message: string,
  ) {
    super(message);
  }
}

const PERPETUAL_DELIVERY = Date.UTC(2100, 11, 25, 8);
/** A COIN-M quarterly contract that delivered (its klines end there). */
export const DELIVERED_CM = { symbol: 'BTCUSD_240628', deliveryDate: Date.UTC(2024, 5, 28, 8) };

/**
 * The contracts of a futures market, built from the spot universe: USD-M perpetuals for the
 * most traded USDT pairs (BTCUSDT, ETHUSDT and AVAXUSDT always), COIN-M
 * perpetuals `<BASE>USD_PERP` for a few bases and one delivered quarterly contract.
 */
export function buildContracts(
  spot: ReadonlyMap<string, SymbolEntry>,
  market: FuturesMarket,
): Map<string, Contract> {
  const out = new Map<string, Contract>();
  const usdt = [...spot.values()]
    .filter((e) => e.quoteAsset === 'USDT' && e.status === 'TRADING' && e.quoteVolume24h > 0)
    .sort((a, b) => b.quoteVolume24h - a.quoteVolume24h);
  const twin = (base: string): SymbolEntry | undefined => spot.get(`${base}USDT`);
  const perpetual = (symbol: string, pair: string, base: string, quote: string): void => {
    const e = twin(base);
    const spec: SeriesSpec = e
      ? { ...e.spec, gaps: [], delistedAt: undefined }
      : {
          listedAt: Date.UTC(2020, 0, 1),
          basePrice: 10,
          dailyVol: 0.04,
          quotePerMinute: 20_000,
          zeroVolumeShare: 0.001,
        };
    // Futures trade more, and almost every minute.
    spec.zeroVolumeShare = Math.min(spec.zeroVolumeShare, 0.002);
    spec.quotePerMinute *= 3;
    out.set(symbol, {
      symbol,
      pair,
      contractType: 'PERPETUAL',
      deliveryDate: PERPETUAL_DELIVERY,
      onboardDate: spec.listedAt,
      status: 'TRADING',
      baseAsset: base,
      quoteAsset: quote,
      marginAsset: market === 'um' ? quote : base,
      spec,
      quoteVolume24h: (e?.quoteVolume24h ?? 1e8) * 2.5,
    });
  };
  if (market === 'um') {
    const bases = new Set(['BTC', 'ETH', 'AVAX']);
    for (const e of usdt) {
      if (bases.size >= 60) break;
      if (e.baseAsset === 'USDC' || e.baseAsset === 'FDUSD') continue;
      bases.add(e.baseAsset);
    }
    for (const b of bases) perpetual(`${b}USDT`, `${b}USDT`, b, 'USDT');
    return out;
  }
  for (const b of ['BTC', 'ETH', 'BNB', 'SOL', 'XRP', 'ADA', 'DOGE', 'LINK', 'DOT', 'LTC'])
    perpetual(`${b}USD_PERP`, `${b}USD`, b, 'USD');
  const btc = out.get('BTCUSD_PERP')!;
  out.set(DELIVERED_CM.symbol, {
    ...btc,
    symbol: DELIVERED_CM.symbol,
    contractType: 'CURRENT_QUARTER',
    deliveryDate: DELIVERED_CM.deliveryDate,
    onboardDate: Date.UTC(2023, 11, 29, 8),
    status: 'SETTLING',
    spec: {
      ...btc.spec,
      listedAt: Date.UTC(2023, 11, 29, 8),
      delistedAt: DELIVERED_CM.deliveryDate,
    },
    quoteVolume24h: 0,
  });
  return out;
}

/** The series store key of a contract's trade klines. */
export function seriesName(market: FuturesMarket, symbol: string): string {
  return `${market}:${symbol}`;
}

/** The weight of a futures request, as Binance documents it. */
export function futuresWeightOf(path: string, q: URLSearchParams): number {
  const kind = klineKindOf(path);
  if (kind) return klinesWeight('um', Number(q.get('limit') ?? 500));
  if (path.endsWith('/ticker/24hr')) return q.get('symbol') !== null ? 1 : 40;
  return 1;
}

/** The kline kind a futures path serves, or undefined. */
export function klineKindOf(path: string): KlineKind | undefined {
  const m =
    /^\/(fapi|dapi)\/v1\/(klines|markPriceKlines|indexPriceKlines|premiumIndexKlines)$/.exec(path);
  if (!m) return undefined;
  return (
    (
      { klines: 'klines', markPriceKlines: 'mark', indexPriceKlines: 'index' } as Record<
        string,
        KlineKind
      >
    )[m[2]] ?? 'premium'
  );
}

const INT_RE = /^-?[0-9]{1,20}$/;

/**
 * The futures REST routes of one market; `undefined` for a path it does not serve. `now` is the
 * exchange's clock, `klineNow` the clock the klines follow (see the replay's kline lag).
 */
export function futuresRoute(
  market: FuturesMarket,
  contracts: ReadonlyMap<string, Contract>,
  series: SeriesStore,
  path: string,
  q: URLSearchParams,
  clocks: {
    now: number;
    serverTime: number;
    klineNow: number;
    weightLimit: number;
    /** The weight window as exchangeInfo states it (`MINUTE`, 1). */
    window: { interval: string; num: number };
  },
): unknown {
  const paths = REST_PATHS[market];
  if (path === paths.time) return { serverTime: clocks.serverTime };
  if (path === paths.exchangeInfo) return exchangeInfo(market, contracts, clocks);
  if (path === paths.ticker24h) {
    const symbol = q.get('symbol');
    if (symbol !== null) return ticker(lookup(contracts, symbol), clocks.now);
    return [...contracts.values()].map((c) => ticker(c, clocks.now));
  }
  const kind = klineKindOf(path);
  if (kind && path.startsWith(market === 'um' ? '/fapi/' : '/dapi/'))
    return klines(market, kind, contracts, series, q, clocks.klineNow);
  if (path === paths.fundingRate) return fundingRates(market, contracts, series, q, clocks.now);
  return undefined;
}

const HOUR = 3_600_000;
const FOUR_HOURS_FROM = Date.UTC(2023, 9, 1);
const ONE_HOUR_FROM = Date.UTC(2024, 5, 1);
const BACK_TO_FOUR_FROM = Date.UTC(2025, 0, 1);

/**
 * A contract's funding interval (ms) at `t`, as Binance changes them: BTCUSDT, ETHUSDT and a
 * third of the others settle every 8 h throughout; a third move to 4 h on 2023-10-01; the rest
 * move to 4 h then, to 1 h on 2024-06-01, and back to 4 h on 2025-01-01.
 */
export function fundingIntervalAt(symbol: string, t: number): number {
  const cls = /^(BTC|ETH)USD/.test(symbol) ? 0 : hashString(symbol) % 3;
  if (cls === 0 || t < FOUR_HOURS_FROM) return 8 * HOUR;
  if (cls === 1 || t < ONE_HOUR_FROM || t >= BACK_TO_FOUR_FROM) return 4 * HOUR;
  return HOUR;
}

/**
 * The settlements of `symbol` in [from, to], oldest first, at most `limit`. Schedules change at
 * UTC midnight, a boundary of every interval, so the next settlement is always on the grid of
 * the interval in effect.
 */
export function fundingTimes(symbol: string, from: number, to: number, limit: number): number[] {
  const out: number[] = [];
  let t = from;
  while (out.length < limit) {
    const iv = fundingIntervalAt(symbol, t);
    const b = Math.ceil(t / iv) * iv;
    if (b > to) break;
    out.push(b);
    t = b + 1;
  }
  return out;
}

function fundingRates(
  market: FuturesMarket,
  contracts: ReadonlyMap<string, Contract>,
  series: SeriesStore,
  q: URLSearchParams,
  now: number,
): unknown {
  const c = lookup(contracts, q.get('symbol'));
  const start = intParam(q, 'startTime');
  const end = intParam(q, 'endTime');
  const limit = intParam(q, 'limit') ?? 100;
  if (limit < 1 || limit > 1000)
    throw new FuturesApiError(400, -1130, "Data sent for parameter 'limit' is not valid.");
  if (c.contractType !== 'PERPETUAL') return [];
  const hi = Math.min(end ?? Infinity, now, c.spec.delistedAt ?? Infinity);
  let times: number[];
  if (start !== undefined)
    times = fundingTimes(c.symbol, Math.max(start, c.spec.listedAt), hi, limit);
  else {
    // The newest `limit`: walk back a generous span, keep the tail.
    const span = limit * 8 * HOUR;
    times = fundingTimes(
      c.symbol,
      Math.max(c.spec.listedAt, hi - span),
      hi,
      Number.MAX_SAFE_INTEGER,
    );
    times = times.slice(-limit);
  }
  const name = seriesName(market, c.symbol);
  const h = hashString(name);
  return times.map((t) => {
    const u = unit(hash2(h, t / HOUR));
    const row = series.range(name, t - MINUTE_MS, t - MINUTE_MS, 1)[0];
    const mark = row ? derivedRow(row, 'mark', name)[4] : c.spec.basePrice.toFixed(2);
    return {
      symbol: c.symbol,
      // Settlements land a few ms after the hour, as Binance's do.
      fundingTime: t + (hash2(h, t) % 4),
      fundingRate: (0.0001 + (u - 0.5) * 0.0004).toFixed(8),
      markPrice: mark,
    };
  });
}

function lookup(contracts: ReadonlyMap<string, Contract>, symbol: string | null): Contract {
  if (symbol === null || symbol === '')
    throw new FuturesApiError(
      400,
      -1102,
      "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.",
    );
  const c = contracts.get(symbol);
  if (!c) throw new FuturesApiError(400, -1121, 'Invalid symbol.');
  return c;
}

/** The contract whose trade klines make a pair's index: its perpetual. */
function pairContract(contracts: ReadonlyMap<string, Contract>, pair: string | null): Contract {
  if (pair === null || pair === '')
    throw new FuturesApiError(
      400,
      -1102,
      "Mandatory parameter 'pair' was not sent, was empty/null, or malformed.",
    );
  for (const c of contracts.values())
    if (c.pair === pair && c.contractType === 'PERPETUAL') return c;
  throw new FuturesApiError(400, -1121, 'Invalid pair.');
}

function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null) return undefined;
  if (!INT_RE.test(v))
    throw new FuturesApiError(
      400,
      -1100,
      `Illegal characters found in parameter '${name}'; legal range is '^-?[0-9]{1,20}$'.`,
    );
  return Number(v);
}

function klines(
  market: FuturesMarket,
  kind: KlineKind,
  contracts: ReadonlyMap<string, Contract>,
  series: SeriesStore,
  q: URLSearchParams,
  now: number,
): Kline[] {
  const c =
    kind === 'index' ? pairContract(contracts, q.get('pair')) : lookup(contracts, q.get('symbol'));
  const interval = q.get('interval');
  if (interval !== '1m') throw new FuturesApiError(400, -1120, 'Invalid interval.');
  const start = intParam(q, 'startTime');
  let end = intParam(q, 'endTime');
  const limit = intParam(q, 'limit') ?? 500;
  if (limit < 1 || limit > 1500)
    throw new FuturesApiError(400, -1130, "Data sent for parameter 'limit' is not valid.");
  if (start !== undefined && end !== undefined && start > end)
    throw new FuturesApiError(400, -1023, 'Start time is greater than end time.');
  if (market === 'cm' && (kind === 'mark' || kind === 'index')) {
    if (start !== undefined && end !== undefined && end - start > CM_WINDOW_MS)
      throw new FuturesApiError(400, -1127, 'More than 200 days between startTime and endTime.');
    if (start !== undefined && end === undefined) end = start + CM_WINDOW_MS;
  }
  const hi = Math.min(end ?? Infinity, now);
  const name = seriesName(market, c.symbol);
  const rows = series.range(name, start ?? 0, hi, limit, start === undefined);
  const out = kind === 'klines' ? rows : rows.map((r) => derivedRow(r, kind, name));
  const openStart = Math.floor(now / MINUTE_MS) * MINUTE_MS;
  const last = out[out.length - 1];
  if (kind === 'klines' && last && last[0] === openStart) {
    // The still-open minute: volumes so far (prices as the whole minute, as the spot side does).
    const share = Math.min(1, Math.max(0, (now - last[0]) / MINUTE_MS));
    out[out.length - 1] = [
      last[0],
      last[1],
      last[2],
      last[3],
      last[4],
      scaled(last[5], share),
      last[6],
      scaled(last[7], share),
      Math.floor(last[8] * share),
      scaled(last[9], share),
      scaled(last[10], share),
      last[11],
    ];
  }
  return out;
}

function scaled(s: string, share: number): string {
  return (Number(s) * share).toFixed(decimals(s));
}

function decimals(s: string): number {
  const i = s.indexOf('.');
  return i < 0 ? 0 : s.length - i - 1;
}

/**
 * A mark, index or premium-index kline for the trade kline `r`: mark and index within a few
 * basis points of the trade prices (deterministic per series and minute), the premium index the
 * signed spread around zero. Volumes are zero and the trade count is the 60 one-second samples,
 * as Binance's answers carry them.
 */
export function derivedRow(r: Kline, kind: KlineKind, name: string): Kline {
  const h = hash2(hashString(`${name}/${kind}`), r[0] / MINUTE_MS);
  const d = Math.max(2, decimals(r[1]));
  if (kind === 'premium') {
    const a = (unit(h) - 0.5) * 0.001;
    const b = (unit(h >>> 5) - 0.5) * 0.001;
    const hi = Math.max(a, b) + unit(h >>> 9) * 0.0002;
    const lo = Math.min(a, b) - unit(h >>> 13) * 0.0002;
    const f = (x: number): string => x.toFixed(8);
    return [r[0], f(a), f(hi), f(lo), f(b), '0', r[6], '0', 60, '0', '0', '0'];
  }
  const bp = kind === 'mark' ? 0.0003 : 0.0002;
  const k1 = 1 + (unit(h) - 0.5) * bp;
  const k2 = 1 + (unit(h >>> 7) - 0.5) * bp;
  const o = Number(r[1]) * k1;
  const c = Number(r[4]) * k2;
  const hi = Math.max(Number(r[2]) * k1, o, c);
  const lo = Math.min(Number(r[3]) * k2, o, c);
  const f = (x: number): string => x.toFixed(d);
  // Rounding keeps high and low bounding open and close.
  const [fo, fc] = [f(o), f(c)];
  const fh = f(Math.max(hi, Number(fo), Number(fc)));
  const fl = f(Math.min(lo, Number(fo), Number(fc)));
  return [r[0], fo, fh, fl, fc, '0', r[6], '0', 60, '0', '0', '0'];
}

function exchangeInfo(
  market: FuturesMarket,
  contracts: ReadonlyMap<string, Contract>,
  clocks: { serverTime: number; weightLimit: number; window: { interval: string; num: number } },
): unknown {
  return {
    timezone: 'UTC',
    serverTime: clocks.serverTime,
    rateLimits: [
      {
        rateLimitType: 'REQUEST_WEIGHT',
        interval: clocks.window.interval,
        intervalNum: clocks.window.num,
        limit: clocks.weightLimit,
      },
      { rateLimitType: 'ORDERS', interval: 'MINUTE', intervalNum: 1, limit: 1200 },
      { rateLimitType: 'ORDERS', interval: 'SECOND', intervalNum: 10, limit: 300 },
    ],
    exchangeFilters: [],
    assets: [],
    symbols: [...contracts.values()].map((c) => ({
      symbol: c.symbol,
      pair: c.pair,
      contractType: c.contractType,
      deliveryDate: c.deliveryDate,
      onboardDate: c.onboardDate,
      ...(market === 'um' ? { status: c.status } : { contractStatus: c.status, status: c.status }),
      baseAsset: c.baseAsset,
      quoteAsset: c.quoteAsset,
      marginAsset: c.marginAsset,
      pricePrecision: 2,
      quantityPrecision: 3,
      underlyingType: 'COIN',
      ...(market === 'cm' ? { contractSize: c.baseAsset === 'BTC' ? 100 : 10 } : {}),
    })),
  };
}

function ticker(c: Contract, now: number): Record<string, unknown> {
  const p = c.spec.basePrice.toFixed(2);
  const qv = c.status === 'TRADING' ? c.quoteVolume24h : 0;
  return {
    symbol: c.symbol,
    pair: c.pair,
    lastPrice: p,
    openPrice: p,
    highPrice: p,
    lowPrice: p,
    volume: (qv / c.spec.basePrice).toFixed(3),
    quoteVolume: qv.toFixed(2),
    openTime: now - DAY_MS,
    closeTime: now,
    count: Math.round(qv / 500),
  };
}

/** `/data/futures/{um|cm}/{monthly|daily}/{kind dir}/SYM/1m/SYM-1m-KEY.zip[.CHECKSUM]`. */
export function parseFuturesArchivePath(path: string):
  | {
      market: FuturesMarket;
      period: 'monthly' | 'daily';
      kind: KlineKind;
      symbol: string;
      key: string;
      checksum: boolean;
    }
  | undefined {
  const m =
    /^\/data\/futures\/(um|cm)\/(monthly|daily)\/([a-zA-Z]+)\/([A-Z0-9_]+)\/1m\/([A-Z0-9_]+)-1m-([0-9-]+)\.zip(\.CHECKSUM)?$/.exec(
      path,
    );
  if (!m || m[4] !== m[5]) return undefined;
  const kind = (Object.entries(ARCHIVE_KIND_DIRS).find(([, d]) => d === m[3])?.[0] ?? undefined) as
    KlineKind | undefined;
  if (!kind) return undefined;
  return {
    market: m[1] as FuturesMarket,
    period: m[2] as 'monthly' | 'daily',
    kind,
    symbol: m[4],
    key: m[6],
    checksum: m[7] !== undefined,
  };
}

const HEADER =
  'open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore';

/** A futures archive CSV: Binance's header row, then the rows in milliseconds. */
export function futuresArchiveCsv(rows: readonly Kline[]): string {
  const parts: string[] = new Array(rows.length + 1);
  parts[0] = HEADER;
  for (let i = 0; i < rows.length; i++) parts[i + 1] = rows[i].join(',');
  return parts.join('\n') + '\n';
}

/** The rows of a futures archive file (trade klines or a derived kind) for [start, end). */
export function futuresArchiveRows(
  market: FuturesMarket,
  kind: KlineKind,
  contracts: ReadonlyMap<string, Contract>,
  series: SeriesStore,
  symbol: string,
  start: number,
  end: number,
): Kline[] | undefined {
  const c =
    kind === 'index'
      ? [...contracts.values()].find((x) => x.pair === symbol && x.contractType === 'PERPETUAL')
      : contracts.get(symbol);
  if (!c) return undefined;
  const name = seriesName(market, c.symbol);
  const rows = series.range(name, start, end - 1, Number.MAX_SAFE_INTEGER);
  return kind === 'klines' ? rows : rows.map((r) => derivedRow(r, kind, name));
}
