/**
 * Turns whatever a handler throws into a JSON-RPC error with a stable code, a message a person
 * understands and structured `data`. Other layers throw their own errors carrying a `code` string
 * (`NOT_FOUND`, `RATE_LIMITED` ...) or a well-known name (`ZodError`, `NotFoundError` ...); this is
 * the one place that knows how each maps onto the protocol.
 */
import type { z } from 'zod';
import {
  type ErrorCode,
  type ErrorData,
  ErrorCodes,
  toParamIssues,
} from '../../schemas/protocol.ts';
import { messages } from './messages.ts';

/** An error that already has its protocol form. */
export class RpcError extends Error {
  constructor(
    readonly code: ErrorCode | number,
    message: string,
    readonly data: ErrorData = { reason: 'ERROR' },
  ) {
    super(message);
    this.name = 'RpcError';
  }

  toJSON(): { code: number; message: string; data: ErrorData } {
    return { code: this.code, message: this.message, data: this.data };
  }
}

export function invalidParams(
  method: string,
  issues: { path: (string | number)[]; message: string; code?: string }[],
): RpcError {
  const first = issues[0];
  const where = first && first.path.length ? `${first.path.join('.')}: ` : '';
  return new RpcError(
    ErrorCodes.InvalidParams,
    messages.invalidParams(method, `${where}${first?.message ?? 'invalid'}`),
    { reason: 'INVALID_PARAMS', issues },
  );
}

/** Source and store error codes by protocol code. */
const BY_REASON: Record<string, ErrorCode> = {
  INVALID_SYMBOL: ErrorCodes.InvalidSymbol,
  NOT_FOUND: ErrorCodes.NotFound,
  BUSY: ErrorCodes.Busy,
  RATE_LIMITED: ErrorCodes.RateLimited,
  IP_BANNED: ErrorCodes.RateLimited,
  DATA_CONTRACT: ErrorCodes.DataContract,
  BAD_FILE: ErrorCodes.StorageError,
  CHECKSUM_MISMATCH: ErrorCodes.StorageError,
  CORRUPT: ErrorCodes.StorageError,
  LOCKED: ErrorCodes.Busy,
  REGISTRY: ErrorCodes.StorageError,
  STORAGE: ErrorCodes.StorageError,
  PARQUET: ErrorCodes.StorageError,
  NETWORK: ErrorCodes.Network,
  TIMEOUT: ErrorCodes.Network,
  SERVER_ERROR: ErrorCodes.Network,
  INVALID_RESPONSE: ErrorCodes.Network,
  FORBIDDEN: ErrorCodes.Network,
  BAD_REQUEST: ErrorCodes.InvalidParams,
  INVALID_INTERVAL: ErrorCodes.InvalidParams,
  CONFIG: ErrorCodes.InvalidParams,
  CANCELLED: ErrorCodes.RequestCancelled,
  ABORT_ERR: ErrorCodes.RequestCancelled,
};

const BY_NAME: Record<string, ErrorCode> = {
  NotFoundError: ErrorCodes.NotFound,
  DataContractError: ErrorCodes.DataContract,
  ParquetFormatError: ErrorCodes.StorageError,
  RegistryError: ErrorCodes.StorageError,
  ImportError: ErrorCodes.DataContract,
  RateLimitError: ErrorCodes.RateLimited,
  AbortError: ErrorCodes.RequestCancelled,
  ConfigError: ErrorCodes.InvalidParams,
};

/** errno codes of the file system that mean the bank cannot be read or written. */
const STORAGE_ERRNO = new Set([
  'ENOSPC',
  'EACCES',
  'EPERM',
  'EIO',
  'EROFS',
  'EMFILE',
  'ENFILE',
  'EDQUOT',
  'ENOENT',
  'EISDIR',
  'ENOTDIR',
]);

interface ErrorLike {
  name?: string;
  code?: unknown;
  message?: string;
  retryAfterMs?: unknown;
  symbol?: unknown;
  issues?: unknown;
  indicator?: unknown;
}

/**
 * The protocol form of any thrown value. `method` names the request for messages; unknown errors
 * become `InternalError` (the caller logs their stack).
 */
export function toRpcError(e: unknown, method = 'request'): RpcError {
  if (e instanceof RpcError) return e;
  const err = (typeof e === 'object' && e !== null ? e : { message: String(e) }) as ErrorLike;
  const name = typeof err.name === 'string' ? err.name : '';
  const reason = typeof err.code === 'string' ? err.code : '';
  const message = firstLine(typeof err.message === 'string' ? err.message : String(e));

  if (name === 'ZodError' && Array.isArray(err.issues)) {
    return invalidParams(method, toParamIssues(e as z.ZodError));
  }
  if (name === 'IndicatorParamsError' && Array.isArray(err.issues)) {
    const issues = (err.issues as { param: string; message: string }[]).map((i) => ({
      path: ['indicators', String(err.indicator ?? ''), ...(i.param ? i.param.split('.') : [])],
      message: i.message,
    }));
    return invalidParams(method, issues);
  }
  let code: ErrorCode | undefined = BY_REASON[reason] ?? BY_NAME[name];
  if (code === undefined && STORAGE_ERRNO.has(reason)) code = ErrorCodes.StorageError;
  if (code === undefined) {
    return new RpcError(ErrorCodes.InternalError, messages.internal(message), {
      reason: reason || name || 'INTERNAL',
    });
  }
  const data: ErrorData = { reason: reason || name };
  if (typeof err.retryAfterMs === 'number') data.retryAfterMs = err.retryAfterMs;
  if (typeof err.symbol === 'string') data.symbol = err.symbol;
  if (code === ErrorCodes.RequestCancelled) {
    return new RpcError(code, messages.cancelled(), { reason: 'CANCELLED' });
  }
  if (code === ErrorCodes.StorageError && STORAGE_ERRNO.has(reason)) {
    return new RpcError(code, messages.storage(message), data);
  }
  return new RpcError(code, message, data);
}

function firstLine(s: string): string {
  const line = s.split('\n')[0];
  return line.length > 500 ? `${line.slice(0, 500)}…` : line;
}

/** The error a request answers when its signal fired. */
export function cancelledError(byShutdown = false): RpcError {
  return new RpcError(
    ErrorCodes.RequestCancelled,
    byShutdown ? messages.cancelledByShutdown() : messages.cancelled(),
    { reason: 'CANCELLED' },
  );
}
