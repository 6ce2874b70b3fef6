import { type Candles, allocCandles, FLOAT_COLUMNS } from '../../schemas/candles.ts';

/**
 * Merges two series sorted by open time into one, deduplicated by open time. On a tie the row
 * from `incoming` wins unless it is a filled row and the existing one is real: a real candle is
 * never replaced by a synthetic one, and a synthetic one always gives way to a real one.
 */
export function mergeCandles(existing: Candles, incoming: Candles): Candles {
  if (existing.length === 0) return incoming;
  if (incoming.length === 0) return existing;
  const out = allocCandles(existing.length + incoming.length);
  let i = 0;
  let j = 0;
  let k = 0;
  const copy = (src: Candles, r: number): void => {
    out.openTime[k] = src.openTime[r];
    for (const col of FLOAT_COLUMNS) out[col][k] = src[col][r];
    out.filled[k] = src.filled[r];
    k++;
  };
  while (i < existing.length || j < incoming.length) {
    const te = i < existing.length ? existing.openTime[i] : Infinity;
    const ti = j < incoming.length ? incoming.openTime[j] : Infinity;
    if (te < ti) copy(existing, i++);
    else if (ti < te) copy(incoming, j++);
    else {
      if (incoming.filled[j] === 1 && existing.filled[i] === 0) copy(existing, i);
      else copy(incoming, j);
      i++;
      j++;
    }
  }
  out.length = k;
  return out;
}

/** Sorts rows by open time and keeps the first of any duplicates; returns `c` when already so. */
export function sortUnique(c: Candles): Candles {
  let ok = true;
  for (let i = 1; i < c.length; i++) {
    if (c.openTime[i] <= c.openTime[i - 1]) {
      ok = false;
      break;
    }
  }
  if (ok) return c;
  const idx = Array.from({ length: c.length }, (_, i) => i).sort(
    (a, b) => c.openTime[a] - c.openTime[b] || a - b,
  );
  const out = allocCandles(c.length);
  let n = 0;
  for (const i of idx) {
    if (n > 0 && out.openTime[n - 1] === c.openTime[i]) continue;
    out.openTime[n] = c.openTime[i];
    for (const col of FLOAT_COLUMNS) out[col][n] = c[col][i];
    out.filled[n] = c.filled[i];
    n++;
  }
  out.length = n;
  return out;
}
