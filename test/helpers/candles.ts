import { type Candles, allocCandles, FLOAT_COLUMNS } from '../../schemas/candles.ts';

export function concatCandles(parts: Candles[]): Candles {
  const n = parts.reduce((a, p) => a + p.length, 0);
  const out = allocCandles(n);
  let k = 0;
  for (const p of parts) {
    out.openTime.set(p.openTime.subarray(0, p.length), k);
    for (const col of FLOAT_COLUMNS) out[col].set(p[col].subarray(0, p.length), k);
    out.filled.set(p.filled.subarray(0, p.length), k);
    k += p.length;
  }
  out.length = n;
  return out;
}
