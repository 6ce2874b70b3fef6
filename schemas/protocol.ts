/**
 * The ThreadX Data protocol: every JSON-RPC 2.0 method and notification between a client (the VS
 * Code extension, another editor, a script) and the daemon, declared once.
 *
 * Each declaration carries its literal method name, who sends it, and zod schemas for its params
 * and result. The daemon validates incoming params with them; the TypeScript client is typed by
 * them; `scripts/gen-protocol.ts` turns them into JSON Schema (`schemas/json/`) and
 * `docs/protocol.md` for clients in other languages. The doc comment above each declaration is
 * copied into those generated files, so it is written for a client author.
 *
 * The wire follows the Language Server Protocol where LSP has an answer: `Content-Length` framing,
 * `initialize` / `shutdown` / `exit`, `$/cancelRequest`, and `$/progress` with a `workDoneToken`.
 * Batches are not supported (as in LSP). Times are milliseconds since the Unix epoch, UTC, or
 * UTC ISO-8601 strings where a request accepts them; ranges are half-open `[start, end)`.
 *
 * This module imports zod and other schemas only: no node I/O, no vscode.
 */
import { z } from 'zod';
import { SymbolSchema, parseUtcDate } from './common.ts';
import { ConfigSchema } from './config.ts';
import { IntervalSchema } from './intervals.ts';
import { GapSchema, IntegritySchema, VerifyIssueSchema } from './registry.ts';
import { type ErrorCode, ErrorCodes } from './errors.ts';
import { INDICATOR_NAMES, SELECTION } from './contracts.ts';
import { KLINE_KINDS, MARKETS } from './markets.ts';

/**
 * Version of this protocol, `major.minor`. A client refuses a daemon with a different major; a
 * minor bump only adds optional fields, methods or notifications.
 */
export const PROTOCOL_VERSION = '1.0';

// ---------------------------------------------------------------------------------------------
// Error codes.
// ---------------------------------------------------------------------------------------------

/** Error codes, declared with the table that maps failures onto them (`errors.ts`). */
export { ErrorCodes, type ErrorCode } from './errors.ts';

/** One problem in a request's params, located by its path (as zod reports it). */
export const ParamIssueSchema = z.object({
  path: z.array(z.union([z.string(), z.number()])),
  message: z.string(),
  code: z.string().optional(),
});
export type ParamIssue = z.infer<typeof ParamIssueSchema>;

/** The `data` member of every error the daemon sends. */
export const ErrorDataSchema = z.object({
  /** The failure's stable code from `ERRORS` (schemas/errors.ts), e.g. `NOT_FOUND`, `INVALID_RANGE`. */
  reason: z.string(),
  /** For `InvalidParams`: every problem, path by path. */
  issues: z.array(ParamIssueSchema).optional(),
  /** For `RateLimited`: how long to wait before trying again. */
  retryAfterMs: z.number().optional(),
  /**
   * For `InvalidSymbol` / `NotFound`: what was asked for. For `CORRUPT`: the symbol whose
   * `registry/repair` fixes the damaged file of `dataset`.
   */
  symbol: z.string().optional(),
  dataset: z.string().optional(),
  /** How to fix it, for a person (a command or setting that exists). */
  hint: z.string().optional(),
  /** Further structured facts about the failure (file, interval, retry time ...). */
  details: z.record(z.string(), z.unknown()).optional(),
});
export type ErrorData = z.infer<typeof ErrorDataSchema>;

// ---------------------------------------------------------------------------------------------
// Shared pieces.
// ---------------------------------------------------------------------------------------------

/** A point in time: ms since the epoch (UTC), or a UTC ISO-8601 date or datetime string. */
export const TimeSchema = z.union([
  z.number().int().min(0).max(8.64e15),
  z.string().transform((s, ctx) => {
    try {
      return parseUtcDate(s);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: (e as Error).message });
      return z.NEVER;
    }
  }),
]);

/** A half-open time range `[start, end)` in ms, UTC. */
export const TimeRangeSchema = z.tuple([z.number(), z.number()]);

/** LSP's progress token: the client picks it, the daemon echoes it in `$/progress`. */
export const ProgressTokenSchema = z.union([z.string().max(200), z.number().int()]);
export type ProgressToken = z.infer<typeof ProgressTokenSchema>;

const workDoneToken = ProgressTokenSchema.optional().describe(
  'When present, the daemon reports progress as $/progress notifications with this token.',
);

export const GroupNameSchema = z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, {
  error: 'group names are 1 to 32 letters, digits, "_" or "-"',
});

const SymbolList = z.array(SymbolSchema).min(1).max(SELECTION.maxSymbols);

/** Which symbols a batch request applies to: exactly one of `symbols`, `top` or `group`. */
const selection = {
  symbols: SymbolList.optional(),
  top: z
    .object({
      n: z.int().min(1).max(SELECTION.maxTop),
      quote: z
        .string()
        .regex(/^[A-Za-z0-9]{2,10}$/)
        .default('USDC'),
    })
    .optional(),
  group: GroupNameSchema.optional(),
};
function exactlyOneSelection(
  v: { symbols?: unknown; top?: unknown; group?: unknown },
  ctx: z.RefinementCtx,
): void {
  const given = (['symbols', 'top', 'group'] as const).filter((k) => v[k] !== undefined);
  if (given.length !== 1) {
    ctx.addIssue({
      code: 'custom',
      path: given.length ? [given[1]] : ['symbols'],
      message:
        given.length === 0
          ? 'give one of symbols, top or group'
          : `give only one of symbols, top or group (got ${given.join(' and ')})`,
    });
  }
}

