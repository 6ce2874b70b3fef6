import { DAY_MS } from '../../schemas/intervals.ts';
import { hashString, unit } from './rng.ts';
import type { SeriesSpec } from './data.ts';

/**
 * The replay exchange's symbol universe: exchangeInfo and ticker/24hr, synthetic and in today's
 * shape (`"permissions": []` plus `permissionSets`, NOTIONAL, PERCENT_PRICE_BY_SIDE).
 *
 * - A catalogue of spot pairs: `<BASE>USDT` for about 150 well-known base assets (TRADING, with a
 *   24h quote volume seeded by the name, the majors largest), `<BASE>BTC` for the larger ones, and
 *   a few long-delisted pairs in BREAK.
 * - The USDC pairs the product needs, then `<BASE>USDC` for the most traded USDT bases until more
 *   than 100 USDC pairs trade.
 * - MATIC became POL in 2024: MATICUSDC and MATICUSDT are BREAK, POLUSDC and POLUSDT trade.
 */

export type SymbolStatus = 'TRADING' | 'END_OF_DAY' | 'HALT' | 'BREAK' | 'CANCEL_ONLY';

/** A symbol the replay serves, as configured by a test or the CLI. */
export interface SymbolConfig {
  status?: SymbolStatus;
  baseAsset?: string;
  quoteAsset?: string;
  listedAt?: number;
  delistedAt?: number;
  gaps?: Array<[number, number]>;
  basePrice?: number;
  dailyVol?: number;
  quotePerMinute?: number;
  zeroVolumeShare?: number;
  /** 24h quote volume reported by ticker/24hr. */
  quoteVolume24h?: number;
}

export interface SymbolEntry {
  symbol: string;
  status: SymbolStatus;
  baseAsset: string;
  quoteAsset: string;
  /** The exchangeInfo entry as served. */
  info: Record<string, unknown>;
  spec: SeriesSpec;
  quoteVolume24h: number;
}

interface RawSymbol {
  symbol: string;
  status: string;
  baseAsset: string;
  quoteAsset: string;
  filters: Array<Record<string, unknown>>;
  permissions?: string[];
  [k: string]: unknown;
}

/** Base assets of the synthetic catalogue, roughly by market size (the first trade most). */
const CATALOGUE_BASES = (
  'BTC ETH USDC BNB SOL XRP FDUSD DOGE ADA TRX AVAX SHIB DOT LINK BCH NEAR MATIC LTC UNI ICP PEPE ETC ' +
  'APT FET SUI STX FIL ARB ATOM IMX OP INJ HBAR VET MKR RNDR WIF GRT TIA AR SEI THETA ' +
  'ALGO FLOKI BONK JUP LDO RUNE FTM AAVE PYTH ENA BTT FLOW GALA EGLD AXS SAND QNT CHZ KCS ' +
  'ORDI MANA XTZ EOS NEO STRK SNX KAVA IOTA MINA CFX WLD DYDX CAKE BLUR JASMY APE CRV ' +
  'ROSE PENDLE ZEC LUNC 1INCH COMP ENS XEC GMT ZIL DASH RVN TWT AXL CELO ONE BAT ENJ ' +
  'KSM ZRX QTUM HOT ANKR ICX JTO SUSHI IOTX YFI MASK ONT WAVES BAL GLM LRC TFUEL SKL ' +
  'SC AUDIO STORJ ID CELR SSV RDNT ACH ALT MANTA DYM PIXEL PORTAL AEVO W TNSR BOME ETHFI ' +
  'NOT IO ZK POL TON OM ARKM MEME PEOPLE ILV HIGH LQTY ARPA COTI DENT WIN BICO MAGIC'
).split(' ');
/** Pairs delisted long ago: BREAK in exchangeInfo, zero volume in ticker/24hr. */
const CATALOGUE_BREAK = ['BCCUSDT', 'VENUSDT', 'HSRUSDT', 'NPXSUSDT', 'BCHABCUSDT', 'LENDUSDT'];

