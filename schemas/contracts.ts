/**
 * The numbers and names every layer shares, declared once: selection limits, the klines
 * request's weight and the time estimate of a plan, the indicator names. No zod here, so the
 * webviews can import it without carrying the validator.
 */

/** How many symbols a request may name, and how many of the exchange's top N it may ask for. */
export const SELECTION = { maxSymbols: 1000, maxTop: 500 } as const;

/** Binance's `GET /api/v3/klines` with `limit=1000`: weight 2, one page of 1000 candles. */
export const KLINES = {
  weight: 2,
  page: 1000,
  /** Mean wall time of one REST request, and of one archive file (zip + checksum). */
  secondsPerRequest: 0.15,
  secondsPerArchive: 1,
} as const;

/**
 * The wall time of a plan: the slower of the weight budget and the round trips at the
 * concurrency. Used by the daemon's plan and by any client that estimates one itself.
 */
export function estimateSeconds(p: {
  requests: number;
  archives: number;
  weight: number;
  concurrency: number;
  /** Exchange weight allowed per second (limit x (1 - safety margin) / window). */
  weightPerSecond: number;
}): number {
  const byWeight = p.weight / p.weightPerSecond;
  const byLatency =
    (p.requests * KLINES.secondsPerRequest + p.archives * KLINES.secondsPerArchive) /
    Math.max(1, p.concurrency);
  return Math.round(Math.max(byWeight, byLatency) * 10) / 10;
}

/** The indicators the product computes (TA-Lib-exact). */
export const INDICATOR_NAMES = ['sma', 'ema', 'rsi', 'macd', 'bbands', 'atr'] as const;
export type IndicatorName = (typeof INDICATOR_NAMES)[number];

/**
 * The files a daemon keeps in its data directory: its lock (holding its pid), its discovery
 * file (pid, protocol version, endpoint) and the token of a port transport. Clients find a
 * running daemon through these names only.
 */
export const DAEMON_FILES = {
  lock: '.threadx-bank.lock',
  discovery: '.threadx-daemon.json',
  token: '.threadx-token',
} as const;

/** Each indicator's parameters when a request leaves them out (TA-Lib's usual defaults). */
export const INDICATOR_DEFAULTS = {
  sma: { period: 20 },
  ema: { period: 20 },
  rsi: { period: 14 },
  macd: { fast: 12, slow: 26, signal: 9 },
  bbands: { period: 20, k: 2 },
  atr: { period: 14 },
} as const satisfies Record<IndicatorName, Record<string, number>>;