const maxPoints = z
  .int()
  .min(2)
  .max(1_000_000)
  .default(5000)
  .describe('Most candles to return; the daemon serves a coarser interval to stay under it.');

const exact = z
  .boolean()
  .default(false)
  .describe(
    'Serve exactly `interval`, never a coarser one; past `maxPoints` the latest candles are sent and `truncated` is true.',
  );

const NoParams = z.object({}).strict().nullish();

/** A failure of one item of a batch (one symbol of an ingest), with the protocol's error code. */
export const ItemErrorSchema = z.object({
  code: z.number().int(),
  reason: z.string(),
  message: z.string(),
});

// ---------------------------------------------------------------------------------------------
// Declarations.
// ---------------------------------------------------------------------------------------------

/** Who sends a message. */
export type Direction = 'client->daemon' | 'daemon->client';

export interface RequestDecl<
  M extends string = string,
  P extends z.ZodType = z.ZodType,
  R extends z.ZodType = z.ZodType,
> {
  readonly kind: 'request';
  readonly method: M;
  readonly direction: Direction;
  readonly params: P;
  readonly result: R;
  /** Whether the request accepts a `workDoneToken` and reports `$/progress`. */
  readonly progress: boolean;
  /** Application error codes the request may answer with, beyond the JSON-RPC ones. */
  readonly errors: readonly ErrorCode[];
}

export interface NotificationDecl<
  M extends string = string,
  P extends z.ZodType = z.ZodType,
  D extends Direction = Direction,
> {
  readonly kind: 'notification';
  readonly method: M;
  readonly direction: D;
  readonly params: P;
}

function request<const M extends string, P extends z.ZodType, R extends z.ZodType>(d: {
  method: M;
  params: P;
  result: R;
  direction?: Direction;
  progress?: boolean;
  errors?: readonly ErrorCode[];
}): RequestDecl<M, P, R> {
  return {
    kind: 'request',
    direction: 'client->daemon',
    progress: false,
    errors: [],
    ...d,
  };
}

function notification<const M extends string, P extends z.ZodType, const D extends Direction>(d: {
  method: M;
  params: P;
  direction: D;
}): NotificationDecl<M, P, D> {
  return { kind: 'notification', ...d };
}

const E = ErrorCodes;

// --- lifecycle --------------------------------------------------------------------------------

/**
 * The first request of every connection, sent by the client. Any other request before it is
 * answered with `ServerNotInitialized`; notifications before it are dropped. Over the port
 * transport it must carry `token` (the content of `<data>/.threadx-token`), else the daemon answers
 * `Unauthorized` and closes the connection. Answers the protocol version (a client refuses a
 * different major), the product version, the data directory and what the daemon can do.
 */
export const Initialize = request({
  method: 'initialize',
  params: z.object({
    /** The client's process id, so the daemon can log who it serves. */
    processId: z.int().nullable().optional(),
    clientInfo: z
      .object({ name: z.string().max(200), version: z.string().max(100).optional() })
      .optional(),
    /** The protocol version the client was written against. */
    protocolVersion: z.string().max(20).optional(),
    capabilities: z
      .object({
        /** The client handles `$/progress`. */
        progress: z.boolean().optional(),
        /** The client wants `registry/changed`. Default true. */
        registryChanged: z.boolean().optional(),
      })
      .optional(),
    /** Port transport only: the secret from `<data>/.threadx-token`. */
    token: z.string().max(200).optional(),
  }),
  result: z.object({
    protocolVersion: z.string(),
    serverInfo: z.object({ name: z.string(), version: z.string() }),
    dataDir: z.string(),
    /** The daemon's process id. */
    pid: z.int(),
    capabilities: z.object({
      progress: z.boolean(),
      cancellation: z.boolean(),
      registryChanged: z.boolean(),
      logs: z.boolean(),
      /** Whether `ingest/*` and `symbols/*` are available in this build. */
      ingest: z.boolean(),
      /** Whether `indicators/*` is available in this build. */
      indicators: z.boolean(),
      /** Every method the daemon answers. */
      methods: z.array(z.string()),
    }),
  }),
  errors: [E.Unauthorized],
});

/**
 * Sent by the client to stop the daemon: running jobs are cancelled (their requests answer
 * `RequestCancelled`) and their partial writes either complete or roll back, then the daemon
 * answers `null`. Afterwards every request but `exit` is answered with `InvalidRequest`.
 */
export const Shutdown = request({ method: 'shutdown', params: NoParams, result: z.null() });

/**
 * Sent by the client after `shutdown`: the daemon exits (code 0 after `shutdown`, 1 without). In
 * a shared daemon (socket, port) it closes this connection only.
 */
export const Exit = notification({ method: 'exit', params: NoParams, direction: 'client->daemon' });

// --- config and symbols -----------------------------------------------------------------------

/** Sent by the client: the configuration the daemon runs with (every default filled in). */
export const ConfigGet = request({
  method: 'config/get',
  params: NoParams,
  result: z.object({
    config: ConfigSchema,
    /** The file the configuration came from, or null for defaults only. */
    file: z.string().nullable(),
    dataDir: z.string(),
  }),
});

export const SymbolInfoSchema = z.object({
  symbol: z.string(),
  base: z.string(),
  quote: z.string(),
  /** Binance's status: TRADING, BREAK, HALT, END_OF_DAY ... */
  status: z.string(),
});