/** The filters and flags every synthetic symbol shares (the pre-2023 names, modernised below). */
function templateSymbol(symbol: string, baseAsset: string, quoteAsset: string): RawSymbol {
  const tick = tickSize(usdPrice(baseAsset) / usdPrice(quoteAsset));
  return {
    symbol,
    status: 'TRADING',
    baseAsset,
    baseAssetPrecision: 8,
    quoteAsset,
    quotePrecision: 8,
    quoteAssetPrecision: 8,
    baseCommissionPrecision: 8,
    quoteCommissionPrecision: 8,
    orderTypes: ['LIMIT', 'LIMIT_MAKER', 'MARKET', 'STOP_LOSS_LIMIT', 'TAKE_PROFIT_LIMIT'],
    icebergAllowed: true,
    ocoAllowed: true,
    quoteOrderQtyMarketAllowed: true,
    isSpotTradingAllowed: true,
    isMarginTradingAllowed: false,
    filters: [
      { filterType: 'PRICE_FILTER', minPrice: tick, maxPrice: '1000000.00000000', tickSize: tick },
      { filterType: 'PERCENT_PRICE', multiplierUp: '5', multiplierDown: '0.2', avgPriceMins: 5 },
      {
        filterType: 'LOT_SIZE',
        minQty: '0.00001000',
        maxQty: '9000.00000000',
        stepSize: '0.00001000',
      },
      {
        filterType: 'MIN_NOTIONAL',
        minNotional: '5.00000000',
        applyToMarket: true,
        avgPriceMins: 5,
      },
      { filterType: 'ICEBERG_PARTS', limit: 10 },
      {
        filterType: 'MARKET_LOT_SIZE',
        minQty: '0.00000000',
        maxQty: '100.00000000',
        stepSize: '0.00000000',
      },
      { filterType: 'MAX_NUM_ORDERS', maxNumOrders: 200 },
      { filterType: 'MAX_NUM_ALGO_ORDERS', maxNumAlgoOrders: 5 },
    ],
    permissions: ['SPOT'],
  };
}

function tickSize(price: number): string {
  const e = Math.floor(Math.log10(Math.max(price, 1e-8))) - 5;
  return Math.min(0.01, Math.max(1e-8, 10 ** e)).toFixed(8);
}

/** 24h quote volume (USDT) of a catalogue base: falling with its rank, seeded by its name. */
function catalogueVolume(base: string, rank: number): number {
  return (2e9 / (1 + rank) ** 1.3) * (0.6 + 0.8 * unit(hashString(`vol:${base}`)));
}

let rawCache: { info: RawSymbol[]; ticker: Array<Record<string, unknown>> } | undefined;

/** The synthetic catalogue: exchangeInfo symbols and the ticker entries that give volumes. */
function raw() {
  if (!rawCache) {
    const info: RawSymbol[] = [];
    const ticker: Array<Record<string, unknown>> = [];
    CATALOGUE_BASES.forEach((base, rank) => {
      if (base === 'POL') return; // POLUSDT comes with MATIC's 2024 rename, below
      const usdt = `${base}USDT`;
      info.push(templateSymbol(usdt, base, 'USDT'));
      const qv = catalogueVolume(base, rank);
      ticker.push({ symbol: usdt, quoteVolume: qv.toFixed(8), count: Math.round(qv / 500) });
      if (rank < 60 && base !== 'BTC') info.push(templateSymbol(`${base}BTC`, base, 'BTC'));
    });
    for (const s of CATALOGUE_BREAK) {
      const { baseAsset, quoteAsset } = splitSymbol(s);
      info.push({ ...templateSymbol(s, baseAsset, quoteAsset), status: 'BREAK' });
    }
    rawCache = { info, ticker };
  }
  return rawCache;
}

/** Quote assets, longest first so `FDUSDUSDC` splits as FDUSD + USDC. */
const QUOTES = [
  'FDUSD',
  'USDT',
  'USDC',
  'BUSD',
  'TUSD',
  'USDP',
  'USDS',
  'BIDR',
  'BKRW',
  'BVND',
  'IDRT',
  'AEUR',
  'DAI',
  'PAX',
  'BTC',
  'ETH',
  'BNB',
  'XRP',
  'TRX',
  'DOGE',
  'DOT',
  'EUR',
  'GBP',
  'TRY',
  'RUB',
  'NGN',
  'ZAR',
  'UAH',
  'AUD',
  'BRL',
  'ARS',
  'JPY',
  'PLN',
  'RON',
  'MXN',
  'COP',
  'CZK',
  'VAI',
  'UST',
];

export function splitSymbol(symbol: string): { baseAsset: string; quoteAsset: string } {
  for (const q of QUOTES) {
    if (symbol.endsWith(q) && symbol.length > q.length) {
      return { baseAsset: symbol.slice(0, -q.length), quoteAsset: q };
    }
  }
  return { baseAsset: symbol.slice(0, -4), quoteAsset: symbol.slice(-4) };
}

