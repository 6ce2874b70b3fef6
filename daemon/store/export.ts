import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { Candles } from '../../schemas/candles.ts';

const HEADER =
  'timestamp,open,high,low,close,volume,quote_volume,trades,taker_buy_base,taker_buy_quote,filled\n';

/** One CSV line per candle, ISO-8601 UTC timestamps, shortest round-trip number text. */
export function candlesToCsvChunk(c: Candles, from: number, to: number): string {
  let s = '';
  for (let i = from; i < to; i++) {
    s += `${new Date(c.openTime[i]).toISOString()},${c.open[i]},${c.high[i]},${c.low[i]},${c.close[i]},${c.volume[i]},${c.quoteVolume[i]},${c.trades[i]},${c.takerBuyBase[i]},${c.takerBuyQuote[i]},${c.filled[i]}\n`;
  }
  return s;
}

/** Writes candles to a CSV file (temp then rename, so a half-written export never appears). */
export async function exportCsv(c: Candles, out: string): Promise<number> {
  const tmp = path.join(path.dirname(out), `.${path.basename(out)}.${process.pid}.tmp`);
  const ws = createWriteStream(tmp);
  ws.write(HEADER);
  const CHUNK = 10_000;
  for (let i = 0; i < c.length; i += CHUNK) {
    if (!ws.write(candlesToCsvChunk(c, i, Math.min(c.length, i + CHUNK)))) await once(ws, 'drain');
  }
  ws.end();
  await once(ws, 'finish');
  await fsp.rename(tmp, out);
  return c.length;
}
