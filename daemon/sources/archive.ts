import { parseKlineCsv as parseCsv, KlineParseError } from '../engine/parse.ts';
import { sortUnique } from '../engine/merge.ts';
import {
  type ArchiveFail,
  FIRST_KLINE_MS,
  MAX_UNNAMED_BYTES,
  checkRowCaps,
  checkTimeBounds as checkTimeBoundsOf,
  expectedRows,
  gunzipCapped as gunzipCappedOf,
  maxUncompressedBytes,
  unzipOneCsvBytes,
} from '../engine/archive-file.ts';
import { createHash } from 'node:crypto';
import { strFromU8 } from 'fflate';
import { type Candles, clipCandles, trimCandles } from '../../schemas/candles.ts';
import { DAY_MS } from '../../schemas/intervals.ts';
import { dayKey, monthKey } from '../../schemas/common.ts';
import {
  ARCHIVE_KIND_DIRS,
  type KlineKind,
  type Market,
  archiveMarketDir,
} from '../../schemas/markets.ts';
import { ChecksumMismatchError, messages, SourceError } from './errors.ts';
import { get, type RetryOptions, withRetries } from './http.ts';

/**
 * data.binance.vision: Binance's bulk kline archives. One zip per symbol and month (or day),
 * each holding one CSV, with a `.CHECKSUM` (sha256sum format) beside it. No rate limit applies.
 * A file is used only after its SHA-256 matches the published checksum.
 */

export const ARCHIVE_BASE = 'https://data.binance.vision';

export type ArchivePeriodKind = 'monthly' | 'daily';

export interface ArchivePiece {
  kind: ArchivePeriodKind;
  /** `YYYY-MM` or `YYYY-MM-DD`. */
  key: string;
  /** The part of the file's period inside the planned window: [start, end) ms. */
  start: number;
  end: number;
}

export interface ArchivePlan {
  months: ArchivePiece[];
  days: ArchivePiece[];
  /** What only REST can give: [start, end) after the last complete day, or null. */
  rest: { start: number; end: number } | null;
}

export { monthKey, dayKey };

/**
 * `…/data/spot/{monthly|daily}/klines/{SYM}/{iv}/{SYM}-{iv}-{key}.zip`; futures under
 * `data/futures/{um|cm}/{monthly|daily}/{klines|markPriceKlines|indexPriceKlines|
 * premiumIndexKlines}/...` with the same file names.
 */
export function archiveUrl(
  symbol: string,
  kind: ArchivePeriodKind,
  key: string,
  opts: { baseUrl?: string; interval?: string; market?: Market; klineKind?: KlineKind } = {},
): string {
  const iv = opts.interval ?? '1m';
  const base = (opts.baseUrl ?? ARCHIVE_BASE).replace(/\/$/, '');
  const market = archiveMarketDir(opts.market ?? 'spot');
  const dir = ARCHIVE_KIND_DIRS[opts.klineKind ?? 'klines'];
  return `${base}/data/${market}/${kind}/${dir}/${symbol}/${iv}/${symbol}-${iv}-${key}.zip`;
}

/**
 * Splits [start, end) into whole calendar months that are complete at `now` (monthly files),
 * complete days outside those months (daily files; a partly covered day is fetched whole and
 * clipped), and the REST tail after the last complete day.
 */
export function planArchive(start: number, end: number, now: number): ArchivePlan {
  const months: ArchivePiece[] = [];
  const days: ArchivePiece[] = [];
  if (end <= start) return { months, days, rest: null };
  const completeDays = Math.floor(now / DAY_MS) * DAY_MS;
  let t = Math.floor(start / DAY_MS) * DAY_MS;
  while (t < end && t < completeDays) {
    const d = new Date(t);
    const mStart = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
    const mEnd = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
    if (t === mStart && start <= mStart && mEnd <= end && mEnd <= now) {
      months.push({ kind: 'monthly', key: monthKey(mStart), start: mStart, end: mEnd });
      t = mEnd;
      continue;
    }
    days.push({
      kind: 'daily',
      key: dayKey(t),
      start: Math.max(start, t),
      end: Math.min(end, t + DAY_MS),
    });
    t += DAY_MS;
  }
  const restStart = Math.max(start, t);
  return { months, days, rest: restStart < end ? { start: restStart, end } : null };
}

/**
 * The archive-file rules of `engine/archive-file.ts` (caps from the name, streamed decompression,
 * time bounds), failing as the source's INVALID_RESPONSE: a malformed file may be retried (a
 * download cut short), a file over its caps may not.
 */
const asSource: ArchiveFail = (message, retryable, cause) =>
  new SourceError('INVALID_RESPONSE', message, retryable, cause ? { cause } : undefined);

export { FIRST_KLINE_MS, MAX_UNNAMED_BYTES, expectedRows, maxUncompressedBytes };

/**
 * Parses a Binance kline CSV with the engine's parser (12 columns, a header row skipped, ms or µs
 * per row), then sorts rows by open time and merges duplicates, which a republished or
 * concatenated file may hold. A malformed line is a retryable INVALID_RESPONSE. Refused (not
 * retryable): more rows than the file's period can hold, mostly duplicated rows, and open times
 * before Binance's first kline or more than a day after now.
 */
