import { z } from 'zod';
import { IntervalSchema } from './intervals.ts';
import { KLINE_KINDS, MARKETS } from './markets.ts';

/**
 * Version of the on-disk layout and registry format. Bumped on any incompatible change.
 *
 * - 1: spot only.
 * - 2: datasets carry their market and kline kind (`market`, `klineKind`; absent means spot trade
 *   klines). A version 1 registry is read as version 2 unchanged (its datasets are spot trade
 *   klines at the paths they always had) and written as version 2 by the next writer: every file,
 *   path and checksum stays.
 */
export const LAYOUT_VERSION = 2;
/** Registry versions this release reads (older ones are migrated on open). */
export const READABLE_VERSIONS = [1, 2] as const;
/** Version of the Parquet column schema written into each file's metadata. */
export const PARQUET_SCHEMA_VERSION = 1;
export const PRODUCER = 'threadx-data';

/** A half-open time range [start, end) in ms, UTC. */
export const RangeSchema = z.tuple([z.number(), z.number()]);
export type Range = [number, number];

export const GapSchema = z.object({
  /** Open time of the first missing candle. */
  start: z.number(),
  /** Open time of the first candle after the gap. */
  end: z.number(),
  /** Number of missing 1m candles. */
  missing: z.number(),
  /** True when the gap was filled with flat candles (short gaps only). */
  filled: z.boolean(),
});
export type Gap = z.infer<typeof GapSchema>;

/**
 * The last verify of one file: when, and what it found. A file the bank rewrites gets a new entry
 * without one, so it reads "not verified" until the next verify.
 */
export const FileVerifySchema = z.object({
  at: z.number(),
  status: z.enum(['ok', 'changed', 'corrupt', 'missing']),
  /** A plain sentence for a finding (never a raw library message). */
  reason: z.string().optional(),
  /** For a finding: when the file was last known sound (its last good verify or its write). */
  since: z.number().optional(),
});
export type FileVerify = z.infer<typeof FileVerifySchema>;

