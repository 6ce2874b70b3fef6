/**
 * Typed failures of the Binance sources: `ThreadxError`s whose `code` comes from the table in
 * `schemas/errors.ts`, each saying whether trying again can help (`retryable`).
 * All user-facing wording lives in `messages` below, written once, asserted on by tests.
 */
import { type ErrorDetails, ThreadxError } from '../../schemas/errors.ts';

export type SourceErrorCode =
  | 'INVALID_SYMBOL'
  | 'INVALID_INTERVAL'
  | 'BAD_REQUEST'
  | 'FORBIDDEN'
  | 'RATE_LIMITED'
  | 'IP_BANNED'
  | 'SERVER_ERROR'
  | 'NETWORK'
  | 'TIMEOUT'
  | 'INVALID_RESPONSE'
  | 'CHECKSUM_MISMATCH'
  | 'NOT_FOUND'
  | 'CANCELLED';

export const messages = {
  invalidSymbol: (symbol: string, msg: string) =>
    `Binance does not know the symbol ${symbol} (${msg}); check the spelling or whether it was renamed or delisted.`,
  invalidInterval: (msg: string) => `Binance rejected the kline interval (${msg}).`,
  badRequest: (path: string, status: number, code: number, msg: string) =>
    `Binance rejected ${path} with HTTP ${status}, code ${code}: ${msg}`,
  forbidden: (path: string) =>
    `Binance refused ${path} with HTTP 403 (a WAF rule); requests are paused, try again later.`,
  rateLimited: (status: number, retryAfterS: number) =>
    status === 418
      ? `Binance banned this IP for too many requests (HTTP 418); retry after ${retryAfterS} s.`
      : `Binance rate limit reached (HTTP 429); every request is paused for ${retryAfterS} s.`,
  serverError: (path: string, status: number, body: string) =>
    `Binance answered ${path} with HTTP ${status}${body ? `: ${body.slice(0, 200)}` : ''}`,
  network: (url: string, cause: string) => `Network error talking to ${url}: ${cause}`,
  timeout: (url: string, seconds: number) => `No answer from ${url} within ${seconds} s.`,
  invalidJson: (url: string) =>
    `The answer from ${url} is not complete JSON (cut short or corrupted).`,
  malformedKline: (index: number, why: string) =>
    `Kline ${index} of the page is malformed: ${why}.`,
  malformedCsv: (source: string, line: number, why: string) => `${source}: line ${line}: ${why}.`,
  checksumMismatch: (file: string, expected: string, actual: string) =>
    `Checksum mismatch for ${file}: expected sha256 ${expected}, got ${actual}; the file was not used.`,
  badChecksumFile: (file: string) => `The .CHECKSUM file for ${file} has no sha256 in it.`,
  archiveNotFound: (url: string) => `No archive at ${url} (not published yet, or no data).`,
  cancelled: () => 'Cancelled.',
  retriesExhausted: (what: string, attempts: number, last: string) =>
    `${what} failed after ${attempts} attempts; last error: ${last}`,
} as const;

export class SourceError extends ThreadxError {
  override readonly name: string = this.constructor.name;
  constructor(
    override readonly code: SourceErrorCode,
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown; details?: ErrorDetails },
  ) {
    super(code, message, HINTS[code], options?.details ?? {}, options);
  }
}

const RETRY_LATER =
  'Check the network and the exchange address (--base-url, or [data.api] base_url in threadx.toml), then run the command again; what was already fetched is kept.';

/** What a person can do about a source failure, by its code. */
const HINTS: Partial<Record<SourceErrorCode, string>> = {
  NETWORK: RETRY_LATER,
  TIMEOUT: RETRY_LATER,
  SERVER_ERROR: RETRY_LATER,
  INVALID_RESPONSE: RETRY_LATER,
  FORBIDDEN: 'Wait a few minutes, then run the command again; what was already fetched is kept.',
  RATE_LIMITED:
    'Wait for the time given, then run the command again; what was already fetched is kept.',
  IP_BANNED:
    'Wait for the time given, then run the command again; what was already fetched is kept.',
  CHECKSUM_MISMATCH:
    'Run the command again later (the file may be being republished), or use --source rest.',
};

/** A Binance error body (`{"code": -1121, "msg": "Invalid symbol."}`) with its HTTP status. */
export class BinanceApiError extends SourceError {
  constructor(
    code: SourceErrorCode,
    message: string,
    /** HTTP status. */
    readonly status: number,
    /** Binance's numeric error code (e.g. -1121), 0 when the body had none. */
    readonly apiCode: number,
    /** Binance's own message. */
    readonly msg: string,
    retryable = false,
  ) {
    super(code, message, retryable);
  }
}

/** 429 or 418: the governor pauses every request for `retryAfterMs`. */
export class RateLimitError extends SourceError {
  constructor(
    readonly status: number,
    readonly retryAfterMs: number,
  ) {
    super(
      status === 418 ? 'IP_BANNED' : 'RATE_LIMITED',
      messages.rateLimited(status, Math.ceil(retryAfterMs / 1000)),
      true,
      { details: { retryAfterMs, status } },
    );
  }
}

export class CancelledError extends SourceError {
  constructor(cause?: unknown) {
    super('CANCELLED', messages.cancelled(), false, { cause });
  }
}

export class ChecksumMismatchError extends SourceError {
  constructor(
    readonly file: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super('CHECKSUM_MISMATCH', messages.checksumMismatch(file, expected, actual), true, {
      details: { file, expected, actual },
    });
  }
}

export function isRetryable(err: unknown): boolean {
  return err instanceof SourceError && err.retryable;
}

/** Throws `CancelledError` when `signal` is aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CancelledError(signal.reason);
}