export function parseKlineCsv(
  text: string | Uint8Array,
  source = 'CSV',
  now = Date.now(),
): Candles {
  let raw: Candles;
  try {
    raw = parseCsv(text, source, { requireAllFields: true });
  } catch (err) {
    if (err instanceof KlineParseError)
      throw new SourceError('INVALID_RESPONSE', err.message, true, { cause: err });
    throw err;
  }
  const c = sortUnique(raw);
  checkRowCaps(raw.length, c.length, source, asSource);
  checkTimeBounds(c, source, now, asSource);
  return c;
}

/** Refuses open times before Binance's first kline or more than a day after `now`. */
export function checkTimeBounds(
  c: Candles,
  source: string,
  now = Date.now(),
  fail: ArchiveFail = asSource,
): void {
  checkTimeBoundsOf(c, source, now, fail);
}

/**
 * Unzips an archive (one CSV inside) and parses it. The CSV is inflated as a stream and given up
 * as soon as it grows past what its rows can take (`maxUncompressedBytes`), so an archive that
 * expands to gigabytes is refused after a few megabytes.
 */
export function parseArchiveZip(
  bytes: Uint8Array,
  source = 'archive',
  maxBytes = maxUncompressedBytes(source),
): Candles {
  const { name, data } = unzipOneCsvBytes(bytes, source, maxBytes, asSource);
  return parseKlineCsv(data, `${source}/${name}`);
}

/** Gunzips as a stream, giving up past `maxBytes` (a gzip bomb is refused after a few MB). */
export function gunzipCapped(bytes: Uint8Array, source: string, maxBytes: number): Uint8Array {
  return gunzipCappedOf(bytes, source, maxBytes, asSource);
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Checks `bytes` against a `.CHECKSUM` body (`<sha256>  <file>`); throws on mismatch. */
export function verifyChecksum(bytes: Uint8Array, checksumBody: string, file: string): string {
  const m = /\b([0-9a-f]{64})\b/i.exec(checksumBody);
  if (!m) throw new SourceError('INVALID_RESPONSE', messages.badChecksumFile(file), true);
  const expected = m[1].toLowerCase();
  const actual = sha256Hex(bytes);
  if (actual !== expected) throw new ChecksumMismatchError(file, expected, actual);
  return actual;
}

export interface ArchiveClientOptions extends RetryOptions {
  baseUrl?: string;
  /** Default spot trade klines. */
  market?: Market;
  klineKind?: KlineKind;
  /** Per-request timeout in seconds (default 60: monthly files are tens of MB). */
  timeoutSeconds?: number;
  fetch?: typeof fetch;
}

export interface ArchiveFile {
  url: string;
  sha256: string;
  /** Klines of the piece, clipped to its [start, end). */
  candles: Candles;
}

/**
 * Downloads one archive and its checksum, verifies, parses and clips it to the piece.
 * NOT_FOUND (not published yet, or no data for the period) is not retried: the caller falls
 * back to daily files or REST. A checksum mismatch is retried (a republish can race the two
 * downloads) and, if it persists, fails with CHECKSUM_MISMATCH: the bytes are never used.
 */
export async function downloadArchive(
  symbol: string,
  piece: ArchivePiece,
  opts: ArchiveClientOptions & { signal?: AbortSignal } = {},
): Promise<ArchiveFile> {
  const url = archiveUrl(symbol, piece.kind, piece.key, {
    baseUrl: opts.baseUrl,
    ...(opts.market ? { market: opts.market } : {}),
    ...(opts.klineKind ? { klineKind: opts.klineKind } : {}),
  });
  const file = url.slice(url.lastIndexOf('/') + 1);
  const timeoutSeconds = opts.timeoutSeconds ?? 60;
  const fetchOk = async (u: string) => {
    const res = await get(u, { signal: opts.signal, timeoutSeconds, fetch: opts.fetch });
    if (res.status === 404) throw new SourceError('NOT_FOUND', messages.archiveNotFound(u), false);
    if (res.status >= 500)
      throw new SourceError('SERVER_ERROR', messages.serverError(u, res.status, ''), true);
    if (res.status !== 200)
      throw new SourceError('BAD_REQUEST', messages.serverError(u, res.status, ''), false);
    return res.body;
  };
  return withRetries(`download ${file}`, opts.signal, opts, async () => {
    const [zip, sum] = await Promise.all([fetchOk(url), fetchOk(`${url}.CHECKSUM`)]);
    const sha256 = verifyChecksum(zip, strFromU8(sum), file);
    const all = parseArchiveZip(zip, file);
    return { url, sha256, candles: clip(all, piece.start, piece.end) };
  });
}

/** The rows in [start, end), copied so the whole file's arrays can be released. */
function clip(c: Candles, start: number, end: number): Candles {
  const v = clipCandles(c, start, end);
  return v === c ? c : trimCandles(v);
}
