/**
 * Turns a daemon error into words a trader understands. The daemon's own message is already meant
 * for people; this adds what to do next for the codes where there is something to do.
 */
import { ErrorCodes } from '../schemas/protocol.ts';

interface RpcLikeError {
  /** The JSON-RPC code (a `ResponseError` of the client). */
  rpcCode?: unknown;
  /** The JSON-RPC code of a raw error object, or the stable code string of a `ResponseError`. */
  code?: unknown;
  message?: unknown;
  hint?: unknown;
  data?: { retryAfterMs?: number; issues?: { path: (string | number)[]; message: string }[] };
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
