/**
 * Markets and kline kinds: what identifies a series in the bank besides its symbol and interval,
 * and the per-market facts of Binance's REST and archive protocols (paths, page size, request
 * weight). No zod and no I/O, so every layer (the webviews too) can import it.
 *
 * A series is (market, kind, symbol): `spot` trade klines of BTCUSDT, `um` (USD-M futures) mark
 * price klines of BTCUSDT, `cm` (COIN-M) index price klines of the pair BTCUSD, ... Spot trade
 * klines are the default everywhere, so a spot-only bank and every spot command stay as they were.
 */

export const MARKETS = ['spot', 'um', 'cm'] as const;
export type Market = (typeof MARKETS)[number];

/** The kline kinds: trade price, mark price, index price and premium index. */
export const KLINE_KINDS = ['klines', 'mark', 'index', 'premium'] as const;
export type KlineKind = (typeof KLINE_KINDS)[number];

export const DEFAULT_MARKET: Market = 'spot';
export const DEFAULT_KIND: KlineKind = 'klines';

export function isMarket(s: unknown): s is Market {
  return typeof s === 'string' && (MARKETS as readonly string[]).includes(s);
}

export function isKlineKind(s: unknown): s is KlineKind {
  return typeof s === 'string' && (KLINE_KINDS as readonly string[]).includes(s);
}

export const MARKET_NAMES: Record<Market, string> = {
  spot: 'Spot',
  um: 'USD-M futures',
  cm: 'COIN-M futures',
};

export const KIND_NAMES: Record<KlineKind, string> = {
  klines: 'trade price',
  mark: 'mark price',
  index: 'index price',
  premium: 'premium index',
};

/**
 * The sign a kind's prices take: the premium index is the spread between the contract's price
 * and its index, around zero, so its prices may be zero or negative; every other kind's are
 * positive.
 */
export type PriceSign = 'positive' | 'signed';

export function pricesOf(kind: KlineKind | undefined): PriceSign {
  return kind === 'premium' ? 'signed' : 'positive';
}

/** Which kinds a market publishes: spot has trade klines only. */
export function kindsOf(market: Market): readonly KlineKind[] {
  return market === 'spot' ? ['klines'] : KLINE_KINDS;
}

/** One series: a market, a kline kind, a symbol (a pair for index klines). */
export interface Series {
  market: Market;
  kind: KlineKind;
  symbol: string;
}

/**
 * The bank's key of a series: the bare symbol for spot trade klines (so a spot bank's folders,
 * dataset ids and journal names are the ones it always had), `SYMBOL@um`, `SYMBOL@um.mark`,
 * `SYMBOL@cm.index` ... for the others. Built from a validated symbol and known names only, so
 * it is safe as a folder and file name.
 */
export function seriesKey(s: Series): string {
  if (s.market === 'spot' && s.kind === 'klines') return s.symbol;
  return `${s.symbol}@${s.market}${s.kind === 'klines' ? '' : `.${s.kind}`}`;
}

const KEY = /^([A-Z0-9][A-Z0-9_]{1,24})(?:@(spot|um|cm)(?:\.(klines|mark|index|premium))?)?$/;

/** The series a bank key names, or undefined when the text is not one. */
export function parseSeriesKey(key: string): Series | undefined {
  const m = KEY.exec(key);
  if (!m) return undefined;
  const market = (m[2] ?? 'spot') as Market;
  const kind = (m[3] ?? 'klines') as KlineKind;
  if (market === 'spot' && kind !== 'klines') return undefined;
  // One key per series: the spot default has no suffix.
  if (m[2] === 'spot') return undefined;
  return { market, kind, symbol: m[1] };
}

export function isSeriesKey(key: string): boolean {
  return parseSeriesKey(key) !== undefined;
}

/** How a person reads a series: `BTCUSDT`, `BTCUSDT (USD-M futures, mark price)`. */
export function seriesLabel(s: Series): string {
  if (s.market === 'spot' && s.kind === 'klines') return s.symbol;
  return `${s.symbol} (${MARKET_NAMES[s.market]}${s.kind === 'klines' ? '' : `, ${KIND_NAMES[s.kind]}`})`;
}

