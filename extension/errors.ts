/**
 * Turns a daemon error into words a trader understands. The daemon's own message is already meant
 * for people; this adds what to do next for the codes where there is something to do.
 */
import { ErrorCodes } from '../schemas/protocol.ts';
import { messages } from './messages.ts';

interface RpcLikeError {
  /** The JSON-RPC code (a `ResponseError` of the client). */
  rpcCode?: unknown;
  /** The JSON-RPC code of a raw error object, or the stable code string of a `ResponseError`. */
  code?: unknown;
  message?: unknown;
  hint?: unknown;
  /** The structured facts of a client `ResponseError` (dataset, file, reason ...). */
  details?: Record<string, unknown>;
  data?: {
    reason?: unknown;
    retryAfterMs?: number;
    issues?: { path: (string | number)[]; message: string }[];
    dataset?: unknown;
    symbol?: unknown;
    details?: Record<string, unknown>;
  };
}

/** A read the daemon refused because a file of the bank is damaged (a `CORRUPT` answer). */
export interface Damage {
  symbol: string;
  /** The dataset read, `SYMBOL/interval`. */
  dataset: string;
  /** The damaged file, relative to the data directory. */
  file?: string;
  reason?: string;
}

/**
 * The damage behind a `CORRUPT` answer, from its structured data (never its text), or undefined
 * for any other error. The fix in VS Code is the Repair action, not the shell command the
 * daemon's message names.
 */
export function damageOf(e: unknown): Damage | undefined {
  const err = (e ?? {}) as RpcLikeError;
  const code = typeof err.code === 'string' ? err.code : err.data?.reason;
  if (code !== 'CORRUPT') return undefined;
  const facts: Record<string, unknown> = { ...(err.data?.details ?? {}), ...(err.details ?? {}) };
  const dataset = err.data?.dataset ?? facts.dataset;
  if (typeof dataset !== 'string' || !dataset.includes('/')) return undefined;
  const symbol = err.data?.symbol ?? facts.symbol;
  return {
    dataset,
    symbol: typeof symbol === 'string' ? symbol : dataset.split('/')[0],
    ...(typeof facts.file === 'string' ? { file: facts.file } : {}),
    ...(typeof facts.reason === 'string' ? { reason: facts.reason } : {}),
  };
}

/** The JSON-RPC code of a daemon error (a client `ResponseError` or a raw error object). */
function rpcCodeOf(e: unknown): number | undefined {
  const err = (e ?? {}) as RpcLikeError;
  if (typeof err.rpcCode === 'number') return err.rpcCode;
  return typeof err.code === 'number' ? err.code : undefined;
}

export function isCancelled(e: unknown): boolean {
  return rpcCodeOf(e) === ErrorCodes.RequestCancelled;
}

export function describeError(e: unknown): string {
  const damage = damageOf(e);
  if (damage) return messages.damaged(damage);
  const err = (e ?? {}) as RpcLikeError;
  const text = typeof err.message === 'string' ? err.message : String(e);
  const msg = typeof err.hint === 'string' && err.hint ? `${text} ${err.hint}` : text;
  switch (rpcCodeOf(e)) {
    case ErrorCodes.InvalidParams: {
      const issues = err.data?.issues;
      if (issues?.length) {
        return issues
          .map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message))
          .join('; ');
      }
      return msg;
    }
    case ErrorCodes.RateLimited: {
      const s = err.data?.retryAfterMs ? Math.ceil(err.data.retryAfterMs / 1000) : undefined;
      return `Binance's rate limit was reached${s ? `; try again in ${s} s` : ''}. ${msg}`;
    }
    case ErrorCodes.Network:
      return `The exchange could not be reached (check the API URL setting and your connection). ${msg}`;
    case ErrorCodes.InvalidSymbol:
      return `Binance does not list that symbol. ${msg}`;
    case ErrorCodes.RequestCancelled:
      return 'Cancelled.';
    case ErrorCodes.MethodNotFound:
      return `This daemon does not support that yet (${msg}).`;
    default:
      return msg;
  }
}
