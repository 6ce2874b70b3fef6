import { z } from 'zod';
import { IntervalSchema } from './intervals.ts';
import { SymbolSchema } from './common.ts';

/**
 * A key the original ThreadX's `paths.toml` has but this product does not vary (the bank's
 * layout, the REST page size): accepted with its one value, so such a file still loads, and
 * refused with any other value rather than silently ignored.
 */
function fixed<const T extends string | number>(value: T, key: string, why: string) {
  return z
    .literal(value, {
      error: `${key} can only be ${JSON.stringify(value)} (${why}); remove the key`,
    })
    .default(value);
}

/**
 * Configuration with the keys users of the original ThreadX know from `paths.toml`.
 * Read from `threadx.toml` (or `paths.toml`) in the working directory; every key has a default,
 * so an empty file, or none, is a valid configuration. Every table is strict: an unknown key (a
 * typo such as `base_ulr`) is an error naming it, never a silent fallback to the default.
 */
export const ConfigSchema = z
  .object({
    data: z
      .object({
        /** Root of the bank. Relative paths are resolved against the config file's folder. */
        root: z.string().default('./data'),
        processed: fixed('processed', 'data.processed', 'the bank has a fixed layout'),
        raw: fixed('raw', 'data.raw', 'the bank has a fixed layout'),
        indicators: fixed('indicators_cache', 'data.indicators', 'the bank has a fixed layout'),
        /** The daemon's log folder, inside the bank. */
        logs: z.string().default('logs'),
        api: z
          .object({
            /** The spot REST host. */
            base_url: z.url().default('https://api.binance.com'),
            /** The USD-M futures REST host (`/fapi`). */
            um_base_url: z.url().default('https://fapi.binance.com'),
            /** The COIN-M futures REST host (`/dapi`). */
            cm_base_url: z.url().default('https://dapi.binance.com'),
            archive_url: z.url().default('https://data.binance.vision'),
            /** Base of the kline WebSocket streams (`threadx watch`). */
            ws_url: z
              .string()
              .regex(/^wss?:\/\/[^\s]+$/, 'data.api.ws_url must be a ws:// or wss:// URL')
              .default('wss://stream.binance.com:9443'),
            klines_endpoint: fixed(
              '/api/v3/klines',
              'data.api.klines_endpoint',
              "Binance's klines path",
            ),
            /** Fraction of the exchange's weight limit kept free (0.1 = 10 %). */
            weight_safety_margin: z.number().min(0).max(0.9).default(0.1),
            /** Used only until exchangeInfo has told the real limit. */
            rate_limit_weight_per_minute: z.int().positive().default(6000),
            max_retries: z.int().min(0).max(20).default(5),
            retry_delay: z.number().min(0).max(60).default(0.5),
            timeout_seconds: z.number().positive().max(600).default(30),
            concurrency: z.int().min(1).max(32).default(4),
            /**
             * Minutes after its close when a kline is final although the exchange has shown no
             * later one: a generous bound on how far klines may lag the exchange's clock.
             */
            final_after_minutes: z.number().min(1).max(1440).default(60),
            market_cap_url: z.url().optional(),
          })
          .strict()
          .prefault({}),
        processing: z
          .object({
            default_batch_size: fixed(
              1000,
              'data.processing.default_batch_size',
              'klines per request',
            ),
            max_gap_fill_hours: z.number().min(0).max(168).default(4),
            resample_validation: z.boolean().default(true),
            default_intervals: z.array(IntervalSchema).default(['1h', '4h', '1d']),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    groups: z.record(z.string().regex(/^[A-Za-z0-9_-]{1,32}$/), z.array(SymbolSchema)).default({}),
    indicators: z
      .object({
        /** Indicators refreshed after an ingest, e.g. ["rsi", "macd"]. */
        after_ingest: z.array(z.string()).default([]),
      })
      .strict()
      .prefault({}),
    /** What `threadx watch` (and the daemon's watch) keeps current when given no selection. */
    watch: z
      .object({
        symbols: z.array(SymbolSchema).default([]),
        groups: z.array(z.string()).default([]),
        top: z.int().min(0).max(1000).default(0),
        /** Timeframes derived as their buckets complete (default: data.processing's). */
        intervals: z.array(IntervalSchema).optional(),
        /** Seconds after a minute's close before its missing final is fetched by REST. */
        grace_seconds: z.number().min(1).max(600).default(3),
        /** Seconds between two folds of the tail into the monthly partitions. */
        fold_seconds: z.number().min(5).max(86_400).default(300),
        /** Seconds between two checks of the streamed minutes against REST. */
        reconcile_seconds: z.number().min(10).max(86_400).default(600),
      })
      .strict()
      .prefault({}),
    logging: z
      .object({
        level: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
        max_file_bytes: z.int().positive().default(5_000_000),
        max_files: z.int().min(1).max(20).default(3),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type Config = z.infer<typeof ConfigSchema>;

export function defaultConfig(): Config {
  return ConfigSchema.parse({});
}