export const FileEntrySchema = z.object({
  /** Path relative to the data directory, always with forward slashes. */
  path: z.string(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  bytes: z.number(),
  rows: z.number(),
  first: z.number().nullable(),
  last: z.number().nullable(),
  /** Missing candles inside this file (between its first and last row). */
  gaps: z.array(GapSchema).default([]),
  /** Rows synthesised to fill short gaps. */
  filledCount: z.number().default(0),
  /** When the bank wrote this content (ms, UTC). */
  writtenAt: z.number().optional(),
  /**
   * The file's modification time (ms) as the bank last saw it: right after writing it, or at a
   * verify that found it sound. A listing compares it and `bytes` with the file on disk, so a
   * file changed since is "changed" at once (entries written before this field: size only).
   */
  mtime: z.number().optional(),
  /** The last verify of this file, when it was verified since it was written. */
  verify: FileVerifySchema.optional(),
});
export type FileEntry = z.infer<typeof FileEntrySchema>;

export const DatasetEntrySchema = z.object({
  /**
   * `KEY/interval`, the dataset's identity; KEY is the series' bank key (`seriesKey`): the symbol
   * for spot trade klines, `SYMBOL@um`, `SYMBOL@um.mark`, ... otherwise.
   */
  id: z.string(),
  /** The series' bank key (the bare symbol for spot trade klines). */
  symbol: z.string(),
  /** The market (absent: spot). */
  market: z.enum(MARKETS).optional(),
  /** The kline kind (absent: trade klines). */
  klineKind: z.enum(KLINE_KINDS).optional(),
  interval: IntervalSchema,
  kind: z.enum(['candles', 'indicator']).default('candles'),
  files: z.array(FileEntrySchema),
  rows: z.number(),
  first: z.number().nullable(),
  last: z.number().nullable(),
  gaps: z.array(GapSchema),
  filledCount: z.number(),
  /** Where the 1m data came from: archive file names, 'rest', or 'derived' for resampled data. */
  source: z.array(z.string()),
  updated: z.number(),
  /** For derived datasets and indicators: the checksums of the 1m files they were built from. */
  sourceChecksum: z.string().optional(),
  /**
   * Derived datasets: open times of the buckets with 1m rows that are not stored yet because some
   * of their minutes are unknown (the running hour, day, week or month; a first week or month
   * that began before the history). They become candles once their minutes are in.
   */
  pending: z.array(z.number()).optional(),
  /** For indicators: name and parameters. */
  indicator: z.object({ name: z.string(), params: z.record(z.string(), z.number()) }).optional(),
});
export type DatasetEntry = z.infer<typeof DatasetEntrySchema>;

export const RegistrySchema = z.object({
  version: z.union([z.literal(1), z.literal(LAYOUT_VERSION)]),
  datasets: z.record(z.string(), DatasetEntrySchema),
  /**
   * 1m ranges confirmed empty at the exchange (outages, delistings), per symbol, so they are
   * never fetched again.
   */
  confirmedEmpty: z.record(z.string(), z.array(RangeSchema)).default({}),
});
export type Registry = z.infer<typeof RegistrySchema>;

export function emptyRegistry(): Registry {
  return { version: LAYOUT_VERSION, datasets: {}, confirmedEmpty: {} };
}

export type VerifyStatus = 'ok' | 'changed' | 'corrupt' | 'missing' | 'unregistered';
export const VerifyIssueSchema = z.object({
  path: z.string(),
  status: z.enum(['ok', 'changed', 'corrupt', 'missing', 'unregistered']),
  detail: z.string().optional(),
  dataset: z.string().optional(),
});
export type VerifyIssue = z.infer<typeof VerifyIssueSchema>;

/**
 * A file's or dataset's integrity as a person should read it: verified at a time, not verified
 * (never, or rewritten since), changed since a time, or corrupt/missing with a plain reason.
 */
export const IntegritySchema = z.object({
  state: z.enum(['verified', 'not-verified', 'changed', 'corrupt', 'missing']),
  /** For `verified`: the oldest verify among the files. For findings: when it was found. */
  at: z.number().optional(),
  /** For `changed`: when the file was last known sound. */
  since: z.number().optional(),
  reason: z.string().optional(),
  /** The file a finding is about. */
  file: z.string().optional(),
});
export type Integrity = z.infer<typeof IntegritySchema>;

/**
 * What a listing saw of a file on disk (one `stat`): its size and modification time, or null when
 * it is gone. Absent when the listing did not look (the registry's record alone is shown).
 */
export type FileSeen = { bytes: number; mtime: number } | null;

/** The file's recorded integrity, made worse by what a listing saw on disk now. */
export function fileIntegrity(f: FileEntry, seen?: FileSeen): Integrity {
  const recorded = recordedIntegrity(f);
  if (seen === undefined || recorded.state === 'corrupt' || recorded.state === 'missing')
    return recorded;
  const v = f.verify;
  // When the file was last known sound: its last good verify, else its write.
  const sound = v?.status === 'ok' && recorded.state === 'verified' ? v.at : f.writtenAt;
  const since = sound !== undefined ? { since: sound } : {};
  if (seen === null)
    return { state: 'missing', ...since, reason: 'the file is missing', file: f.path };
  if (recorded.state === 'changed') return recorded;
  if (seen.bytes !== f.bytes)
    return {
      state: 'changed',
      ...since,
      reason: `it has ${seen.bytes} bytes where the registry recorded ${f.bytes}`,
      file: f.path,
    };
  if (f.mtime !== undefined && seen.mtime !== f.mtime)
    return {
      state: 'changed',
      ...since,
      reason: 'it was modified after the bank last wrote or verified it',
      file: f.path,
    };
  return recorded;
}

/** The file's integrity as its registry entry records it (its last verify, its last write). */
function recordedIntegrity(f: FileEntry): Integrity {
  const v = f.verify;
  if (!v || (f.writtenAt !== undefined && f.writtenAt > v.at)) return { state: 'not-verified' };
  if (v.status === 'ok') return { state: 'verified', at: v.at };
  return {
    state: v.status,
    at: v.at,
    ...(v.since !== undefined ? { since: v.since } : {}),
    ...(v.reason ? { reason: v.reason } : {}),
    file: f.path,
  };
}

const WORST: Integrity['state'][] = ['corrupt', 'missing', 'changed', 'not-verified', 'verified'];

/**
 * A dataset's integrity: its worst file's (a dataset is only as sound as its worst file). With
 * `seen` (a listing's stat of each file, by path), a file changed or gone since its last verify
 * reads "changed"/"missing" at once: "verified" means verified, and unchanged since.
 */
export function datasetIntegrity(
  files: readonly FileEntry[],
  seen?: ReadonlyMap<string, FileSeen>,
): Integrity {
  if (files.length === 0) return { state: 'not-verified' };
  // One pass with a loop: a dataset may have many files, and `Math.min(...all)` over them
  // would pass them all as arguments.
  let worst: Integrity | undefined;
  let rank = WORST.length;
  let oldest = Infinity;
  for (const f of files) {
    const i = fileIntegrity(f, seen?.get(f.path));
    const r = WORST.indexOf(i.state);
    if (r < rank) {
      rank = r;
      worst = i;
    }
    if (i.state === 'verified' && (i.at ?? 0) < oldest) oldest = i.at ?? 0;
  }
  if (worst && worst.state !== 'verified') return worst;
  return { state: 'verified', at: oldest };
}

export { integrityText } from './integrity.ts';
