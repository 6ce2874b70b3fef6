import { ThreadxError } from '../../schemas/errors.ts';
import { parseSymbol } from '../../schemas/common.ts';
import type { Config } from '../../schemas/config.ts';
import type { BinanceRestClient, ExchangeSymbol } from '../sources/rest.ts';

/**
 * Which symbols a batch covers: explicit lists, the top N pairs of a quote asset, and groups.
 * Symbols that do not trade are reported with the reason, never silently dropped.
 */

/** The predefined groups, as base assets quoted in USDC. */
export const PREDEFINED_GROUPS: Record<string, string[]> = {
  L1: ['BTC', 'ETH', 'SOL', 'ADA'],
  DeFi: ['UNI', 'AAVE', 'LINK', 'DOT'],
  L2: ['MATIC', 'ARB', 'OP'],
  Stable: ['EUR', 'FDUSD', 'USDE'],
};

export const GROUP_QUOTE = 'USDC';

export interface GroupInfo {
  name: string;
  symbols: string[];
  predefined: boolean;
}

export function listGroups(config: Config): GroupInfo[] {
  const out: GroupInfo[] = Object.entries(PREDEFINED_GROUPS).map(([name, bases]) => ({
    name,
    symbols: bases.map((b) => `${b}${GROUP_QUOTE}`),
    predefined: true,
  }));
  for (const [name, symbols] of Object.entries(config.groups)) {
    out.push({ name, symbols: symbols.map(parseSymbol), predefined: false });
  }
  return out;
}

export class UnknownGroupError extends ThreadxError {
  override readonly name = 'UnknownGroupError';
  constructor(name: string, known: string[]) {
    super(
      'UNKNOWN_GROUP',
      `unknown group ${JSON.stringify(name)}: known groups are ${known.join(', ')}`,
      'Define it under [groups] in threadx.toml, or pick one of the known groups.',
      { group: name, known },
    );
  }
}

export function groupSymbols(config: Config, name: string): string[] {
  const groups = listGroups(config);
  const g = groups.find((x) => x.name.toLowerCase() === name.toLowerCase());
  if (!g)
    throw new UnknownGroupError(
      name,
      groups.map((x) => x.name),
    );
  return g.symbols;
}

export interface SymbolStatus {
  symbol: string;
  /** Tradable now and can be downloaded. */
  ok: boolean;
  status: string;
  reason?: string;
  base?: string;
  quote?: string;
  /**
   * A delivery (quarterly) contract past its delivery date (ms): its klines end there, and it
   * is downloaded up to it.
   */
  deliveredAt?: number;
}

/**
 * Checks symbols against the market's exchangeInfo: unknown or non-TRADING symbols come back with
 * a reason; a delivery contract past its delivery date is known, with the date (`deliveredAt`). With `byPair` (index klines), the names are futures pairs (`BTCUSD`), known when a
 * trading contract has that pair.
 */
export async function resolveSymbols(
  rest: BinanceRestClient,
  symbols: readonly string[],
  signal?: AbortSignal,
  opts: { byPair?: boolean } = {},
): Promise<SymbolStatus[]> {
  const info = await rest.exchangeInfo({ signal });
  const bySymbol = new Map(info.symbols.map((s) => [s.symbol, s]));
  if (opts.byPair)
    for (const s of info.symbols) {
      const pair = typeof s.pair === 'string' ? s.pair : undefined;
      if (pair && (!bySymbol.has(pair) || s.status === 'TRADING'))
        bySymbol.set(pair, { ...s, symbol: pair });
    }
  return symbols.map((raw) => {
    const symbol = parseSymbol(raw);
    const s = bySymbol.get(symbol);
    if (!s)
      return {
        symbol,
        ok: false,
        status: 'UNKNOWN',
        reason: `${symbol} is not listed on the exchange`,
      };
    const delivery = typeof s.deliveryDate === 'number' ? s.deliveryDate : undefined;
    // An index is the pair's: it goes on after a contract of the pair delivered.
    if (
      !opts.byPair &&
      s.contractType !== undefined &&
      s.contractType !== 'PERPETUAL' &&
      delivery !== undefined &&
      delivery <= info.serverTime
    )
      return {
        symbol,
        ok: true,
        status: s.status,
        base: s.baseAsset,
        quote: s.quoteAsset,
        deliveredAt: delivery,
      };
    if (s.status !== 'TRADING') {
      const renamed = s.status === 'BREAK' ? ' (it may have been renamed or delisted)' : '';
      return {
        symbol,
        ok: false,
        status: s.status,
        base: s.baseAsset,
        quote: s.quoteAsset,
        reason: `${symbol} does not trade: status ${s.status}${renamed}`,
      };
    }
    return { symbol, ok: true, status: s.status, base: s.baseAsset, quote: s.quoteAsset };
  });
}

export interface RankedSymbol {
  symbol: string;
  base: string;
  quoteVolume: number;
  marketCap: number | null;
  rank: number;
}

