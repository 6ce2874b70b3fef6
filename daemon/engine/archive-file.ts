/**
 * Binance archive files as bytes: the one CSV inside a kline zip, and the `.CHECKSUM` beside it
 * (`sha256sum` format). Pure functions of their input; shared by the importer (files users bring)
 * and the archive source (files downloaded).
 */
import { createHash } from 'node:crypto';
import { inflateRawSync } from 'node:zlib';
import {
  type FlateError,
  Gunzip,
  Unzip,
  type UnzipDecoder,
  UnzipPassThrough,
  strFromU8,
} from 'fflate';
import { DAY_MS, intervalMs, isInterval } from '../../schemas/intervals.ts';
import type { Candles } from '../../schemas/candles.ts';
import { ThreadxError } from '../../schemas/errors.ts';
import { parseKlineCsv } from './parse.ts';
import { sortUnique } from './merge.ts';

/** SHA-256 of bytes (or of a string's UTF-8), lower-case hex. */
export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Checks `bytes` against a `.CHECKSUM` body (`<sha256>  <file>`); returns the digest. */
export function checkArchiveChecksum(
  bytes: Uint8Array,
  checksumBody: string,
  file: string,
): string {
  const m = /\b([0-9a-f]{64})\b/i.exec(checksumBody);
  if (!m) throw new ThreadxError('BAD_FILE', `The .CHECKSUM file for ${file} has no sha256 in it.`);
  const expected = m[1].toLowerCase();
  const actual = sha256Hex(bytes);
  if (actual !== expected)
    throw new ThreadxError(
      'CHECKSUM_MISMATCH',
      `Checksum mismatch for ${file}: expected sha256 ${expected}, got ${actual}; the file was not used.`,
      undefined,
      { file, expected, actual },
    );
  return actual;
}

/**
 * Extracts and parses the one CSV inside a Binance kline archive zip, inflated as a stream capped
 * by the rows the file's name allows (`unzipOneCsvCapped`, `parseKlineCsvCapped`).
 */
export function parseArchiveZipBytes(
  bytes: Uint8Array,
  source = 'archive',
  fail: ArchiveFail = badFile,
): Candles {
  return parseArchiveZipHead(bytes, source, fail).candles;
}

/** `parseArchiveZipBytes`, plus the first 4 KB of the CSV's text (to tell its market by). */
export function parseArchiveZipHead(
  bytes: Uint8Array,
  source = 'archive',
  fail: ArchiveFail = badFile,
): { candles: Candles; head: string } {
  const { name, data } = unzipOneCsvBytes(bytes, source, maxUncompressedBytes(source), fail);
  const candles = parseKlineCsvCapped(data, `${source}/${name}`, Date.now(), fail);
  return { candles, head: strFromU8(data.subarray(0, 4096)) };
}

/**
 * A kline CSV parsed, sorted by open time with duplicates merged, and refused when it holds more
 * rows than its name's period allows, mostly duplicated rows, or open times out of bounds.
 */
export function parseKlineCsvCapped(
  text: string | Uint8Array,
  source: string,
  now = Date.now(),
  fail: ArchiveFail = badFile,
): Candles {
  const raw = parseKlineCsv(text, source);
  const c = sortUnique(raw);
  checkRowCaps(raw.length, c.length, source, fail);
  checkTimeBounds(c, source, now, fail);
  return c;
}

/**
 * How a cap or bound below fails: the caller's error (the archive source's INVALID_RESPONSE, the
 * importer's BAD_FILE). `retryable` is false for a file over its caps (trying again cannot help).
 */
export type ArchiveFail = (message: string, retryable: boolean, cause?: unknown) => Error;

const badFile: ArchiveFail = (message, _retryable, cause) =>
  new ThreadxError('BAD_FILE', message, undefined, {}, cause ? { cause } : undefined);

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

function tooBig(source: string, max: number, fail: ArchiveFail): Error {
  return fail(
    `${source} expands to more than ${max} bytes, more than its klines can take; it was not unpacked further (a damaged or hostile archive).`,
    false,
  );
}

/**
 * Refuses a file holding more rows than its name's period can have (`raw` rows as read,
 * `distinct` after merging duplicates), or mostly duplicated rows.
 */
export function checkRowCaps(
  raw: number,
  distinct: number,
  source: string,
  fail: ArchiveFail = badFile,
): void {
  const limit = expectedRows(source);
  if (limit !== null && raw > limit) {
    throw fail(
      `${source} holds ${raw} rows, more than the ${limit} its period can have; refusing it.`,
      false,
    );
  }
  if (raw > 2 * distinct + 16) {
    throw fail(
      `${source} holds ${raw} rows for only ${distinct} distinct open time(s): mostly duplicated rows; refusing it.`,
      false,
    );
  }
}