/**
 * Sent by the client: symbols from the exchange's exchangeInfo whose name, base or quote asset
 * contains `query` (case-insensitive), exact matches first. Fails with `Network` or `RateLimited`
 * when exchangeInfo cannot be fetched and no cached copy exists.
 */
export const SymbolsSearch = request({
  method: 'symbols/search',
  params: z.object({
    query: z.string().trim().max(40),
    /** Only symbols quoted in this asset, e.g. USDC. */
    quote: z
      .string()
      .regex(/^[A-Za-z0-9]{2,10}$/)
      .optional(),
    limit: z.int().min(1).max(1000).default(50),
  }),
  result: z.object({ matches: z.array(SymbolInfoSchema) }),
  errors: [E.Network, E.RateLimited],
});

/**
 * Sent by the client: the `n` largest trading symbols quoted in `quote`. Ranked by market
 * capitalisation then 24 h quote volume when a market-cap source is configured
 * (`market-cap+volume`), else by 24 h quote volume alone (`volume`); `note` says which and why.
 */
export const SymbolsTop = request({
  method: 'symbols/top',
  params: z.object({
    n: z.int().min(1).max(SELECTION.maxTop).default(10),
    quote: z
      .string()
      .regex(/^[A-Za-z0-9]{2,10}$/)
      .default('USDC'),
  }),
  result: z.object({
    symbols: z.array(
      SymbolInfoSchema.extend({
        rank: z.int(),
        quoteVolume24h: z.number().optional(),
        marketCap: z.number().optional(),
      }),
    ),
    ranking: z.enum(['volume', 'market-cap+volume']),
    note: z.string(),
  }),
  errors: [E.Network, E.RateLimited],
});

/**
 * Sent by the client: the symbol groups. Built in: L1 (BTC, ETH, SOL, ADA), DeFi (UNI, AAVE,
 * LINK, DOT), L2 (MATIC, ARB, OP) and Stable (EUR, FDUSD, USDE), all quoted in USDC; then the
 * `[groups]` of the configuration, which may override a built-in name.
 */
export const SymbolsGroups = request({
  method: 'symbols/groups',
  params: NoParams,
  result: z.object({
    groups: z.array(
      z.object({
        name: z.string(),
        symbols: z.array(z.string()),
        source: z.enum(['builtin', 'config']),
      }),
    ),
  }),
});

// --- ingest ----------------------------------------------------------------------------------

export const IngestParamsSchema = z
  .object({
    ...selection,
    /** Timeframes to derive after the 1m download (1m itself is always fetched). */
    intervals: z.array(IntervalSchema).max(16).optional(),
    start: TimeSchema,
    /** Default: now. */
    end: TimeSchema.optional(),
    /** `archive` uses the monthly/daily bulk files, `rest` the klines endpoint, `auto` both. */
    source: z.enum(['auto', 'rest', 'archive']).default('auto'),
    /** Symbols downloaded at once. Default from the configuration. */
    concurrency: z.int().min(1).max(32).optional(),
    /** Plan only: answer what would be fetched, fetch nothing. */
    dryRun: z.boolean().default(false),
    /**
     * After the run, verify the selected symbols' files that carry no finding yet (every file the
     * run wrote among them): checksum re-read from disk, decoded, data contract, row count. The
     * findings are kept in the registry, as `registry/verify` keeps them. Ignored by a plan.
     */
    verify: z.boolean().default(false),
    workDoneToken,
  })
  .superRefine(exactlyOneSelection)
  .superRefine((v, ctx) => {
    if (v.end !== undefined && v.end <= v.start) {
      ctx.addIssue({ code: 'custom', path: ['end'], message: 'end must be after start' });
    }
  });

export const IngestPlanItemSchema = z.object({
  symbol: z.string(),
  /** 1m ranges missing from the bank that will be fetched. */
  missing: z.array(TimeRangeSchema),
  /** 1m candles those ranges hold at most. */
  candles: z.number(),
  /** Planned REST requests, and archive files (each costs a download and its checksum). */
  requests: z.number(),
  archives: z.number(),
  /** Request weight charged by the exchange. */
  weight: z.number(),
});

/** A selected symbol that will not be downloaded, and why (unknown, not trading). */
export const SkippedSymbolSchema = z.object({
  symbol: z.string(),
  status: z.string(),
  reason: z.string(),
});

export const IngestPlanResultSchema = z.object({
  /** The window actually planned: start floored to the minute, end capped at the last closed one. */
  window: TimeRangeSchema,
  items: z.array(IngestPlanItemSchema),
  skipped: z.array(SkippedSymbolSchema),
  totals: z.object({
    candles: z.number(),
    requests: z.number(),
    archives: z.number(),
    weight: z.number(),
    estimatedSeconds: z.number(),
  }),
  /** With `top`: how the symbols were ranked. */
  ranking: z.object({ kind: z.enum(['volume', 'market-cap+volume']), note: z.string() }).optional(),
});

/**
 * Sent by the client: what `ingest/run` with the same params would fetch, per symbol, computed
 * from the registry without downloading candles (it asks the exchange for its time and symbol
 * list, to resolve `top` and check symbols). Unknown or non-trading symbols are listed in
 * `skipped`, not failed.
 */
export const IngestPlan = request({
  method: 'ingest/plan',
  params: IngestParamsSchema,
  result: IngestPlanResultSchema,
  errors: [E.NotFound, E.Network, E.RateLimited],
});