/** Rough 2024 prices in USD, so synthetic series look plausible; anything else is hashed. */
const USD_PRICES: Record<string, number> = {
  BTC: 65000,
  ETH: 3400,
  BNB: 580,
  SOL: 150,
  XRP: 0.6,
  ADA: 0.45,
  DOGE: 0.15,
  AVAX: 35,
  DOT: 7,
  LINK: 15,
  UNI: 9,
  AAVE: 95,
  ARB: 1.1,
  OP: 2.2,
  MATIC: 0.7,
  POL: 0.5,
  LTC: 80,
  TRX: 0.12,
  ATOM: 8,
  NEAR: 5,
  FIL: 5,
  INJ: 25,
  SUI: 1.2,
  TIA: 8,
  APT: 8,
  PEPE: 0.00001,
  SHIB: 0.00002,
  EUR: 1.08,
  USDC: 1,
  USDT: 1,
  FDUSD: 1,
  USDE: 1,
  TUSD: 1,
  BUSD: 1,
  DAI: 1,
  WLD: 3,
  SEI: 0.5,
};
const STABLE = new Set([
  'USDC',
  'USDT',
  'FDUSD',
  'USDE',
  'TUSD',
  'BUSD',
  'DAI',
  'USDP',
  'PAX',
  'EUR',
]);

function usdPrice(asset: string): number {
  const p = USD_PRICES[asset];
  if (p !== undefined) return p;
  // Log-uniform between 0.001 and 100 USD.
  return 10 ** (-3 + 5 * unit(hashString(asset)));
}

const HOUR_MS = 3_600_000;
const BINANCE_LAUNCH = Date.UTC(2017, 7, 17, 4);
/** USDC spot pairs stopped on 2022-09-29 03:00 UTC and were relisted in 2023 (approximate date). */
export const USDC_HOLE: [number, number] = [Date.UTC(2022, 8, 29, 3), Date.UTC(2023, 2, 13)];

/** Listing dates for symbols where realism matters; others are hashed between 2018 and 2021. */
const LISTED: Record<string, number> = {
  BTCUSDT: BINANCE_LAUNCH,
  ETHUSDT: BINANCE_LAUNCH,
  ARBUSDC: Date.UTC(2023, 2, 23, 13),
  OPUSDC: Date.UTC(2023, 4, 2),
  FDUSDUSDC: Date.UTC(2023, 11, 1),
  USDEUSDC: Date.UTC(2024, 10, 20),
  EURUSDC: Date.UTC(2024, 7, 1),
  POLUSDC: Date.UTC(2024, 8, 13, 10),
  POLUSDT: Date.UTC(2024, 8, 13, 10),
};
const MATIC_TO_POL = Date.UTC(2024, 8, 10, 4);
/** USDC pairs the replay always lists as TRADING (the product's groups and top-N need them). */
export const REQUIRED_USDC = [
  'BTCUSDC',
  'ETHUSDC',
  'SOLUSDC',
  'ADAUSDC',
  'UNIUSDC',
  'AAVEUSDC',
  'LINKUSDC',
  'DOTUSDC',
  'ARBUSDC',
  'OPUSDC',
  'EURUSDC',
  'FDUSDUSDC',
  'USDEUSDC',
  'POLUSDC',
];

function defaultSpec(
  symbol: string,
  base: string,
  quote: string,
  status: SymbolStatus,
): SeriesSpec {
  const h = hashString(symbol);
  const listedAt =
    LISTED[symbol] ??
    Math.floor((Date.UTC(2018, 5, 1) + unit(h) * 3 * 365 * DAY_MS) / HOUR_MS) * HOUR_MS;
  const stable = STABLE.has(base) && STABLE.has(quote);
  const spec: SeriesSpec = {
    listedAt,
    basePrice: usdPrice(base) / usdPrice(quote),
    dailyVol: stable ? 0.001 : 0.025 + 0.03 * unit(h >>> 3),
    quotePerMinute: usdPrice(quote) > 0 ? (500 + 50_000 * unit(h >>> 5)) / usdPrice(quote) : 1000,
    zeroVolumeShare: 0.002 + 0.02 * unit(h >>> 7),
  };
  if (symbol === 'MATICUSDC' || symbol === 'MATICUSDT') spec.delistedAt = MATIC_TO_POL;
  else if (status === 'BREAK') {
    spec.delistedAt = Math.max(listedAt + 30 * DAY_MS, Date.UTC(2021, 3, 1));
  }
  if (quote === 'USDC' && listedAt < USDC_HOLE[0]) spec.gaps = [USDC_HOLE];
  return spec;
}