/** Refuses open times before Binance's first kline or more than a day after `now`. */
export function checkTimeBounds(
  c: Candles,
  source: string,
  now: number,
  fail: ArchiveFail = badFile,
): void {
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
    throw fail(
      `${source}: open time ${Number.isFinite(bad) ? new Date(bad).toISOString() : String(bad)} is ${bad < FIRST_KLINE_MS ? "before Binance's first kline (2017-07)" : 'more than a day in the future'}; refusing the file (a wrong time unit or a damaged file).`,
      false,
    );
  }
}

/**
 * The one CSV inside a zip, inflated and given up as soon as it grows past `maxBytes`, so an
 * archive that expands to gigabytes is refused after a few megabytes.
 */
export function unzipOneCsvCapped(
  bytes: Uint8Array,
  source: string,
  maxBytes: number,
  fail: ArchiveFail = badFile,
): { name: string; text: string } {
  const { name, data } = unzipOneCsvBytes(bytes, source, maxBytes, fail);
  return { name, text: strFromU8(data) };
}

/**
 * `unzipOneCsvCapped` as bytes. fflate reads the zip's structure; the deflated entry is inflated
 * by Node's zlib in one call (several times faster than inflating in JavaScript), whose
 * `maxOutputLength` stops it at the cap without ever holding more than that.
 */
export function unzipOneCsvBytes(
  bytes: Uint8Array,
  source: string,
  maxBytes: number,
  fail: ArchiveFail = badFile,
): { name: string; data: Uint8Array } {
  const names: string[] = [];
  let data: Uint8Array | null = null;
  let failure: Error | null = null;
  let capped = false;
  const unzip = new Unzip((file) => {
    names.push(file.name);
    if (!file.name.toLowerCase().endsWith('.csv') || names.length > 1) return;
    file.ondata = (err, chunk, final) => {
      if (failure) return;
      if (err) {
        failure = err;
        return;
      }
      if (chunk.length > maxBytes || (data && data.length + chunk.length > maxBytes)) {
        failure = tooBig(source, maxBytes, fail);
        capped = true;
        file.terminate();
        return;
      }
      data = data ? concatBytes([data, chunk], data.length + chunk.length) : chunk;
      void final;
    };
    file.start();
  });
  unzip.register(UnzipPassThrough);
  unzip.register(nativeInflate(maxBytes, () => (capped = true)));
  try {
    unzip.push(bytes, true);
  } catch (err) {
    failure ??= err as Error;
  }
  if (capped) throw tooBig(source, maxBytes, fail);
  if (failure) throw fail(`${source}: not a valid zip (${String(failure)})`, true, failure);
  if (names.length === 0) throw fail(`${source}: not a valid zip (no file in it)`, true);
  const csvs = names.filter((n) => n.toLowerCase().endsWith('.csv'));
  if (csvs.length !== 1 || names.length !== 1)
    throw fail(
      `${source}: expected one CSV, found ${csvs.length} (and ${names.length - csvs.length} other file(s))`,
      true,
    );
  return { name: csvs[0], data: data ?? new Uint8Array(0) };
}

/**
 * An fflate decoder for deflated entries (method 8) that gathers the compressed bytes and
 * inflates them with zlib at the end, refusing output past `maxBytes`.
 */
function nativeInflate(maxBytes: number, onCapped: () => void) {
  return class NativeInflate implements UnzipDecoder {
    static readonly compression = 8;
    ondata: UnzipDecoder['ondata'] = () => undefined;
    private parts: Uint8Array[] = [];
    private size = 0;
    private done = false;
    push(chunk: Uint8Array, final: boolean): void {
      if (this.done) return;
      // The chunk is fflate's: copied, never kept.
      this.parts.push(chunk.slice());
      this.size += chunk.length;
      if (!final) return;
      this.done = true;
      let out: Uint8Array;
      try {
        out = inflateRawSync(concatBytes(this.parts, this.size), { maxOutputLength: maxBytes });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') onCapped();
        this.ondata(e as FlateError, new Uint8Array(0), true);
        return;
      }
      this.parts = [];
      this.ondata(null, out as Uint8Array<ArrayBuffer>, true);
    }
    terminate(): void {
      this.done = true;
    }
  };
}

/** Gunzips as a stream, giving up past `maxBytes` (a gzip bomb is refused after a few MB). */
export function gunzipCapped(
  bytes: Uint8Array,
  source: string,
  maxBytes: number,
  fail: ArchiveFail = badFile,
): Uint8Array {
  const chunks: Uint8Array[] = [];
  let total = 0;
  let over: Error | null = null;
  const g = new Gunzip((chunk) => {
    if (over) return;
    total += chunk.length;
    if (total > maxBytes) {
      over = tooBig(source, maxBytes, fail);
      throw over;
    }
    chunks.push(chunk);
  });
  try {
    for (let o = 0; o < bytes.length; o += SLICE)
      g.push(bytes.subarray(o, o + SLICE), o + SLICE >= bytes.length);
  } catch (err) {
    if (over) throw over;
    throw fail(`${source}: not valid gzip (${String(err)})`, false, err);
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
