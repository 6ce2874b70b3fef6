import { MARKET_NAMES } from '../../schemas/markets.ts';
import { ThreadxError } from '../../schemas/errors.ts';
import { fetchFunding } from '../sources/rest.ts';
import { readFunding, writeFunding } from '../store/funding.ts';
import type { IngestDeps } from './ingest.ts';
import { resolveSymbols, type SymbolStatus } from './universe.ts';

/**
 * Funding-rate history of perpetual contracts: fetched from the market's `fundingRate` endpoint
 * from the later of the window start and the newest event stored, merged and written whole
 * (`store/funding.ts`). A delivery contract has no funding: it is reported, not fetched.
 */

export interface FundingRequest {
  symbols: string[];
  start: number;
  end: number;
}

export interface FundingResult {
  symbol: string;
  ok: boolean;
  added: number;
  total: number;
  requests: number;
  error?: { code: string; message: string };
}

export async function ingestFunding(
  deps: IngestDeps,
  req: FundingRequest,
  signal?: AbortSignal,
): Promise<{ results: FundingResult[]; skipped: SymbolStatus[] }> {
  const market = deps.rest.market;
  if (market === 'spot')
    throw new ThreadxError(
      'BAD_INPUT',
      'Spot has no funding rates.',
      'Add --market um (USD-M) or --market cm (COIN-M) for --kind funding.',
    );
  const statuses = await resolveSymbols(deps.rest, req.symbols, signal);
  const info = await deps.rest.exchangeInfo({ signal });
  const contract = new Map(info.symbols.map((s) => [s.symbol, s.contractType]));
  const skipped: SymbolStatus[] = statuses.filter((s) => !s.ok);
  const results: FundingResult[] = [];
  for (const s of statuses.filter((x) => x.ok)) {
    if (contract.get(s.symbol) !== undefined && contract.get(s.symbol) !== 'PERPETUAL') {
      skipped.push({
        ...s,
        ok: false,
        reason: `${s.symbol} is a delivery contract of ${MARKET_NAMES[market]}: only perpetuals pay funding`,
      });
      continue;
    }
    const res: FundingResult = { symbol: s.symbol, ok: false, added: 0, total: 0, requests: 0 };
    try {
      const stored = await readFunding(deps.bank.layout, market, s.symbol);
      const last = stored.length ? stored[stored.length - 1].fundingTime : -Infinity;
      const from = Math.max(req.start, last + 1);
      const got =
        from < req.end
          ? await fetchFunding(deps.rest, s.symbol, from, req.end, { signal })
          : { events: [], pages: 0 };
      res.requests = got.pages;
      const w = await writeFunding(deps.bank.layout, market, s.symbol, got.events);
      res.added = w.added;
      res.total = w.total;
      res.ok = true;
    } catch (e) {
      const err = e as Error & { code?: string };
      res.error = { code: err.code ?? 'FAILED', message: err.message };
    }
    results.push(res);
  }
  // A bank holding only funding histories is a bank: its registry exists.
  if (results.some((r) => r.ok)) await deps.bank.save();
  return { results, skipped };
}
