/**
 * Monthly 1m archive zips of one symbol's whole history, as data.binance.vision serves them
 * (with their `.CHECKSUM` files), built once from the replay exchange's synthetic series and
 * kept in a folder for the import benchmarks.
 *
 *   node --import tsx bench/archives.ts <dir> [months]
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DAY_MS } from '../schemas/intervals.ts';
import {
  MICROSECONDS_FROM,
  archiveCsv,
  buildZip,
  checksumText,
  parsePeriod,
} from '../daemon/replay/archive.ts';
import { SeriesStore } from '../daemon/replay/data.ts';

export const HISTORY_SYMBOL = 'ARCHUSDT';

/** Writes `months` monthly archives ending with 2025-07 into `dir`; returns their paths. */
export function monthlyArchives(dir: string, months = 96): string[] {
  mkdirSync(dir, { recursive: true });
  const store = new SeriesStore(() => ({
    listedAt: Date.UTC(2017, 0, 1),
    basePrice: 30_000,
    dailyVol: 0.03,
    quotePerMinute: 200_000,
    zeroVolumeShare: 0.01,
  }));
  const out: string[] = [];
  const end = Date.UTC(2025, 7, 1);
  for (let m = months; m >= 1; m--) {
    const d = new Date(end);
    d.setUTCMonth(d.getUTCMonth() - m);
    const key = d.toISOString().slice(0, 7);
    const name = `${HISTORY_SYMBOL}-1m-${key}.zip`;
    const file = path.join(dir, name);
    out.push(file);
    if (existsSync(file) && existsSync(`${file}.CHECKSUM`)) continue;
    const p = parsePeriod('monthly', key)!;
    const rows = [];
    for (let t = p.start; t < p.end; t += DAY_MS)
      rows.push(...store.day(HISTORY_SYMBOL, t / DAY_MS));
    const zip = buildZip(
      `${HISTORY_SYMBOL}-1m-${key}.csv`,
      archiveCsv(rows, p.start >= MICROSECONDS_FROM),
    );
    writeFileSync(file, zip);
    writeFileSync(`${file}.CHECKSUM`, checksumText(name, zip));
  }
  return out;
}

if (process.argv[1] && import.meta.url.endsWith(path.basename(process.argv[1]))) {
  const files = monthlyArchives(process.argv[2] ?? 'bench-archives', Number(process.argv[3] ?? 96));
  process.stdout.write(`${files.length} archives in ${path.dirname(files[0])}\n`);
}