export const IngestSymbolResultSchema = z.object({
  symbol: z.string(),
  /** 1m candles added to the bank. */
  rows: z.number(),
  /** 1m ranges that were missing before the run, and how many fetches (REST runs, archives) it took. */
  missing: z.array(TimeRangeSchema),
  ranges: z.number(),
  /** REST requests and archive files used. */
  requests: z.number(),
  archives: z.number(),
  /** Gaps left in the 1m series after the download, and candles filled flat in short ones. */
  gaps: z.number(),
  filled: z.number(),
  /** Wall time in ms. */
  timeMs: z.number(),
  /** Derived timeframes written. */
  derived: z.array(IntervalSchema),
  /** Why this symbol failed or was skipped; the others still ran. */
  error: ItemErrorSchema.nullable(),
});

/**
 * Sent by the client: downloads the missing 1m candles of every selected symbol, writes them to
 * the bank and derives `intervals` (default: the configuration's `default_intervals`). With
 * `dryRun` it answers the plan's rows without fetching. Long: give a `workDoneToken` for
 * `$/progress`, and cancel with `$/cancelRequest`: the request then answers `RequestCancelled`,
 * and what was fetched before is written consistently (a re-run fetches only what is missing). A
 * failing or unknown symbol does not stop the others; its row carries `error`. Sends
 * `registry/changed` to every client for the datasets it wrote. Two requests on the same symbol
 * run one after the other.
 */
export const IngestRun = request({
  method: 'ingest/run',
  params: IngestParamsSchema,
  result: z.object({
    dryRun: z.boolean(),
    symbols: z.array(IngestSymbolResultSchema),
    totals: z.object({
      rows: z.number(),
      requests: z.number(),
      errors: z.number(),
      timeMs: z.number(),
    }),
    /** What a person should know about the whole job, one sentence each (a source rerouted). */
    notes: z.array(z.string()).optional(),
    ranking: z
      .object({ kind: z.enum(['volume', 'market-cap+volume']), note: z.string() })
      .optional(),
    /** With `verify`: the files checked after the run, and those that are not `ok`. */
    verified: z.object({ checked: z.number(), issues: z.array(VerifyIssueSchema) }).optional(),
  }),
  progress: true,
  errors: [E.NotFound, E.Network, E.RateLimited, E.StorageError, E.DataContract],
});

// --- registry ---------------------------------------------------------------------------------

/** A dataset as listed: its registry entry without the per-file detail. */
export const DatasetSummarySchema = z.object({
  /**
   * `KEY/interval` for candles, `KEY/interval/indicator-key` for indicators; KEY is the series'
   * bank key: the symbol for spot trade klines, `SYMBOL@um`, `SYMBOL@cm.mark`, ... otherwise.
   */
  id: z.string(),
  /** The series' bank key (see `id`). */
  symbol: z.string(),
  /** The market: spot (absent in older daemons), um (USD-M) or cm (COIN-M futures). */
  market: z.enum(MARKETS).optional(),
  /** The kline kind: klines (trade price), mark, index or premium. */
  klineKind: z.enum(KLINE_KINDS).optional(),
  interval: IntervalSchema,
  kind: z.enum(['candles', 'indicator']),
  rows: z.number(),
  first: z.number().nullable(),
  last: z.number().nullable(),
  /** Gaps not filled (missing candles remain). */
  gaps: z.number(),
  /** Candles missing in those gaps. */
  missing: z.number(),
  filled: z.number(),
  files: z.number(),
  bytes: z.number(),
  updated: z.number(),
  derived: z.boolean(),
  indicator: z.object({ name: z.string(), params: z.record(z.string(), z.number()) }).optional(),
  /**
   * Derived datasets: buckets with 1m rows not stored yet because some of their minutes are
   * unknown (the running hour, day, week or month; a first week or month begun before the
   * history). They become candles once their minutes are in.
   */
  pending: z.number().optional(),
  /** The daemon's record of the last verify of the dataset's files (its worst file). */
  integrity: IntegritySchema.optional(),
  /**
   * Where the dataset lives, absolute: the folder of its monthly files (1m) or its file. Clients
   * use this path as is; they never build one into the bank.
   */
  path: z.string().optional(),
});
export type DatasetSummary = z.infer<typeof DatasetSummarySchema>;

/**
 * Sent by the client: the datasets in the bank, sorted by id, optionally filtered. Served from
 * memory. With `details`, each dataset also lists its gaps.
 */
export const RegistryList = request({
  method: 'registry/list',
  params: z
    .object({
      filter: z
        .object({
          /** Exact symbol. */
          symbol: SymbolSchema.optional(),
          interval: IntervalSchema.optional(),
          kind: z.enum(['candles', 'indicator']).optional(),
        })
        .optional(),
      details: z.boolean().default(false),
    })
    .nullish()
    .transform((v) => v ?? { details: false }),
  result: z.object({
    datasets: z.array(DatasetSummarySchema),
    /** Per dataset id when `details` is true: its gaps. */
    gaps: z.record(z.string(), z.array(GapSchema)).optional(),
  }),
});

/**
 * Sent by the client: recomputes every file's checksum and re-validates its candles. Long: give
 * a `workDoneToken` for `$/progress`; cancellable. `ok` is true when every file is as registered.
 */
export const RegistryVerify = request({
  method: 'registry/verify',
  params: z
    .object({ workDoneToken })
    .nullish()
    .transform((v) => v ?? {}),
  result: z.object({
    ok: z.boolean(),
    /** Files checked. */
    checked: z.number(),
    /** Files that are not `ok` (changed, corrupt, missing, unregistered). */
    issues: z.array(VerifyIssueSchema),
  }),
  progress: true,
  errors: [E.StorageError],
});

