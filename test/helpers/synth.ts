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
