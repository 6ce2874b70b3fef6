import { z } from 'zod';
import { IntervalSchema } from './intervals.ts';
import { SymbolSchema } from './common.ts';

/**
 * Configuration with the keys users of the original ThreadX know from `paths.toml`.
 * Read from `threadx.toml` (or `paths.toml`) in the working directory or the data directory;
 * every key has a default, so an empty file, or none, is a valid configuration.
 */
export const ConfigSchema = z
  .object({
    data: z
      .object({
        /** Root of the bank. Relative paths are resolved against the config file's folder. */
        root: z.string().default('./data'),
        processed: z.string().default('processed'),
        raw: z.string().default('raw'),
        indicators: z.string().default('indicators_cache'),
        logs: z.string().default('logs'),
        api: z
          .object({
            base_url: z.url().default('https://api.binance.com'),
            archive_url: z.url().default('https://data.binance.vision'),
            klines_endpoint: z.string().default('/api/v3/klines'),
            /** Fraction of the exchange's weight limit kept free (0.1 = 10 %). */
            weight_safety_margin: z.number().min(0).max(0.9).default(0.1),
            /** Used only until exchangeInfo has told the real limit. */
            rate_limit_weight_per_minute: z.int().positive().default(6000),
            max_retries: z.int().min(0).max(20).default(5),
            retry_delay: z.number().min(0).max(60).default(0.5),
            timeout_seconds: z.number().positive().max(600).default(30),
            concurrency: z.int().min(1).max(32).default(4),
            market_cap_url: z.url().optional(),
          })
          .prefault({}),
        processing: z
          .object({
            default_batch_size: z.int().min(1).max(1000).default(1000),
            max_gap_fill_hours: z.number().min(0).max(168).default(4),
            resample_validation: z.boolean().default(true),
            default_intervals: z.array(IntervalSchema).default(['1h', '4h', '1d']),
          })
          .prefault({}),
      })
      .prefault({}),
    groups: z.record(z.string().regex(/^[A-Za-z0-9_-]{1,32}$/), z.array(SymbolSchema)).default({}),
    indicators: z
      .object({
        /** Indicators refreshed after an ingest, e.g. ["rsi", "macd"]. */
        after_ingest: z.array(z.string()).default([]),
      })
      .prefault({}),
    logging: z
      .object({
        level: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
        max_file_bytes: z.int().positive().default(5_000_000),
        max_files: z.int().min(1).max(20).default(3),
      })
      .prefault({}),
  })
  .strict();

export type Config = z.infer<typeof ConfigSchema>;

export function defaultConfig(): Config {
  return ConfigSchema.parse({});
}
