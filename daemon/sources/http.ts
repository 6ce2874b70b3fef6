import { CancelledError, isRetryable, messages, SourceError } from './errors.ts';
import { defaultSleep, type Sleep } from './governor.ts';

/**
 * Plumbing shared by the REST and archive clients: one GET with a timeout and cancellation,
 * and a retry loop with exponential backoff and jitter.
 */

export interface RetryOptions {
  /** Attempts after the first (default 5). */
  maxRetries?: number;
  /** Base delay in seconds, doubled per attempt (default 0.5). */
  retryDelay?: number;
  /** Upper bound of one delay, seconds (default 30). */
  maxDelay?: number;
  sleep?: Sleep;
  random?: () => number;
}

export interface RawResponse {
  status: number;
  headers: Headers;
  body: Uint8Array;
}

/** GET `url`, reading the whole body, failing with NETWORK / TIMEOUT / CANCELLED errors. */
export async function get(
  url: string,
  opts: { signal?: AbortSignal; timeoutSeconds: number; fetch?: typeof fetch },
): Promise<RawResponse> {
  if (opts.signal?.aborted) throw new CancelledError(opts.signal.reason);
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), opts.timeoutSeconds * 1000);
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout.signal]) : timeout.signal;
  try {
    const res = await (opts.fetch ?? fetch)(url, { signal });
    const body = new Uint8Array(await res.arrayBuffer());
    return { status: res.status, headers: res.headers, body };
  } catch (err) {
    if (opts.signal?.aborted) throw new CancelledError(opts.signal.reason);
    if (timeout.signal.aborted) {
      throw new SourceError('TIMEOUT', messages.timeout(redact(url), opts.timeoutSeconds), true, {
        cause: err,
        details: { url: redact(url), timeoutSeconds: opts.timeoutSeconds },
      });
    }
    throw new SourceError('NETWORK', messages.network(redact(url), describe(err)), true, {
      cause: err,
      details: { url: redact(url) },
    });
  } finally {
    clearTimeout(timer);
  }
}

/** The URL without its query string, for messages. */
function redact(url: string): string {
  const i = url.indexOf('?');
  return i < 0 ? url : url.slice(0, i);
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    if (cause instanceof Error)
      return `${err.message} (${(cause as { code?: string }).code ?? cause.message})`;
    return err.message;
  }
  return String(err);
}

/** The delay before retry `attempt` (0-based): exponential with "equal jitter". */
export function backoffMs(attempt: number, opts: RetryOptions): number {
  const base = Math.min(
    (opts.maxDelay ?? 30) * 1000,
    (opts.retryDelay ?? 0.5) * 1000 * 2 ** attempt,
  );
  const r = (opts.random ?? Math.random)();
  return base / 2 + (base / 2) * r;
}

/**
 * Runs `attempt` until it succeeds, fails with a non-retryable error, or `maxRetries` retries
 * are spent. `free` errors (rate-limit pauses, already waited for by the governor) retry
 * without a backoff and without spending an attempt, at most `maxRetries` times again.
 */
export async function withRetries<T>(
  what: string,
  signal: AbortSignal | undefined,
  opts: RetryOptions,
  attempt: (n: number) => Promise<T>,
  free: (err: unknown) => boolean = () => false,
): Promise<T> {
  const max = opts.maxRetries ?? 5;
  let failures = 0;
  let freebies = 0;
  for (let n = 0; ; n++) {
    if (signal?.aborted) throw new CancelledError(signal.reason);
    try {
      return await attempt(n);
    } catch (err) {
      if (err instanceof CancelledError || !isRetryable(err)) throw err;
      if (free(err) && freebies < max) {
        freebies++;
        continue;
      }
      if (failures >= max) {
        const last = err instanceof Error ? err.message : String(err);
        const e = err as SourceError;
        throw new SourceError(e.code, messages.retriesExhausted(what, n + 1, last), false, {
          cause: err,
          details: { ...e.details, attempts: n + 1 },
        });
      }
      // A time-out already waited its full length: retry it at once, with a short jitter only.
      const timedOut = err instanceof SourceError && err.code === 'TIMEOUT';
      const delay = timedOut
        ? Math.min(backoffMs(0, opts), 250 * (opts.random ?? Math.random)())
        : backoffMs(failures, opts);
      await (opts.sleep ?? defaultSleep)(delay, signal);
      failures++;
    }
  }
}
