import { createWriteStream } from 'node:fs';
import { randomBytes } from 'node:crypto';
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

/**
 * Writes candles to a CSV file: into a temporary file of its own (a unique name, created
 * exclusively), flushed, then renamed over `out`. A half-written export never appears, and
 * exports running at once to the same path each produce a whole file: the last rename wins.
 */
export async function exportCsv(c: Candles, out: string): Promise<number> {
  const tmp = path.join(
    path.dirname(out),
    `.${path.basename(out)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`,
  );
  const ws = createWriteStream(tmp, { flags: 'wx', flush: true });
  try {
    const failed = once(ws, 'error').then(([e]) => Promise.reject(e as Error));
    failed.catch(() => undefined);
    await Promise.race([once(ws, 'open'), failed]);
    ws.write(HEADER);
    const CHUNK = 10_000;
    for (let i = 0; i < c.length; i += CHUNK) {
      if (!ws.write(candlesToCsvChunk(c, i, Math.min(c.length, i + CHUNK))))
        await Promise.race([once(ws, 'drain'), failed]);
    }
    ws.end();
    await Promise.race([once(ws, 'finish'), failed]);
    await fsp.rename(tmp, out);
  } catch (e) {
    ws.destroy();
    await fsp.rm(tmp, { force: true });
    throw e;
  }
  return c.length;
}
