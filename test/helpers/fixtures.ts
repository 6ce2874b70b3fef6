import { readFileSync } from 'node:fs';
import { gunzipSync, unzipSync, strFromU8 } from 'fflate';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import type { Candles } from '../../schemas/candles.ts';
import { parseKlineCsv, parseKlineRows } from '../../daemon/engine/parse.ts';

export const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));
export const KLINES = path.join(FIXTURES, 'binance', 'klines');

/** Reads a recorded kline file: freqtrade JSON(.gz), CSV(.gz) or an archive zip. */
export function loadKlines(rel: string): Candles {
  const file = path.join(KLINES, rel);
  let bytes: Uint8Array = readFileSync(file);
  let name = rel;
  if (name.endsWith('.gz')) {
    bytes = gunzipSync(bytes);
    name = name.slice(0, -3);
  }
  if (name.endsWith('.zip')) {
    const entries = unzipSync(bytes);
    return parseKlineCsv(strFromU8(Object.values(entries)[0]), rel);
  }
  const text = strFromU8(bytes);
  return name.endsWith('.json') ? parseKlineRows(JSON.parse(text), rel) : parseKlineCsv(text, rel);
}