function modernFilters(filters: Array<Record<string, unknown>>): Array<Record<string, unknown>> {
  return filters.map((f) => {
    if (f.filterType === 'MIN_NOTIONAL') {
      return {
        filterType: 'NOTIONAL',
        minNotional: f.minNotional,
        applyMinToMarket: f.applyToMarket ?? true,
        maxNotional: '9000000.00000000',
        applyMaxToMarket: false,
        avgPriceMins: f.avgPriceMins ?? 5,
      };
    }
    if (f.filterType === 'PERCENT_PRICE') {
      return {
        filterType: 'PERCENT_PRICE_BY_SIDE',
        bidMultiplierUp: f.multiplierUp,
        bidMultiplierDown: f.multiplierDown,
        askMultiplierUp: f.multiplierUp,
        askMultiplierDown: f.multiplierDown,
        avgPriceMins: f.avgPriceMins ?? 5,
      };
    }
    return f;
  });
}

function modernInfo(r: RawSymbol, status: SymbolStatus): Record<string, unknown> {
  const { permissions, ...rest } = r;
  return {
    ...rest,
    status,
    otoAllowed: true,
    allowTrailingStop: true,
    cancelReplaceAllowed: true,
    filters: modernFilters(r.filters),
    permissions: [],
    permissionSets: [permissions && permissions.length > 0 ? permissions : ['SPOT']],
    defaultSelfTradePreventionMode: 'EXPIRE_MAKER',
    allowedSelfTradePreventionModes: ['NONE', 'EXPIRE_TAKER', 'EXPIRE_MAKER', 'EXPIRE_BOTH'],
  };
}

function templateInfo(
  symbol: string,
  base: string,
  quote: string,
  status: SymbolStatus,
  tmpl: RawSymbol,
) {
  return modernInfo(
    { ...tmpl, symbol, baseAsset: base, quoteAsset: quote, status, permissions: ['SPOT'] },
    status,
  );
}