/**
 * Sent by the client: repairs symbols (all with a problem when none is given). Corrupt or missing
 * 1m months are fetched again for exactly their ranges; damaged derived files and indicator caches
 * are rebuilt from 1m (no network); sound files are never rewritten; the result is verified.
 * Per symbol, `ok` is false with an `error` saying why when it cannot be repaired (no network,
 * the symbol is no longer served). Sends `registry/changed` to every client. This is how a client
 * of a running daemon repairs (VS Code's Repair, `threadx repair --join`): the daemon holds the
 * bank, so a separate `threadx repair` is refused while it runs.
 */
export const RegistryRepair = request({
  method: 'registry/repair',
  params: z
    .object({ symbols: z.array(SymbolSchema).optional(), workDoneToken })
    .nullish()
    .transform((v) => v ?? {}),
  result: z.object({
    ok: z.boolean(),
    results: z.array(
      z.object({
        symbol: z.string(),
        ok: z.boolean(),
        /** What verify found before the repair. */
        found: z.array(VerifyIssueSchema),
        /** 1m ranges fetched again, [start, end) in ms. */
        refetched: z.array(z.tuple([z.number(), z.number()])),
        /** Datasets rebuilt from 1m. */
        rebuilt: z.array(z.string()),
        /** What verify finds after the repair. */
        remaining: z.array(VerifyIssueSchema),
        error: z.object({ code: z.string(), message: z.string() }).optional(),
      }),
    ),
    /** What a person should know about the whole repair, one sentence each (a source rerouted). */
    notes: z.array(z.string()).optional(),
  }),
  progress: true,
  errors: [E.StorageError, E.Network],
});

/**
 * Sent by the client: removes a dataset's files and registry entry. Deleting `1m` removes every
 * dataset of the symbol (derived data cannot outlive its source). Answers `NotFound` when there is
 * no such dataset. Sends `registry/changed` to every client.
 */
export const RegistryDelete = request({
  method: 'registry/delete',
  params: z.object({ symbol: SymbolSchema, interval: IntervalSchema }),
  result: z.object({
    /** Dataset ids removed. */
    datasets: z.array(z.string()),
    /** Files removed, relative to the data directory. */
    files: z.array(z.string()),
  }),
  errors: [E.NotFound, E.StorageError],
});

/**
 * An indicator and its parameters. Parameters by name: sma/ema {period=20}, rsi {period=14},
 * macd {fast=12, slow=26, signal=9}, bbands {period=20, k=2}, atr {period=14}. They are checked
 * against the indicator; a bad one is answered `InvalidParams` with its path.
 */
export const IndicatorRequestSchema = z.object({
  name: z.enum(INDICATOR_NAMES),
  params: z.record(z.string(), z.number()).default({}),
});

// --- data -------------------------------------------------------------------------------------

/** Candles as columns: `openTime[i]`, `open[i]` ... describe candle `i`. */
export const CandleColumnsSchema = z.object({
  openTime: z.array(z.number()),
  open: z.array(z.number()),
  high: z.array(z.number()),
  low: z.array(z.number()),
  close: z.array(z.number()),
  volume: z.array(z.number()),
  quoteVolume: z.array(z.number()),
  trades: z.array(z.number()),
  takerBuyBase: z.array(z.number()),
  takerBuyQuote: z.array(z.number()),
  /** 1 where the candle was synthesised to fill a short gap. */
  filled: z.array(z.number()),
});
export type CandleColumns = z.infer<typeof CandleColumnsSchema>;

/**
 * Sent by the client (a chart): candles of `symbol` in `[start, end)` as columns. When the range
 * holds more than `maxPoints` candles of `interval`, the daemon serves the finest coarser interval
 * that fits, from the bank or resampled from 1m on the fly; `interval` in the result says which.
 * If even `1M` does not fit, the last `maxPoints` candles are sent and `truncated` is true.
 * With `exact`, `interval` is always the one served (a chart that chose its own timeframe).
 * Answers `NotFound` when the symbol has no data.
 */
export const DataRead = request({
  method: 'data/read',
  params: z.object({
    symbol: SymbolSchema,
    interval: IntervalSchema,
    start: TimeSchema.optional(),
    end: TimeSchema.optional(),
    maxPoints,
    exact,
  }),
  result: z.object({
    symbol: z.string(),
    /** The interval actually served. */
    interval: IntervalSchema,
    requestedInterval: IntervalSchema,
    /** True when the candles were resampled from 1m for this answer. */
    resampled: z.boolean(),
    truncated: z.boolean(),
    /**
     * Buckets in the range that are not candles yet because some of their minutes are unknown
     * (the running hour, day, week or month; a first week or month begun before the history).
     */
    pending: z.number().optional(),
    /**
     * Minutes the exchange confirmed it has no candle for (an outage), as [start, end) ranges
     * that overlap the candles served: a chart marks them apart from gaps the bank has not filled.
     */
    outages: z.array(TimeRangeSchema).optional(),
    length: z.number(),
    columns: CandleColumnsSchema,
  }),
  errors: [E.NotFound, E.StorageError],
});

/**
 * Sent by the client: writes candles of `symbol` in `[start, end)` to a CSV file, an Excel
 * workbook or a Parquet file (`format`). `out` must be an absolute path whose folder exists and
 * that ends with the format's extension; an existing file is replaced only with `overwrite`. The file
 * appears complete or not at all. Answers `InvalidParams` (path `out`) for a bad path.
 */
