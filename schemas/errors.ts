/**
 * The one error model. Every layer (engine, store, sources, app, rpc, cli) throws `ThreadxError`
 * with a stable `code` from `ERRORS`; this table is the only place that knows how a code maps onto
 * a JSON-RPC error code and a CLI exit code. Adapters never look at class names or message text.
 *
 * Exit codes (README.md, "Exit codes"): 0 ok, 1 problems found, 2 bad input, 3 storage or
 * network, 130 interrupted.
 */

/** CLI exit codes, as README.md promises them. */
export const EXIT = {
  ok: 0,
  problems: 1,
  usage: 2,
  storage: 3,
  interrupted: 130,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** JSON-RPC error codes (the standard ones and the daemon's own). Mirrored in protocol.ts. */
export const RPC = {
  InvalidParams: -32602,
  InternalError: -32603,
  InvalidSymbol: -32001,
  NotFound: -32002,
  Busy: -32003,
  RateLimited: -32004,
  StorageError: -32005,
  DataContract: -32006,
  Network: -32007,
  RequestCancelled: -32800,
} as const;

interface ErrorKind {
  /** The JSON-RPC error code this failure answers with. */
  readonly rpc: number;
  /** The CLI exit code. */
  readonly exit: ExitCode;
  /** True for a mistake in what the user asked (bad input); false for the world failing. */
  readonly user: boolean;
}

const user = (rpc: number = RPC.InvalidParams): ErrorKind => ({
  rpc,
  exit: EXIT.usage,
  user: true,
});
const world = (rpc: number, exit: ExitCode = EXIT.storage): ErrorKind => ({
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
  UNKNOWN_GROUP: user(),
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