/** The REST paths of a market. */
export interface MarketPaths {
  time: string;
  exchangeInfo: string;
  ticker24h: string;
  fundingRate?: string;
  klines: Record<KlineKind, string>;
}

export const REST_PATHS: Record<Market, MarketPaths> = {
  spot: {
    time: '/api/v3/time',
    exchangeInfo: '/api/v3/exchangeInfo',
    ticker24h: '/api/v3/ticker/24hr',
    klines: {
      klines: '/api/v3/klines',
      mark: '/api/v3/klines',
      index: '/api/v3/klines',
      premium: '/api/v3/klines',
    },
  },
  um: {
    time: '/fapi/v1/time',
    exchangeInfo: '/fapi/v1/exchangeInfo',
    ticker24h: '/fapi/v1/ticker/24hr',
    fundingRate: '/fapi/v1/fundingRate',
    klines: {
      klines: '/fapi/v1/klines',
      mark: '/fapi/v1/markPriceKlines',
      index: '/fapi/v1/indexPriceKlines',
      premium: '/fapi/v1/premiumIndexKlines',
    },
  },
  cm: {
    time: '/dapi/v1/time',
    exchangeInfo: '/dapi/v1/exchangeInfo',
    ticker24h: '/dapi/v1/ticker/24hr',
    fundingRate: '/dapi/v1/fundingRate',
    klines: {
      klines: '/dapi/v1/klines',
      mark: '/dapi/v1/markPriceKlines',
      index: '/dapi/v1/indexPriceKlines',
      premium: '/dapi/v1/premiumIndexKlines',
    },
  },
};

/** Default REST hosts, one per market (`[data.api]` `base_url`, `um_base_url`, `cm_base_url`). */
export const DEFAULT_BASE_URLS: Record<Market, string> = {
  spot: 'https://api.binance.com',
  um: 'https://fapi.binance.com',
  cm: 'https://dapi.binance.com',
};

/** The query parameter naming what a kline request is about: `pair` for index klines. */
export function klinesParam(kind: KlineKind): 'symbol' | 'pair' {
  return kind === 'index' ? 'pair' : 'symbol';
}

/**
 * The weight of one kline request. Spot: 2 whatever the limit. Futures, by `limit`: [1,100) 1,
 * [100,500) 2, [500,1000] 5, above 1000 10.
 */
export function klinesWeight(market: Market, limit: number): number {
  if (market === 'spot') return 2;
  if (limit < 100) return 1;
  if (limit < 500) return 2;
  if (limit <= 1000) return 5;
  return 10;
}

/**
 * Candles a kline request asks for: the cheapest per candle. Spot: 1000 (weight 2 whatever the
 * limit). Futures: 499 (weight 2, 249.5 candles per weight, against 200 at 1000 and 150 at 1500).
 */
export function klinesPage(market: Market): number {
  return market === 'spot' ? 1000 : 499;
}

/** The largest `limit` a market's kline endpoints accept. */
export function klinesMaxLimit(market: Market): number {
  return market === 'spot' ? 1000 : 1500;
}

/**
 * COIN-M mark and index klines allow at most 200 days between startTime and endTime; the
 * client then always sends an endTime within it.
 */
export const CM_WINDOW_MS = 200 * 86_400_000;

export function klinesWindowMs(market: Market, kind: KlineKind): number | undefined {
  return market === 'cm' && (kind === 'mark' || kind === 'index') ? CM_WINDOW_MS : undefined;
}

/** The folder of a kind in Binance's futures archive tree. */
export const ARCHIVE_KIND_DIRS: Record<KlineKind, string> = {
  klines: 'klines',
  mark: 'markPriceKlines',
  index: 'indexPriceKlines',
  premium: 'premiumIndexKlines',
};

/** `spot`, `futures/um`, `futures/cm`: the market's folder in data.binance.vision's tree. */
export function archiveMarketDir(market: Market): string {
  return market === 'spot' ? 'spot' : `futures/${market}`;
}

/** Whether a kind's prices may be negative (the premium index is a signed spread). */
export function signedPrices(kind: KlineKind): boolean {
  return kind === 'premium';
}