export const DataExport = request({
  method: 'data/export',
  params: z.object({
    symbol: SymbolSchema,
    interval: IntervalSchema,
    start: TimeSchema.optional(),
    end: TimeSchema.optional(),
    out: z.string().min(1).max(4096),
    /** `xlsx`: typed UTC dates, a frozen header; a range over one sheet's rows is refused. */
    format: z.enum(['csv', 'xlsx', 'parquet']).default('csv'),
    /** Indicator values as extra columns (`key.output`, empty before the lookback). */
    indicators: z.array(IndicatorRequestSchema).min(1).max(16).optional(),
    overwrite: z.boolean().default(false),
  }),
  result: z.object({ out: z.string(), rows: z.number(), bytes: z.number() }),
  errors: [E.NotFound, E.StorageError],
});

// --- indicators -------------------------------------------------------------------------------

export { INDICATOR_NAMES } from './contracts.ts';

const indicatorBatch = {
  ...selection,
  intervals: z.array(IntervalSchema).min(1).max(16),
  indicators: z.array(IndicatorRequestSchema).min(1).max(32),
  start: TimeSchema.optional(),
  end: TimeSchema.optional(),
};

/**
 * Sent by the client: computes indicators over stored candles and caches them in the bank
 * (`indicators_cache`), recomputing only what changed. Long: `$/progress`, cancellable. Sends
 * `registry/changed` for the indicator datasets written.
 */
export const IndicatorsUpdate = request({
  method: 'indicators/update',
  params: z
    .object({
      ...indicatorBatch,
      /**
       * Exactly these datasets (each a symbol of the selection with one of `intervals`), each with
       * every indicator: the batch computes these pairs and no other symbol x interval.
       */
      datasets: z
        .array(z.object({ symbol: SymbolSchema, interval: IntervalSchema }))
        .max(4096)
        .optional(),
      workDoneToken,
    })
    .superRefine(exactlyOneSelection),
  result: z.object({
    items: z.array(
      z.object({
        symbol: z.string(),
        interval: IntervalSchema,
        indicator: z.string(),
        /** The indicator with its parameters, e.g. `macd-12-26-9`. */
        key: z.string(),
        rows: z.number(),
        written: z.boolean(),
        error: ItemErrorSchema.nullable(),
      }),
    ),
  }),
  progress: true,
  errors: [E.NotFound, E.StorageError],
});

/**
 * Sent by the client (a chart): indicator values aligned on candle open times, for each selected
 * symbol and interval. Values before an indicator's lookback are `null`. As with `data/read`, a
 * coarser interval is served when the range exceeds `maxPoints`, unless `exact` is set.
 */
export const IndicatorsRead = request({
  method: 'indicators/read',
  params: z.object({ ...indicatorBatch, maxPoints, exact }).superRefine(exactlyOneSelection),
  result: z.object({
    series: z.array(
      z.object({
        symbol: z.string(),
        requestedInterval: IntervalSchema,
        /** The interval actually served. */
        interval: IntervalSchema,
        openTime: z.array(z.number()),
        indicators: z.array(
          z.object({
            name: z.string(),
            key: z.string(),
            params: z.record(z.string(), z.number()),
            /** Output columns by name, e.g. `{ macd, signal, hist }`. */
            outputs: z.record(z.string(), z.array(z.number().nullable())),
          }),
        ),
      }),
    ),
  }),
  errors: [E.NotFound, E.StorageError],
});

// --- logs -------------------------------------------------------------------------------------

export const LogLevelSchema = z.enum(['debug', 'info', 'warn', 'error']);
export type LogLevel = z.infer<typeof LogLevelSchema>;

/**
 * Sent by the client: from now on, send this connection the daemon's log lines at `level` or
 * above as `log/message` notifications (`enabled: false` stops them). `tail` replays that many
 * recent lines first. Answers where the log file is.
 */
export const LogsSubscribe = request({
  method: 'logs/subscribe',
  params: z.object({
    level: LogLevelSchema.default('info'),
    enabled: z.boolean().default(true),
    tail: z.int().min(0).max(1000).default(0),
  }),
  result: z.object({ subscribed: z.boolean(), logFile: z.string().nullable() }),
});

// --- notifications ----------------------------------------------------------------------------

/** The phases of one symbol in a batch job, in order (`skipped` and `error` end it early). */
export const SYMBOL_PHASES = [
  'queued',
  'plan',
  'fetch',
  'write',
  'derive',
  'done',
  'error',
  'skipped',
] as const;

/**
 * One symbol's state in a batch job (`ingest/run`): its phase, the candles it added so far and
 * its requests done of those planned. Reports carry the symbols that changed since the last one.
 */
export const SymbolProgressSchema = z.object({
  symbol: z.string(),
  phase: z.enum(SYMBOL_PHASES),
  rows: z.int().min(0),
  requestsDone: z.int().min(0),
  requestsTotal: z.int().min(0),
  /** For a person: what the symbol is doing, or why it failed or was skipped. */
  message: z.string().optional(),
});
export type SymbolProgress = z.infer<typeof SymbolProgressSchema>;

export const WorkDoneProgressSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('begin'),
    title: z.string(),
    message: z.string().optional(),
    percentage: z.number().min(0).max(100).optional(),
    cancellable: z.boolean().optional(),
  }),
  z.object({
    kind: z.literal('report'),
    message: z.string().optional(),
    percentage: z.number().min(0).max(100).optional(),
    cancellable: z.boolean().optional(),
    /** Batch jobs: the symbols whose state changed since the previous report. */
    symbols: z.array(SymbolProgressSchema).optional(),
  }),
  z.object({ kind: z.literal('end'), message: z.string().optional() }),
]);
export type WorkDoneProgress = z.infer<typeof WorkDoneProgressSchema>;