export interface TopResult {
  symbols: RankedSymbol[];
  ranking: 'volume' | 'market-cap+volume';
  note: string;
}

/**
 * The top `n` TRADING spot pairs quoted in `quote`, ranked by 24h quote volume, or, when a
 * market-cap source (CoinGecko `/coins/markets` shape) is given, by the sum of the market-cap
 * rank and the volume rank.
 */
export async function topSymbols(
  rest: BinanceRestClient,
  n: number,
  opts: { quote?: string; marketCapUrl?: string; fetch?: typeof fetch; signal?: AbortSignal } = {},
): Promise<TopResult> {
  const market = rest.market;
  const quote = opts.quote ?? (market === 'um' ? 'USDT' : market === 'cm' ? 'USD' : GROUP_QUOTE);
  const info = await rest.exchangeInfo({ signal: opts.signal });
  // Spot: pairs open to spot trading. Futures: perpetual contracts (a top N of quarterly
  // contracts would change with every delivery).
  const spot = (s: ExchangeSymbol): boolean =>
    market === 'spot'
      ? s.isSpotTradingAllowed !== false &&
        (s.permissionSets?.some((p) => p.includes('SPOT')) ??
          s.permissions?.includes('SPOT') ??
          true)
      : s.contractType === 'PERPETUAL';
  // A pair whose base is its quote (`USDCUSDC`) trades nothing: never part of a top N.
  const pairs = info.symbols.filter(
    (s) =>
      s.quoteAsset === quote && s.baseAsset !== s.quoteAsset && s.status === 'TRADING' && spot(s),
  );
  const tickers = new Map(
    (await rest.ticker24h({ signal: opts.signal })).map((t) => [t.symbol, t]),
  );
  const byVolume = pairs
    .map((s) => ({
      symbol: s.symbol,
      base: s.baseAsset,
      quoteVolume: tickers.get(s.symbol)?.quoteVolume ?? 0,
    }))
    .sort((a, b) => b.quoteVolume - a.quoteVolume || a.symbol.localeCompare(b.symbol));
  if (!opts.marketCapUrl) {
    return {
      symbols: byVolume.slice(0, n).map((s, i) => ({ ...s, marketCap: null, rank: i + 1 })),
      ranking: 'volume',
      note: `ranked by 24h quote volume only: no market-cap source is configured (data.api.market_cap_url)`,
    };
  }
  const res = await (opts.fetch ?? fetch)(opts.marketCapUrl, { signal: opts.signal });
  if (!res.ok) throw new ThreadxError('NETWORK', `market-cap source answered HTTP ${res.status}`);
  const caps = (await res.json()) as { symbol?: string; market_cap?: number }[];
  const capByBase = new Map<string, number>();
  for (const c of Array.isArray(caps) ? caps : []) {
    if (typeof c.symbol === 'string' && typeof c.market_cap === 'number') {
      const b = c.symbol.toUpperCase();
      capByBase.set(b, Math.max(capByBase.get(b) ?? 0, c.market_cap));
    }
  }
  const capRank = new Map(
    [...byVolume]
      .sort((a, b) => (capByBase.get(b.base) ?? -1) - (capByBase.get(a.base) ?? -1))
      .map((s, i) => [s.symbol, i]),
  );
  const scored = byVolume
    .map((s, volRank) => ({
      ...s,
      score: volRank + (capByBase.has(s.base) ? (capRank.get(s.symbol) ?? 0) : byVolume.length),
    }))
    .sort((a, b) => a.score - b.score || b.quoteVolume - a.quoteVolume);
  return {
    symbols: scored.slice(0, n).map((s, i) => ({
      symbol: s.symbol,
      base: s.base,
      quoteVolume: s.quoteVolume,
      marketCap: capByBase.get(s.base) ?? null,
      rank: i + 1,
    })),
    ranking: 'market-cap+volume',
    note: `ranked by market-cap rank + 24h quote-volume rank (${capByBase.size} market caps)`,
  };
}

/** Symbols whose name, base or quote starts with `query` (case-insensitive). */
export async function searchSymbols(
  rest: BinanceRestClient,
  query: string,
  limit = 50,
  signal?: AbortSignal,
): Promise<{ symbol: string; base: string; quote: string; status: string }[]> {
  const q = query.trim().toUpperCase();
  const info = await rest.exchangeInfo({ signal });
  const score = (s: ExchangeSymbol): number =>
    s.symbol === q
      ? 0
      : s.symbol.startsWith(q)
        ? 1
        : s.baseAsset.startsWith(q)
          ? 2
          : s.symbol.includes(q)
            ? 3
            : 9;
  return info.symbols
    .filter((s) => score(s) < 9)
    .sort(
      (a, b) =>
        score(a) - score(b) ||
        Number(b.status === 'TRADING') - Number(a.status === 'TRADING') ||
        a.symbol.localeCompare(b.symbol),
    )
    .slice(0, limit)
    .map((s) => ({ symbol: s.symbol, base: s.baseAsset, quote: s.quoteAsset, status: s.status }));
}
