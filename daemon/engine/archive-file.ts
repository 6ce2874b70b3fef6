/**
 * Binance archive files as bytes: the one CSV inside a kline zip, and the `.CHECKSUM` beside it
 * (`sha256sum` format). Pure functions of their input; shared by the importer (files users bring)
 * and the archive source (files downloaded).
 */
import { createHash } from 'node:crypto';
import { strFromU8, unzipSync } from 'fflate';
import type { Candles } from '../../schemas/candles.ts';
import { ThreadxError } from '../../schemas/errors.ts';
import { parseKlineCsv } from './parse.ts';

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

/** Extracts and parses the one CSV inside a Binance kline archive zip. */
export function parseArchiveZipBytes(bytes: Uint8Array, source = 'archive'): Candles {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes);
  } catch (err) {
    throw new ThreadxError(
      'BAD_FILE',
      `${source}: not a valid zip (${String(err)})`,
      undefined,
      {},
      {
        cause: err,
      },
    );
  }
  const names = Object.keys(entries).filter((n) => n.toLowerCase().endsWith('.csv'));
  if (names.length !== 1)
    throw new ThreadxError('BAD_FILE', `${source}: expected one CSV, found ${names.length}`);
  return parseKlineCsv(strFromU8(entries[names[0]]), `${source}/${names[0]}`);
}