/**
 * Sent by the daemon while a request that was given a `workDoneToken` runs: one `begin`, any
 * number of `report`, one `end` (also when the request fails or is cancelled). Same shape as
 * LSP's work-done progress.
 */
export const Progress = notification({
  method: '$/progress',
  direction: 'daemon->client',
  params: z.object({ token: ProgressTokenSchema, value: WorkDoneProgressSchema }),
});

/**
 * Sent by the client to cancel a request it sent. The request then answers `RequestCancelled`
 * (or its result, if it finished first). Unknown ids are ignored.
 */
export const CancelRequest = notification({
  method: '$/cancelRequest',
  direction: 'client->daemon',
  params: z.object({ id: z.union([z.int(), z.string().max(200)]) }),
});

/**
 * Sent by the daemon to every initialized client when datasets were written or removed, whoever
 * asked. Clients refresh what they show (`registry/list`).
 */
export const RegistryChanged = notification({
  method: 'registry/changed',
  direction: 'daemon->client',
  params: z.object({
    /** Dataset ids written. */
    changed: z.array(z.string()),
    /** Dataset ids removed. */
    removed: z.array(z.string()),
    reason: z.enum([
      'ingest',
      'delete',
      'derive',
      'indicators',
      'import',
      'verify',
      'repair',
      'watch',
    ]),
  }),
});

/** Sent by the daemon to clients that called `logs/subscribe`: one log line. */
export const LogMessage = notification({
  method: 'log/message',
  direction: 'daemon->client',
  params: z.object({
    level: LogLevelSchema,
    /** ms since the epoch. */
    time: z.number(),
    message: z.string(),
  }),
});

// ---------------------------------------------------------------------------------------------
// Coverage: why a minute is missing.
// ---------------------------------------------------------------------------------------------

/**
 * The class of a 1m minute. `real`: a candle from the exchange. `filled`: a flat candle flagged
 * `filled` (a short outage). `outage`: no candle, and the exchange confirmed it has none (it
 * answered a later minute and none in between). `unlisted`: confirmed empty before the first
 * candle or after the last (before listing, after delisting). `notFetched`: outside what the bank
 * was asked for. `failed`: inside the bank's span, neither a candle nor confirmed empty (a fetch
 * that did not complete; the next ingest or the watcher asks again).
 */
export const MinuteClassSchema = z.enum([
  'real',
  'filled',
  'outage',
  'unlisted',
  'notFetched',
  'failed',
]);

const classCounts = z.object({
  real: z.number(),
  filled: z.number(),
  outage: z.number(),
  unlisted: z.number(),
  notFetched: z.number(),
  failed: z.number(),
});
const classColumns = z.object({
  real: z.array(z.number()),
  filled: z.array(z.number()),
  outage: z.array(z.number()),
  unlisted: z.array(z.number()),
  notFetched: z.array(z.number()),
  failed: z.array(z.number()),
});

/**
 * Sent by the client (a coverage map): how many minutes of each class every symbol has in
 * `[start, end)`, per UTC hour or day, as columns (one array per class, aligned with `buckets`).
 * `bucket` defaults to `hour` for a range of 3 days or less, else `day`; without `start` or `end`
 * the range is what the bank knows of the symbols. Computed from the registry, never over
 * candles. A symbol the bank holds nothing of comes back `held: false`, all `notFetched`.
 * Answers `InvalidParams` (reason `INVALID_RANGE`) for an empty range or more than 2,000,000
 * buckets x symbols.
 */
export const CoverageGet = request({
  method: 'coverage/get',
  params: z.object({
    symbols: z.array(SymbolSchema).min(1).max(1000),
    start: TimeSchema.optional(),
    end: TimeSchema.optional(),
    bucket: z.enum(['day', 'hour']).optional(),
  }),
  result: z.object({
    bucket: z.enum(['day', 'hour']),
    /** The range counted, in ms, on whole minutes. */
    start: z.number(),
    end: z.number(),
    /** Open time of each bucket; the first and last may be partly outside the range. */
    buckets: z.array(z.number()),
    symbols: z.array(
      z.object({
        symbol: z.string(),
        /** False when the bank holds no minute of the symbol. */
        held: z.boolean(),
        /** Minutes of each class over the whole range. */
        total: classCounts,
        /** Per class, the minutes in each bucket. */
        counts: classColumns,
      }),
    ),
  }),
  errors: [E.InvalidParams, E.NotFound],
});

// ---------------------------------------------------------------------------------------------
// Watch: symbols kept current from the kline stream.
// ---------------------------------------------------------------------------------------------

/** The state of the daemon's watch. */
export const WatchStatusSchema = z.object({
  /** `idle`: nothing is watched. */
  state: z.enum(['idle', 'catching-up', 'following', 'stopping', 'stopped', 'failed']),
  /** The symbols watched (those the exchange lists). */
  symbols: z.array(z.string()),
  intervals: z.array(IntervalSchema),
  /** Stream connections, and how many are connected now. */
  connections: z.int(),
  connected: z.int(),
  /** The newest minute (open time, ms) stored for every watched symbol; null before any. */
  lastStored: z.number().nullable(),
  /** From that minute's close to now, ms. */
  lagMs: z.number().nullable(),
  /** Minutes stored since the watch started, fetched by REST, and corrected after REST. */
  stored: z.int(),
  backfilled: z.int(),
  corrected: z.int(),
  /** REST request weight the watch spent. */
  restWeight: z.int(),
  reconnects: z.int(),
  /** Why the watch failed (state `failed`). */
  error: z.string().optional(),
});
export type WatchStatusResult = z.infer<typeof WatchStatusSchema>;

