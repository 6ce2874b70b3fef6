import { sha256Hex } from '../engine/archive-file.ts';
import { strToU8, zipSync } from 'fflate';
import { DAY_MS } from '../../schemas/intervals.ts';
import type { Kline } from './data.ts';

/**
 * data.binance.vision archives built on the fly from the replay series: one CSV per zip, no
 * header, 12 columns, microsecond timestamps for periods from 2025-01-01 (Binance's spot switch),
 * milliseconds before. The zip bytes are deterministic (fixed entry mtime), so a CHECKSUM
 * computed for one request matches the zip of the next.
 */

export const MICROSECONDS_FROM = Date.UTC(2025, 0, 1);

export interface ArchivePeriod {
  kind: 'monthly' | 'daily';
  /** `YYYY-MM` or `YYYY-MM-DD`. */
  key: string;
  start: number;
  end: number;
}

/** Parses a period key; undefined when it is not a real calendar month or day. */
export function parsePeriod(kind: 'monthly' | 'daily', key: string): ArchivePeriod | undefined {
  const m =
    kind === 'monthly' ? /^(\d{4})-(\d{2})$/.exec(key) : /^(\d{4})-(\d{2})-(\d{2})$/.exec(key);
  if (!m) return undefined;
  const y = Number(m[1]);
  const mo = Number(m[2]) - 1;
  if (mo < 0 || mo > 11) return undefined;
  if (kind === 'monthly')
    return { kind, key, start: Date.UTC(y, mo, 1), end: Date.UTC(y, mo + 1, 1) };
  const d = Number(m[3]);
  const start = Date.UTC(y, mo, d);
  if (new Date(start).getUTCDate() !== d) return undefined;
  return { kind, key, start, end: start + DAY_MS };
}

/** The CSV text of an archive for `rows` (which lie inside one period). */
export function archiveCsv(rows: readonly Kline[], micro: boolean): string {
  const parts: string[] = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    const open = micro ? r[0] * 1000 : r[0];
    const close = micro ? r[0] * 1000 + 59_999_999 : r[6];
    parts[i] =
      `${open},${r[1]},${r[2]},${r[3]},${r[4]},${r[5]},${close},${r[7]},${r[8]},${r[9]},${r[10]},${r[11]}`;
  }
  return parts.join('\n') + '\n';
}

export function buildZip(csvName: string, csv: string): Uint8Array {
  return zipSync(
    { [csvName]: [strToU8(csv), { mtime: new Date(Date.UTC(2020, 0, 1)) }] },
    { level: 6 },
  );
}

export { sha256Hex };

/** The `.CHECKSUM` file body, in `sha256sum` format. */
export function checksumText(zipName: string, zip: Uint8Array): string {
  return `${sha256Hex(zip)}  ${zipName}\n`;
}

/** S3's answer for a missing key, as data.binance.vision gives it. */
export function noSuchKey(path: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>${path.replace(/^\//, '')}</Key></Error>`;
}
