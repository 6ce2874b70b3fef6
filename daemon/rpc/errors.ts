/**
 * The JSON-RPC adapter of the one error model: any thrown value becomes a `ThreadxError`
 * (`toThreadxError`), and the table `ERRORS` gives its JSON-RPC code. `data.reason` is the
 * error's stable code, `data.hint` the fix, `data.issues` the problems by path.
 */
import type { z } from 'zod';
import { type ErrorData, toParamIssues } from '../../schemas/protocol.ts';
import {
  type ErrorIssue,
  ThreadxError,
  invalidParams,
  toThreadxError,
} from '../../schemas/errors.ts';
import { messages } from './messages.ts';

/** The `error` member of a JSON-RPC response. */
export interface RpcErrorObject {
  code: number;
  message: string;
  data: ErrorData;
}

export { invalidParams };

/** Details that travel as their own members of `data` (the rest go under `data.details`). */
const LIFTED = ['issues', 'retryAfterMs', 'symbol', 'dataset'] as const;

/**
 * The protocol form of any thrown value. `method` names the request for messages; unknown errors
 * become `InternalError` (the caller logs their stack).
 */
export function toRpcError(e: unknown, method = 'request'): RpcErrorObject {
  const err =
    (e as { name?: unknown } | null)?.name === 'ZodError'
      ? invalidParams(method, toParamIssues(e as z.ZodError))
      : toThreadxError(e);
  const data: ErrorData = { reason: err.code };
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(err.details)) {
    if ((LIFTED as readonly string[]).includes(k)) continue;
    if (v !== undefined) rest[k] = v;
  }
  const d = err.details as Partial<Record<(typeof LIFTED)[number], unknown>>;
  if (Array.isArray(d.issues)) data.issues = d.issues as ErrorIssue[];
  if (typeof d.retryAfterMs === 'number') data.retryAfterMs = d.retryAfterMs;
  if (typeof d.symbol === 'string') data.symbol = d.symbol;
  if (typeof d.dataset === 'string') data.dataset = d.dataset;
  if (err.hint) data.hint = err.hint;
  if (err.code === 'CORRUPT' && !err.hint && typeof d.dataset === 'string') {
    // A read refused for a damaged file names "threadx repair", which this daemon's lock
    // refuses: the answer names the repairs that run here, and the symbol to repair.
    data.symbol ??= d.dataset.split('/')[0];
    data.hint = messages.repairThroughDaemon(data.symbol);
  }
  if (Object.keys(rest).length) data.details = jsonSafe(rest);
  const message =
    err.code === 'INTERNAL'
      ? messages.internal(err.message)
      : err.code === 'CANCELLED' && err.message !== messages.cancelledByShutdown()
        ? messages.cancelled()
        : err.message;
  return { code: err.kind.rpc, message, data };
}

/** Details as plain JSON (a detail that cannot be serialised is dropped). */
function jsonSafe(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    try {
      out[k] = JSON.parse(JSON.stringify(v)) as unknown;
    } catch {
      /* not JSON: left out */
    }
  }
  return out;
}

/** The error a request answers when its signal fired. */
export function cancelledError(byShutdown = false): ThreadxError {
  return new ThreadxError(
    'CANCELLED',
    byShutdown ? messages.cancelledByShutdown() : messages.cancelled(),
  );
}