/**
 * Sent by the client: adds symbols to the daemon's watch (exactly one of `symbols`, `top`,
 * `group`) and (re)starts it: missed minutes are caught up first (from `start`, else each
 * symbol's last stored minute), then each closed kline of the stream is stored within seconds.
 * `registry/changed` (reason `watch`) follows each fold of the received minutes into the bank.
 */
export const WatchAdd = request({
  method: 'watch/add',
  params: z
    .object({
      ...selection,
      intervals: z.array(IntervalSchema).optional(),
      start: TimeSchema.optional(),
    })
    .superRefine(exactlyOneSelection),
  result: WatchStatusSchema,
});

/** Sent by the client: stops watching `symbols` (all when absent); what was received is kept. */
export const WatchRemove = request({
  method: 'watch/remove',
  params: z.object({ symbols: SymbolList.optional() }),
  result: WatchStatusSchema,
});

/** Sent by the client: the symbols watched. */
export const WatchList = request({
  method: 'watch/list',
  params: NoParams,
  result: z.object({ symbols: z.array(z.string()) }),
});

/** Sent by the client: the watch's state (symbols, last stored minute, lag, counters). */
export const WatchStatus = request({
  method: 'watch/status',
  params: NoParams,
  result: WatchStatusSchema,
});

// ---------------------------------------------------------------------------------------------
// Tables and derived types.
// ---------------------------------------------------------------------------------------------

/** Every request, by method name. */
export const REQUESTS = {
  [Initialize.method]: Initialize,
  [Shutdown.method]: Shutdown,
  [ConfigGet.method]: ConfigGet,
  [SymbolsSearch.method]: SymbolsSearch,
  [SymbolsTop.method]: SymbolsTop,
  [SymbolsGroups.method]: SymbolsGroups,
  [IngestPlan.method]: IngestPlan,
  [IngestRun.method]: IngestRun,
  [RegistryList.method]: RegistryList,
  [RegistryVerify.method]: RegistryVerify,
  [RegistryRepair.method]: RegistryRepair,
  [RegistryDelete.method]: RegistryDelete,
  [DataRead.method]: DataRead,
  [DataExport.method]: DataExport,
  [IndicatorsUpdate.method]: IndicatorsUpdate,
  [IndicatorsRead.method]: IndicatorsRead,
  [LogsSubscribe.method]: LogsSubscribe,
  [WatchAdd.method]: WatchAdd,
  [WatchRemove.method]: WatchRemove,
  [WatchList.method]: WatchList,
  [WatchStatus.method]: WatchStatus,
  [CoverageGet.method]: CoverageGet,
} as const;

/** Every notification, by method name. */
export const NOTIFICATIONS = {
  [Exit.method]: Exit,
  [Progress.method]: Progress,
  [CancelRequest.method]: CancelRequest,
  [RegistryChanged.method]: RegistryChanged,
  [LogMessage.method]: LogMessage,
} as const;

/** Every message of the protocol, by method name. */
export const METHODS = { ...REQUESTS, ...NOTIFICATIONS } as const;

export type Requests = typeof REQUESTS;
export type Notifications = typeof NOTIFICATIONS;
export type RequestMethod = keyof Requests;
export type NotificationMethod = keyof Notifications;
export type ClientNotificationMethod = {
  [K in NotificationMethod]: Notifications[K]['direction'] extends 'client->daemon' ? K : never;
}[NotificationMethod];
export type DaemonNotificationMethod = Exclude<NotificationMethod, ClientNotificationMethod>;

/** Params as a client writes them (defaults may be left out). */
export type Params<M extends RequestMethod> = z.input<Requests[M]['params']>;
/** Params as the daemon sees them after validation (defaults filled in, times in ms). */
export type ParsedParams<M extends RequestMethod> = z.output<Requests[M]['params']>;
/** What the daemon answers. */
export type Result<M extends RequestMethod> = z.output<Requests[M]['result']>;
/** A notification's params. */
export type NotificationParams<M extends NotificationMethod> = z.output<Notifications[M]['params']>;

export function isRequestMethod(method: string): method is RequestMethod {
  return Object.prototype.hasOwnProperty.call(REQUESTS, method);
}

export function isNotificationMethod(method: string): method is NotificationMethod {
  return Object.prototype.hasOwnProperty.call(NOTIFICATIONS, method);
}

/**
 * Converts a zod error's issues to the protocol's path-by-path form. A union that failed in every
 * branch is reported by the branch whose type matched (a string time that is not a valid date
 * says why), not as a bare "invalid input".
 */
export function toParamIssues(error: z.ZodError): ParamIssue[] {
  return flatten(error.issues, []);
}

function flatten(issues: readonly z.core.$ZodIssue[], prefix: PropertyKey[]): ParamIssue[] {
  const out: ParamIssue[] = [];
  for (const i of issues) {
    const at = [...prefix, ...i.path];
    if (i.code === 'invalid_union' && i.errors.length > 0) {
      const typed = i.errors.filter(
        (branch) => !branch.some((x) => x.code === 'invalid_type' && x.path.length === 0),
      );
      if (typed.length === 1) {
        out.push(...flatten(typed[0], at));
        continue;
      }
    }
    out.push({
      path: at.map((p) => (typeof p === 'symbol' ? String(p) : p)),
      message: i.message,
      code: i.code,
    });
  }
  return out;
}
