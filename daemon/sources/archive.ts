import { parseKlineCsv as parseCsv, KlineParseError } from '../engine/parse.ts';
import { sortUnique } from '../engine/merge.ts';
import { createHash } from 'node:crypto';
import { Gunzip, strFromU8, Unzip, UnzipInflate } from 'fflate';
import { type Candles, clipCandles, trimCandles } from '../../schemas/candles.ts';
import { DAY_MS, intervalMs, isInterval } from '../../schemas/intervals.ts';
import { dayKey, monthKey } from '../../schemas/common.ts';
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

/** `…/data/spot/{monthly|daily}/klines/{SYM}/{iv}/{SYM}-{iv}-{key}.zip` */
export function archiveUrl(
  symbol: string,
  kind: ArchivePeriodKind,
  key: string,
  opts: { baseUrl?: string; interval?: string } = {},
): string {
  const iv = opts.interval ?? '1m';
  const base = (opts.baseUrl ?? ARCHIVE_BASE).replace(/\/$/, '');
  return `${base}/data/spot/${kind}/klines/${symbol}/${iv}/${symbol}-${iv}-${key}.zip`;
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

/** Binance's first klines are from July 2017: an earlier open time is not Binance data. */
export const FIRST_KLINE_MS = Date.UTC(2017, 6, 1);
/** How far past the local clock an open time may be (clocks disagree; a day is generous). */
const FUTURE_SLACK_MS = DAY_MS;
/** Most bytes one kline CSV line takes (Binance's take 100 to 170). */
const BYTES_PER_ROW = 256;
/** Compressed bytes fed to the inflater at a time. */
const SLICE = 4096;
/** Uncompressed size cap of a file whose name does not say its period. */
export const MAX_UNNAMED_BYTES = 256 * 1024 * 1024;

/**
 * The most rows a file named like Binance's archives (`BTCUSDT-1m-2024-01.zip`,
 * `BTCUSDT-1h-2024-01-15.csv`) can hold; null when the name does not say.
 */
export function expectedRows(name: string): number | null {
  const m = /-(\w+)-(\d{4})-(\d{2})(?:-(\d{2}))?\.(?:zip|csv|json)/.exec(name);
  if (!m || !isInterval(m[1])) return null;
  const y = Number(m[2]);
  const mo = Number(m[3]);
  const span = m[4] ? DAY_MS : Date.UTC(y, mo, 1) - Date.UTC(y, mo - 1, 1);
  if (!(span > 0)) return null;
  return m[1] === '1M' ? 1 : Math.ceil(span / intervalMs(m[1])) + 1;
}

/** Uncompressed bytes a file may expand to, from the rows its name allows. */
export function maxUncompressedBytes(name: string): number {
  const rows = expectedRows(name);
  return rows === null ? MAX_UNNAMED_BYTES : rows * BYTES_PER_ROW + 64 * 1024;
}

function tooBig(source: string, max: number): SourceError {
  return new SourceError(
    'INVALID_RESPONSE',
    `${source} expands to more than ${max} bytes, more than its klines can take; it was not unpacked further (a damaged or hostile archive).`,
    false,
  );
}

/**
 * Parses a Binance kline CSV with the engine's parser (12 columns, a header row skipped, ms or µs
 * per row), then sorts rows by open time and merges duplicates, which a republished or
 * concatenated file may hold. A malformed line is a retryable INVALID_RESPONSE. Refused (not
 * retryable): more rows than the file's period can hold, mostly duplicated rows, and open times
 * before Binance's first kline or more than a day after now.
 */
export function parseKlineCsv(text: string, source = 'CSV', now = Date.now()): Candles {
  let raw: Candles;
  try {
    raw = parseCsv(text, source, { requireAllFields: true });
  } catch (err) {
    if (err instanceof KlineParseError)
      throw new SourceError('INVALID_RESPONSE', err.message, true, { cause: err });
    throw err;
  }
  const c = sortUnique(raw);
  const limit = expectedRows(source);
  if (limit !== null && raw.length > limit) {
    throw new SourceError(
      'INVALID_RESPONSE',
      `${source} holds ${raw.length} rows, more than the ${limit} its period can have; refusing it.`,
      false,
    );
  }
  if (raw.length > 2 * c.length + 16) {
    throw new SourceError(
      'INVALID_RESPONSE',
      `${source} holds ${raw.length} rows for only ${c.length} distinct open time(s): mostly duplicated rows; refusing it.`,
      false,
    );
  }
  checkTimeBounds(c, source, now);
  return c;
}

/** Refuses open times before Binance's first kline or more than a day after `now`. */
export function checkTimeBounds(c: Candles, source: string, now = Date.now()): void {
  if (c.length === 0) return;
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < c.length; i++) {
    const t = c.openTime[i];
    if (t < lo) lo = t;
    if (t > hi) hi = t;
  }
  const bad = lo < FIRST_KLINE_MS ? lo : hi > now + FUTURE_SLACK_MS ? hi : null;
  if (bad !== null) {
    throw new SourceError(
      'INVALID_RESPONSE',
      `${source}: open time ${Number.isFinite(bad) ? new Date(bad).toISOString() : String(bad)} is ${bad < FIRST_KLINE_MS ? "before Binance's first kline (2017-07)" : 'more than a day in the future'}; refusing the file (a wrong time unit or a damaged file).`,
      false,
    );
  }
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
  const names: string[] = [];
  const chunks: Uint8Array[] = [];
  let total = 0;
  let failure: Error | null = null;
  const unzip = new Unzip((file) => {
    names.push(file.name);
    if (!file.name.toLowerCase().endsWith('.csv') || names.length > 1) return;
    file.ondata = (err, chunk) => {
      if (failure) return;
      if (err) {
        failure = err;
        return;
      }
      total += chunk.length;
      if (total > maxBytes) {
        failure = tooBig(source, maxBytes);
        file.terminate();
        return;
      }
      chunks.push(chunk);
    };
    file.start();
  });
  unzip.register(UnzipInflate);
  try {
    // Small slices: each can inflate to at most ~1000 times its size before the cap is checked.
    for (let o = 0; o < bytes.length && !failure; o += SLICE) {
      unzip.push(bytes.subarray(o, o + SLICE), o + SLICE >= bytes.length);
    }
  } catch (err) {
    failure ??= err as Error;
  }
  if (failure instanceof SourceError) throw failure;
  if (failure) {
    throw new SourceError(
      'INVALID_RESPONSE',
      `${source}: not a valid zip (${String(failure)})`,
      true,
      { cause: failure },
    );
  }
  if (names.length === 0)
    throw new SourceError('INVALID_RESPONSE', `${source}: not a valid zip (no file in it)`, true);
  const csvs = names.filter((n) => n.toLowerCase().endsWith('.csv'));
  if (csvs.length !== 1 || names.length !== 1)
    throw new SourceError(
      'INVALID_RESPONSE',
      `${source}: expected one CSV, found ${csvs.length} (and ${names.length - csvs.length} other file(s))`,
      true,
    );
  return parseKlineCsv(strFromU8(concatBytes(chunks, total)), `${source}/${csvs[0]}`);
}

/** Gunzips as a stream, giving up past `maxBytes` (a gzip bomb is refused after a few MB). */
export function gunzipCapped(bytes: Uint8Array, source: string, maxBytes: number): Uint8Array {
  const chunks: Uint8Array[] = [];
  let total = 0;
  let over = false;
  const g = new Gunzip((chunk) => {
    if (over) return;
    total += chunk.length;
    if (total > maxBytes) {
      over = true;
      throw tooBig(source, maxBytes);
    }
    chunks.push(chunk);
  });
  try {
    for (let o = 0; o < bytes.length; o += SLICE)
      g.push(bytes.subarray(o, o + SLICE), o + SLICE >= bytes.length);
  } catch (err) {
    if (err instanceof SourceError) throw err;
    throw new SourceError('INVALID_RESPONSE', `${source}: not valid gzip (${String(err)})`, false);
  }
  return concatBytes(chunks, total);
}

function concatBytes(chunks: Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
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
  const url = archiveUrl(symbol, piece.kind, piece.key, { baseUrl: opts.baseUrl });
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
