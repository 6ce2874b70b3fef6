/**
 * The MCP tools ThreadX offers an agent: their names, descriptions, annotations and input
 * schemas. Inputs reuse the protocol's field schemas (symbols, intervals, UTC times, indicator
 * requests), so an agent's bad input is refused with the same messages as a JSON-RPC client's.
 */
import { z } from 'zod';
import { SymbolSchema } from '../../schemas/common.ts';
import { IntervalSchema } from '../../schemas/intervals.ts';
import { GroupNameSchema, IndicatorRequestSchema, TimeSchema } from '../../schemas/protocol.ts';

/** Rows one answer carries unless `limit` says otherwise, and the most it may ask for. */
export const ROW_CAP = { default: 2_000, max: 50_000 } as const;

const limit = z
  .int()
  .min(1)
  .max(ROW_CAP.max)
  .default(ROW_CAP.default)
  .describe(
    `Most rows to return (default ${ROW_CAP.default}, at most ${ROW_CAP.max}). A range with more candles is refused with a hint, never cut.`,
  );

const time = (what: string) =>
  TimeSchema.optional().describe(
    `${what}: UTC ISO-8601 ("2024-01-31" or "2024-01-31T12:00Z") or ms since the epoch.`,
  );

const ingestInput = z
  .object({
    symbols: z
      .array(SymbolSchema)
      .min(1)
      .max(200)
      .optional()
      .describe('Symbols, e.g. ["BTCUSDC"].'),
    group: GroupNameSchema.optional().describe(
      "A symbol group (L1, DeFi, L2, Stable or the user's own).",
    ),
    top: z.int().min(1).max(500).optional().describe('The top N USDC pairs by 24h volume.'),
    start: TimeSchema.describe('First minute to have, UTC ISO-8601 or ms.'),
    end: time('End, exclusive (default: now)'),
    intervals: z
      .array(IntervalSchema)
      .max(16)
      .optional()
      .describe(
        'Timeframes to derive from 1m after the download (default from the configuration).',
      ),
  })
  .strict();

export const TOOLS = {
  list_datasets: {
    title: 'List datasets',
    description:
      'The datasets in the ThreadX bank (Binance OHLCV candles and cached indicators): id, symbol, interval, rows, first and last candle (ms UTC), gaps, filled candles, integrity.',
    input: z
      .object({
        symbol: SymbolSchema.optional().describe('Only this symbol.'),
        interval: IntervalSchema.optional().describe('Only this interval.'),
        kind: z.enum(['candles', 'indicator']).optional(),
      })
      .strict(),
    annotations: { readOnlyHint: true, openWorldHint: false },
  },
  get_candles: {
    title: 'Get candles',
    description:
      'Candles of one symbol and interval in [start, end) as CSV (timestamp ISO-8601 UTC, open, high, low, close, volume, quote_volume, trades, taker_buy_base, taker_buy_quote, filled), exactly what "threadx export" writes. Every interval other than 1m is derived from 1m and equals Binance\'s own candle.',
    input: z
      .object({
        symbol: SymbolSchema,
        interval: IntervalSchema,
        start: time('First candle'),
        end: time('End, exclusive'),
        limit,
      })
      .strict(),
    annotations: { readOnlyHint: true, openWorldHint: false },
  },
  get_indicators: {
    title: 'Get indicators',
    description:
      "Indicator values (rsi, macd, bbands, sma, ema, atr; identical to TA-Lib) of one symbol and interval in [start, end) as CSV: timestamp then one column per output, named key.output (e.g. macd-12-26-9.signal). Empty before an indicator's lookback.",
    input: z
      .object({
        symbol: SymbolSchema,
        interval: IntervalSchema,
        indicators: z
          .array(IndicatorRequestSchema)
          .min(1)
          .max(16)
          .describe('e.g. [{"name":"rsi","params":{"period":14}},{"name":"macd"}]'),
        start: time('First candle'),
        end: time('End, exclusive'),
        limit,
      })
      .strict(),
    annotations: { readOnlyHint: true, openWorldHint: false },
  },
  coverage: {
    title: 'Coverage',
    description:
      'What the bank holds for a symbol and what it does not, and why: per interval its rows and span, the gaps still missing (never confirmed empty by the exchange), the short outages filled with flagged candles, the outages the exchange confirmed, and derived buckets pending.',
    input: z.object({ symbol: SymbolSchema, interval: IntervalSchema.optional() }).strict(),
    annotations: { readOnlyHint: true, openWorldHint: false },
  },
  plan_ingest: {
    title: 'Plan an ingest (dry run)',
    description:
      "What an ingest would download, per symbol (missing 1m ranges, requests, archive files, weight, estimated time), computed from the bank and the exchange's symbol list. Downloads no candles and writes nothing. Give exactly one of symbols, group or top.",
    input: ingestInput,
    annotations: { readOnlyHint: true, openWorldHint: true },
  },
  ingest: {
    title: 'Ingest (writes the bank)',
    description:
      'Downloads the missing 1m candles from Binance into the bank and derives the intervals. Writes: it runs in the ThreadX daemon that holds the bank, and only when this server was started with --allow-writes. Give exactly one of symbols, group or top.',
    input: ingestInput,
    annotations: {
      readOnlyHint: false,
      destructiveHint: false,
      idempotentHint: true,
      openWorldHint: true,
    },
  },
} as const;

export type ToolName = keyof typeof TOOLS;
export type ToolInput<N extends ToolName> = z.output<(typeof TOOLS)[N]['input']>;

export function isToolName(name: string): name is ToolName {
  return Object.hasOwn(TOOLS, name);
}

/** A tool's input as JSON Schema (what `tools/list` sends). */
export function inputJsonSchema(name: ToolName): { type: 'object'; [k: string]: unknown } {
  const s = z.toJSONSchema(TOOLS[name].input, {
    io: 'input',
    unrepresentable: 'any',
    target: 'draft-2020-12',
  }) as { type: 'object'; [k: string]: unknown };
  delete s.$schema;
  return s;
}
