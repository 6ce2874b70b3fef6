/**
 * The one error model. Every layer (engine, store, sources, app, rpc, cli) throws `ThreadxError`
 * with a stable `code` from `ERRORS`; this table is the only place that knows how a code maps onto
 * a JSON-RPC error code and a CLI exit code. Adapters never look at class names or message text.
 *
 * Exit codes (README.md, "Exit codes"): 0 ok, 1 problems found, 2 bad input, 3 storage or
 * network, 130 interrupted.
 */

/**
 * The hint of a command line that cannot be run as given, unless the error has its own. The CLI
 * names the command's own help in its place: `Run "threadx ingest --help" for its options.`
 */
export const USAGE_HINT = 'Run "threadx --help" for the commands and options.';

/** CLI exit codes, as README.md promises them. */
export const EXIT = {
  ok: 0,
  problems: 1,
  usage: 2,
  storage: 3,
  interrupted: 130,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/**
 * JSON-RPC error codes. The JSON-RPC ones are standard; the application ones (-32001 ...) are
 * stable: clients may branch on them. `RequestCancelled` is LSP's. `schemas/protocol.ts` exports
 * this same object; `docs/protocol.md` takes its descriptions from the comments here.
 */
export const ErrorCodes = {
  /** The bytes of a message are not JSON. */
  ParseError: -32700,
  /** The JSON is not a JSON-RPC 2.0 request or notification (batches included). */
  InvalidRequest: -32600,
  /** No such method, or not available in this build (see `initialize`'s `capabilities.methods`). */
  MethodNotFound: -32601,
  /** Params do not match the method's schema, or ask for something impossible (a start after the exchange's now, unknown indicator arguments, a bad file); `data.reason` names the failure and `data.issues` lists the problems by path. */
  InvalidParams: -32602,
  /** A bug in the daemon; the message says what failed and the log has the stack. */
  InternalError: -32603,
  /** The exchange does not know the symbol (it is well-formed, but not listed). */
  InvalidSymbol: -32001,
  /** The dataset, group or file asked for does not exist. */
  NotFound: -32002,
  /** The daemon cannot take the request now (too many requests in flight, data dir locked). */
  Busy: -32003,
  /** The exchange's rate limit was reached; `data.retryAfterMs` says when to try again. */
  RateLimited: -32004,
  /** Reading or writing the bank failed (disk full, permission, corrupt or changed file). */
  StorageError: -32005,
  /** Data broke the candle data contract (UDFI) and was not written. */
  DataContract: -32006,
  /** The exchange could not be reached or answered garbage. */
  Network: -32007,
  /** `initialize` carried no token or the wrong one (port transport only). */
  Unauthorized: -32008,
  /** A request other than `initialize` arrived before `initialize`. */
  ServerNotInitialized: -32009,
  /** The request was cancelled by `$/cancelRequest` or by `shutdown`. */
  RequestCancelled: -32800,
} as const;
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

const RPC = ErrorCodes;

interface ErrorKind {
  /** The JSON-RPC error code this failure answers with. */
  readonly rpc: ErrorCode;
  /** The CLI exit code. */
  readonly exit: ExitCode;
  /** True for a mistake in what the user asked (bad input); false for the world failing. */
  readonly user: boolean;
}

const user = (rpc: ErrorCode = RPC.InvalidParams): ErrorKind => ({
  rpc,
  exit: EXIT.usage,
  user: true,
});
const world = (rpc: ErrorCode, exit: ExitCode = EXIT.storage): ErrorKind => ({
  rpc,
  exit,
  user: false,
});

/**
 * Every failure the product can report, by stable code. Codes are part of the protocol
 * (`error.data.reason`) and of the CLI's `--json` output: add, never rename.
 */
export const ERRORS = {
  // --- bad input: the fix is in what was asked (exit 2, JSON-RPC InvalidParams) ---------------
  BAD_INPUT: user(),
  INVALID_PARAMS: user(),
  INVALID_INTERVAL: user(),
  INVALID_DATE: user(),
  INVALID_RANGE: user(),
  INVALID_INDICATOR: user(),
  CONFIG: user(),
  BAD_FILE: user(),
  WRONG_INTERVAL: user(),
  WRONG_MARKET: user(),
  UNKNOWN_GROUP: user(RPC.NotFound),
  NO_BANK: user(),
  INVALID_SYMBOL: user(RPC.InvalidSymbol),
  NOT_FOUND: user(RPC.NotFound),
  BAD_REQUEST: user(),
  // --- the bank or the exchange failed (exit 3) -----------------------------------------------
  BUSY: world(RPC.Busy),
  LOCKED: world(RPC.Busy),
  STORAGE: world(RPC.StorageError),
  REGISTRY: world(RPC.StorageError),
  PARQUET: world(RPC.StorageError),
  CORRUPT: world(RPC.StorageError),
  CHECKSUM_MISMATCH: world(RPC.StorageError),
  JOURNAL: world(RPC.StorageError),
  DATA_CONTRACT: world(RPC.DataContract),
  NETWORK: world(RPC.Network),
  TIMEOUT: world(RPC.Network),
  SERVER_ERROR: world(RPC.Network),
  INVALID_RESPONSE: world(RPC.Network),
  FORBIDDEN: world(RPC.Network),
  RATE_LIMITED: world(RPC.RateLimited),
  IP_BANNED: world(RPC.RateLimited),
  // --- the JSON-RPC conversation itself went wrong (a client's mistake) ------------------------
  PARSE_ERROR: user(RPC.ParseError),
  INVALID_REQUEST: user(RPC.InvalidRequest),
  METHOD_NOT_FOUND: user(RPC.MethodNotFound),
  NOT_INITIALIZED: user(RPC.ServerNotInitialized),
  UNAUTHORIZED: user(RPC.Unauthorized),
  // --- the daemon could not be reached (client side) ------------------------------------------
  DAEMON_UNAVAILABLE: world(RPC.Network),
  // --- the request was stopped (exit 130) -----------------------------------------------------
  CANCELLED: { rpc: RPC.RequestCancelled, exit: EXIT.interrupted, user: false },
  // --- a bug in the product (exit 3, JSON-RPC InternalError) ----------------------------------
  INTERNAL: world(RPC.InternalError),
} as const satisfies Record<string, ErrorKind>;

export type ErrorCodeName = keyof typeof ERRORS;

/** Structured details that travel with an error (JSON-serialisable). */
export type ErrorDetails = Record<string, unknown>;

/**
 * The product's error. `message` says what went wrong for a person, `hint` how to fix it (a
 * command that exists, a setting to change), `details` the structured facts (symbol, dataset,
 * file, retryAfterMs, issues ...).
 */
export class ThreadxError extends Error {
  override readonly name: string = 'ThreadxError';
  constructor(
    readonly code: ErrorCodeName,
    message: string,
    readonly hint?: string,
    readonly details: ErrorDetails = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  get kind(): ErrorKind {
    return ERRORS[this.code];
  }

  /** The message and the hint, as one text for a person. */
  get text(): string {
    return this.hint ? `${this.message} ${this.hint}` : this.message;
  }
}

export function isThreadxError(e: unknown): e is ThreadxError {
  return e instanceof ThreadxError;
}

/** The kind of any code string (unknown codes are internal errors). */
export function errorKind(code: string): ErrorKind {
  return (ERRORS as Record<string, ErrorKind>)[code] ?? ERRORS.INTERNAL;
}

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

/** One problem of a request, located by its path (zod's form). */
export interface ErrorIssue {
  path: (string | number)[];
  message: string;
  code?: string;
}

/**
 * Any thrown value as a `ThreadxError`: itself; a zod validation error as `INVALID_PARAMS` with
 * its issues; an abort as `CANCELLED`; a file-system errno as `STORAGE`; anything else as
 * `INTERNAL` (a bug: the caller logs the stack of `cause`). Adapters call this and then read
 * the table; they never look at class names or message text.
 */
export function toThreadxError(e: unknown): ThreadxError {
  if (e instanceof ThreadxError) return e;
  const err = (typeof e === 'object' && e !== null ? e : { message: String(e) }) as {
    name?: unknown;
    code?: unknown;
    message?: unknown;
    issues?: unknown;
  };
  const name = typeof err.name === 'string' ? err.name : '';
  const code = typeof err.code === 'string' ? err.code : '';
  const message = firstLine(typeof err.message === 'string' ? err.message : String(e));
  if (name === 'ZodError' && Array.isArray(err.issues)) {
    const issues = (err.issues as { path?: unknown; message?: unknown; code?: unknown }[]).map(
      (i): ErrorIssue => ({
        path: Array.isArray(i.path) ? (i.path as (string | number)[]) : [],
        message: String(i.message),
        ...(typeof i.code === 'string' ? { code: i.code } : {}),
      }),
    );
    return new ThreadxError(
      'INVALID_PARAMS',
      issues.map((i) => i.message).join('; ') || 'invalid input',
      undefined,
      { issues },
      { cause: e },
    );
  }
  if (name === 'AbortError' || code === 'ABORT_ERR') {
    return new ThreadxError('CANCELLED', 'The request was cancelled.', undefined, {}, { cause: e });
  }
  if (STORAGE_ERRNO.has(code)) {
    return new ThreadxError(
      'STORAGE',
      `Storage error: ${message}`,
      undefined,
      { errno: code },
      {
        cause: e,
      },
    );
  }
  return new ThreadxError('INTERNAL', message, undefined, {}, { cause: e });
}

/** The CLI exit code of any thrown value. */
export function exitCodeOf(e: unknown): ExitCode {
  return toThreadxError(e).kind.exit;
}

function firstLine(s: string): string {
  const line = s.split('\n')[0];
  return line.length > 500 ? `${line.slice(0, 500)}…` : line;
}

/** True when `code` is a code of the table. */
export function isErrorCode(code: string): code is ErrorCodeName {
  return Object.prototype.hasOwnProperty.call(ERRORS, code);
}

/** An error rebuilt from a reported `{ code, message }` (unknown codes become `INTERNAL`). */
export function errorFromReport(code: string, message: string): ThreadxError {
  return new ThreadxError(isErrorCode(code) ? code : 'INTERNAL', message);
}

/** A request whose params are wrong: `INVALID_PARAMS` with every issue by path. */
export function invalidParams(method: string, issues: ErrorIssue[]): ThreadxError {
  const first = issues[0];
  const where = first && first.path.length ? `${first.path.join('.')}: ` : '';
  return new ThreadxError(
    'INVALID_PARAMS',
    `Invalid params for ${method}: ${where}${first?.message ?? 'invalid'}`,
    undefined,
    { issues },
  );
}

/** `text` as a sentence for a person: a capital first letter and a closing full stop. */
export function sentence(text: string): string {
  const t = text.trim();
  if (t === '') return t;
  const capital = t[0].toUpperCase() + t.slice(1);
  return /[.!?]["')\]]?$/.test(capital) ? capital : `${capital}.`;
}