/** Builds the symbol table. `extra` entries override or add symbols; `only` restricts it. */
export function buildUniverse(
  extra: Record<string, SymbolConfig> = {},
  only?: readonly string[],
): Map<string, SymbolEntry> {
  const { info, ticker } = raw();
  const tmpl = info.find((s) => s.symbol === 'ETHUSDT') ?? info[0];
  const out = new Map<string, SymbolEntry>();
  const tickerBy = new Map(ticker.map((t) => [String(t.symbol), t]));
  const add = (symbol: string, status: SymbolStatus, r?: RawSymbol) => {
    const { baseAsset, quoteAsset } = r ?? splitSymbol(symbol);
    const t = tickerBy.get(symbol);
    const qv = t ? Number(t.quoteVolume) : 0;
    out.set(symbol, {
      symbol,
      status,
      baseAsset,
      quoteAsset,
      info: r ? modernInfo(r, status) : templateInfo(symbol, baseAsset, quoteAsset, status, tmpl),
      spec: defaultSpec(symbol, baseAsset, quoteAsset, status),
      quoteVolume24h: qv,
    });
  };
  for (const r of info) add(r.symbol, r.status as SymbolStatus, r);
  for (const t of ticker) {
    const symbol = String(t.symbol);
    const active = Number(t.count) > 0;
    const prev = out.get(symbol);
    if (!prev) add(symbol, active ? 'TRADING' : 'BREAK');
    else if (prev.status !== (active ? 'TRADING' : 'BREAK')) {
      add(
        symbol,
        active ? 'TRADING' : 'BREAK',
        info.find((s) => s.symbol === symbol),
      );
    }
  }
  // The USDC pairs the product needs, trading today.
  for (const s of REQUIRED_USDC)
    add(
      s,
      'TRADING',
      info.find((r) => r.symbol === s),
    );
  add('POLUSDT', 'TRADING');
  add(
    'MATICUSDC',
    'BREAK',
    info.find((r) => r.symbol === 'MATICUSDC'),
  );
  add(
    'MATICUSDT',
    'BREAK',
    info.find((r) => r.symbol === 'MATICUSDT'),
  );
  const matic = out.get('MATICUSDT');
  // POL inherits MATIC's volume; a delisted pair reports none.
  for (const q of ['USDT', 'USDC']) {
    const pol = out.get(`POL${q}`);
    const m = out.get(`MATIC${q}`);
    if (pol && m) {
      pol.quoteVolume24h = m.quoteVolume24h || (matic?.quoteVolume24h ?? 0) * 0.1;
      m.quoteVolume24h = 0;
    }
  }
  // Widen the USDC market: <BASE>USDC for the most traded USDT bases, until > 100 trade.
  const usdtByVolume = [...out.values()]
    .filter((e) => e.quoteAsset === 'USDT' && e.status === 'TRADING' && e.quoteVolume24h > 0)
    .sort((a, b) => b.quoteVolume24h - a.quoteVolume24h);
  let usdcTrading = [...out.values()].filter(
    (e) => e.quoteAsset === 'USDC' && e.status === 'TRADING',
  ).length;
  for (const e of usdtByVolume) {
    if (usdcTrading >= 120) break;
    // No pair of an asset against itself (USDCUSDT's base is USDC): Binance lists none.
    if (e.baseAsset === 'USDC') continue;
    const sym = `${e.baseAsset}USDC`;
    const existing = out.get(sym);
    if (existing?.status === 'TRADING' || sym === 'MATICUSDC') continue;
    add(
      sym,
      'TRADING',
      info.find((r) => r.symbol === sym),
    );
    usdcTrading++;
  }
  // USDC pairs without a recorded ticker get a share of their USDT twin's volume.
  for (const e of out.values()) {
    if (e.quoteAsset !== 'USDC' || e.status !== 'TRADING' || e.quoteVolume24h > 0) continue;
    const twin = out.get(`${e.baseAsset}USDT`);
    const share = 0.02 + 0.25 * unit(hashString(e.symbol));
    e.quoteVolume24h = (twin?.quoteVolume24h || 5_000_000) * share;
  }
  for (const [symbol, cfg] of Object.entries(extra)) {
    const prev = out.get(symbol);
    const status = cfg.status ?? prev?.status ?? 'TRADING';
    if (!prev || prev.status !== status)
      add(
        symbol,
        status,
        info.find((r) => r.symbol === symbol),
      );
    const e = out.get(symbol)!;
    if (cfg.baseAsset) e.baseAsset = cfg.baseAsset;
    if (cfg.quoteAsset) e.quoteAsset = cfg.quoteAsset;
    e.info = { ...e.info, baseAsset: e.baseAsset, quoteAsset: e.quoteAsset };
    const s = e.spec;
    if (cfg.listedAt !== undefined) s.listedAt = cfg.listedAt;
    if (cfg.delistedAt !== undefined) s.delistedAt = cfg.delistedAt;
    if (cfg.gaps) s.gaps = cfg.gaps;
    if (cfg.basePrice !== undefined) s.basePrice = cfg.basePrice;
    if (cfg.dailyVol !== undefined) s.dailyVol = cfg.dailyVol;
    if (cfg.quotePerMinute !== undefined) s.quotePerMinute = cfg.quotePerMinute;
    if (cfg.zeroVolumeShare !== undefined) s.zeroVolumeShare = cfg.zeroVolumeShare;
    if (cfg.quoteVolume24h !== undefined) e.quoteVolume24h = cfg.quoteVolume24h;
  }
  if (only) {
    const keep = new Set(only);
    for (const k of [...out.keys()]) if (!keep.has(k)) out.delete(k);
    for (const s of only) if (!out.has(s)) add(s, 'TRADING');
  }
  return out;
}

/** A ticker/24hr entry for `e` at `now`. */
export function tickerEntry(e: SymbolEntry, now: number): Record<string, unknown> {
  const closeTime = now;
  const openTime = now - DAY_MS;
  const active = e.status === 'TRADING';
  const price = active ? e.spec.basePrice : 0;
  const p = price.toFixed(8);
  const qv = active ? e.quoteVolume24h : 0;
  return {
    symbol: e.symbol,
    priceChange: '0.00000000',
    priceChangePercent: '0.000',
    weightedAvgPrice: p,
    prevClosePrice: p,
    lastPrice: p,
    lastQty: '0.00000000',
    bidPrice: p,
    bidQty: '0.00000000',
    askPrice: p,
    askQty: '0.00000000',
    openPrice: p,
    highPrice: p,
    lowPrice: p,
    volume: (price > 0 ? qv / price : 0).toFixed(8),
    quoteVolume: qv.toFixed(8),
    openTime,
    closeTime,
    firstId: active ? 1 : -1,
    lastId: active ? Math.max(1, Math.round(qv / 500)) : -1,
    count: active ? Math.max(1, Math.round(qv / 500)) : 0,
  };
}
