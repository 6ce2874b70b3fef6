import { readFileSync } from 'node:fs';
import { gunzipSync, unzipSync, strFromU8 } from 'fflate';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import type { Candles } from '../../schemas/candles.ts';
import type { Kline } from '../../daemon/replay/data.ts';
import { hash2, hashString, unit } from '../../daemon/replay/rng.ts';
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

/**
 * A recorded freqtrade 1m file as the replay exchange serves it (`ReplayOptions.recorded`): the
 * real OHLCV, and the five columns freqtrade drops (quote volume, trades, taker volumes)
 * derived from it deterministically.
 */
export function recordedKlines(rel: string): Kline[] {
  const rows = JSON.parse(
    strFromU8(gunzipSync(readFileSync(path.join(KLINES, rel)))),
  ) as number[][];
  const seed = hashString(rel);
  const fmt = (x: number) => x.toFixed(8);
  return rows.map(([t, o, h, l, c, v]) => {
    const vwap = (o + h + l + c) / 4;
    const u = unit(hash2(seed, t / 60_000));
    const trades = v > 0 ? Math.max(1, Math.round(((v * vwap) / 2500) * (0.6 + 0.8 * u))) : 0;
    const takerBase = v * (0.35 + 0.3 * u);
    return [
      t,
      fmt(o),
      fmt(h),
      fmt(l),
      fmt(c),
      fmt(v),
      t + 59_999,
      fmt(v * vwap),
      trades,
      fmt(takerBase),
      fmt(takerBase * vwap),
      '0',
    ];
  });
}
