/**
 * The exchange's universe for people: symbol search, the top N by volume or market cap, the
 * groups, and the symbol selection of batch requests (a list, a group, or the top N).
 */
import type { ParsedParams, Result } from '../../schemas/protocol.ts';
import { groupSymbols, listGroups, searchSymbols, topSymbols } from '../jobs/universe.ts';
import type { JobContext, Services } from './services.ts';

export async function searchSymbolsUseCase(
  svc: Services,
  p: ParsedParams<'symbols/search'>,
  ctx: Pick<JobContext, 'signal'>,
): Promise<Result<'symbols/search'>> {
  const found = await searchSymbols(
    svc.state.rest(),
    p.query,
    p.quote ? 1000 : p.limit,
    ctx.signal,
  );
  const quote = p.quote?.toUpperCase();
  return { matches: (quote ? found.filter((m) => m.quote === quote) : found).slice(0, p.limit) };
}

export async function topSymbolsUseCase(
  svc: Services,
  p: ParsedParams<'symbols/top'>,
  ctx: Pick<JobContext, 'signal'>,
): Promise<Result<'symbols/top'>> {
  const { config, fetch } = svc.state;
  const quote = p.quote.toUpperCase();
  const top = await topSymbols(svc.state.rest(), p.n, {
    quote,
    marketCapUrl: config.data.api.market_cap_url,
    ...(fetch ? { fetch } : {}),
    signal: ctx.signal,
  });
  return {
    symbols: top.symbols.map((s) => ({
      symbol: s.symbol,
      base: s.base,
      quote,
      status: 'TRADING',
      rank: s.rank,
      quoteVolume24h: s.quoteVolume,
      ...(s.marketCap !== null ? { marketCap: s.marketCap } : {}),
    })),
    ranking: top.ranking,
    note: top.note,
  };
}

export function groupsUseCase(svc: Services): Result<'symbols/groups'> {
  return {
    groups: listGroups(svc.state.config).map((g) => ({
      name: g.name,
      symbols: g.symbols,
      source: g.predefined ? ('builtin' as const) : ('config' as const),
    })),
  };
}

/** The symbols of a batch request: the explicit list, a group, or the exchange's top N. */
export async function selectSymbols(
  svc: Services,
  p: { symbols?: string[]; group?: string; top?: { n: number; quote: string } },
  ctx: Pick<JobContext, 'signal'>,
): Promise<string[]> {
  if (p.symbols) return [...new Set(p.symbols)];
  if (p.group) return groupSymbols(svc.state.config, p.group);
  const top = await topSymbols(svc.state.rest(), p.top!.n, {
    quote: p.top!.quote.toUpperCase(),
    marketCapUrl: svc.state.config.data.api.market_cap_url,
    ...(svc.state.fetch ? { fetch: svc.state.fetch } : {}),
    signal: ctx.signal,
  });
  return top.symbols.map((s) => s.symbol);
}

export { groupSymbols } from '../jobs/universe.ts';
