import { type Candles, allocCandles } from '../../schemas/candles.ts';

/** Deterministic synthetic 1m candles: a seeded random walk with coherent OHLC, 8-decimal volumes. */
export function synth1m(start: number, rows: number, seed = 1, price = 30_000): Candles {
  const c = allocCandles(rows);
  c.length = rows;
  let s = seed >>> 0 || 1;
  const rnd = (): number => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
  let p = price;
  for (let i = 0; i < rows; i++) {
    const o = p;
    const cl = Math.round(o * (1 + (rnd() - 0.5) * 0.002) * 100) / 100;
    const h = Math.round(Math.max(o, cl) * (1 + rnd() * 0.001) * 100) / 100;
    const l = Math.round(Math.min(o, cl) * (1 - rnd() * 0.001) * 100) / 100;
    const quiet = rnd() < 0.01;
    c.openTime[i] = start + i * 60_000;
    c.open[i] = o;
    c.high[i] = quiet ? o : h;
    c.low[i] = quiet ? o : l;
    c.close[i] = quiet ? o : cl;
    const v = quiet ? 0 : Math.round(rnd() * 1e10) / 1e8;
    c.volume[i] = v;
    c.quoteVolume[i] = Math.round(v * o * 1e8) / 1e8;
    c.trades[i] = quiet ? 0 : 1 + Math.floor(rnd() * 500);
    c.takerBuyBase[i] = Math.round(v * rnd() * 1e8) / 1e8;
    c.takerBuyQuote[i] = Math.round(c.takerBuyBase[i] * o * 1e8) / 1e8;
    p = quiet ? o : cl;
  }
  return c;
}

export interface Ohlc {
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
}

/**
 * A deterministic synthetic candle series around 1e5 (BTC-like prices, cent ticks): a
 * mean-reverting random walk with 0.1% typical 1m moves, and a 90-bar flat stretch (an exchange
 * halt: high = low = close) every 50,000 rows starting at row 25,000. Uses only an integer PRNG
 * and + - * / and Math.round, so the bytes are the same on every platform; the golden-vector
 * fixtures record their sha256.
 */
export function syntheticOhlc(rows: number, seed = 20240101): Ohlc {
  const high = new Float64Array(rows);
  const low = new Float64Array(rows);
  const close = new Float64Array(rows);
  let a = seed >>> 0;
  const rnd = (): number => {
    // mulberry32
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const cents = (x: number): number => Math.round(x * 100) / 100;
  let p = 100_000;
  let prev = p;
  for (let i = 0; i < rows; i++) {
    const flat = i >= 25_000 && (i - 25_000) % 50_000 < 90;
    if (flat) {
      high[i] = prev;
      low[i] = prev;
      close[i] = prev;
      continue;
    }
    p = p * (1 + (rnd() - 0.5) * 0.003) + (100_000 - p) * 0.0002;
    const c = cents(p);
    high[i] = cents((c > prev ? c : prev) * (1 + rnd() * 0.0008));
    low[i] = cents((c < prev ? c : prev) * (1 - rnd() * 0.0008));
    close[i] = c;
    prev = c;
  }
  return { high, low, close };
}
