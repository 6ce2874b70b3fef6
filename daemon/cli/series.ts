import { parseSymbol } from '../../schemas/common.ts';
import {
  KLINE_KINDS,
  type KlineKind,
  MARKETS,
  MARKET_NAMES,
  type Market,
  isKlineKind,
  isMarket,
  kindsOf,
  seriesKey,
} from '../../schemas/markets.ts';
import { ThreadxError } from '../../schemas/errors.ts';
import { UsageError } from './context.ts';

/** `--market` and `--kind`, accepted by every command that names a series. */
export const SERIES_OPTIONS = {
  market: { type: 'string' },
  kind: { type: 'string' },
} as const;

export interface SeriesFlags {
  market: Market;
  /** The kline kind (`klines` when --kind funding was given). */
  kind: KlineKind;
  /** --kind funding: the funding-rate history, not a kline series. */
  funding: boolean;
  /** Whether --market or --kind was given (a listing then shows that series only). */
  given: boolean;
}

/** `--market spot|um|cm` and `--kind klines|mark|index|premium`, spot trade klines by default. */
export function seriesFlags(values: Record<string, unknown>): SeriesFlags {
  const m = values.market;
  const k = values.kind;
  if (m !== undefined && !isMarket(m))
    throw new UsageError(
      `The option --market must be ${MARKETS.join(', ')} (spot, USD-M futures, COIN-M futures), not ${JSON.stringify(m)}.`,
    );
  if (k !== undefined && k !== 'funding' && !isKlineKind(k))
    throw new UsageError(
      `The option --kind must be ${KLINE_KINDS.join(', ')} or funding, not ${JSON.stringify(k)}.`,
    );
  const market = (m as Market | undefined) ?? 'spot';
  const funding = k === 'funding';
  const kind = funding ? 'klines' : ((k as KlineKind | undefined) ?? 'klines');
  if (funding && market === 'spot')
    throw new ThreadxError(
      'BAD_INPUT',
      'Spot has no funding rates.',
      'Add --market um (USD-M) or --market cm (COIN-M) for --kind funding.',
      { market },
    );
  if (!kindsOf(market).includes(kind))
    throw new ThreadxError(
      'BAD_INPUT',
      `${MARKET_NAMES[market]} has no ${kind} klines.`,
      `Add --market um (USD-M) or --market cm (COIN-M) for ${kind} klines.`,
      { market, kind },
    );
  return { market, kind, funding, given: m !== undefined || k !== undefined };
}

/** The bank key of `symbol` in the series the flags name. */
export function bankKey(values: Record<string, unknown>, symbol: string): string {
  const { market, kind, funding } = seriesFlags(values);
  if (funding)
    throw new UsageError(
      '--kind funding is a funding-rate history, not candles: "threadx ingest" and "threadx export" take it.',
    );
  return seriesKey({ market, kind, symbol: parseSymbol(symbol) });
}
