/**
 * A month of 1m USD-M klines for 20 perpetuals through the product's ingest (REST only, into a
 * fresh bank) against the replay exchange with futures weights (2,400 a minute, compressed into
 * 3-second windows), at 499 klines a request (weight 2, the product's choice) and at 1000
 * (weight 5): seconds against the weight floor, the time the 499 plan's weight needs at the
 * budget.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Bank } from '../daemon/store/bank.ts';
import { runIngest } from '../daemon/jobs/ingest.ts';
import { ConfigSchema } from '../schemas/config.ts';
import { startReplayServer } from '../daemon/replay/server.ts';
import { BinanceRestClient } from '../daemon/sources/rest.ts';
import { RateGovernor } from '../daemon/sources/governor.ts';
import { klinesWeight } from '../schemas/markets.ts';

const NOW = Date.parse('2026-03-10T12:00:30Z');
const MIN = 60_000;

export interface FuturesRow {
  page: number;
  seconds: number;
  requests: number;
  weight: number;
  /** Seconds the weight of the 499 plan needs at the budget: the best any client can do. */
  floorSeconds: number;
  ratio: number;
  count429: number;
  count418: number;
  candles: number;
}

export async function benchFutures(
  opts: { symbols?: number; days?: number; log?: (l: string) => void } = {},
): Promise<{
  symbols: string[];
  days: number;
  limit: number;
  windowMs: number;
  rows: FuturesRow[];
}> {
  const days = opts.days ?? 30;
  const windowMs = 3000;
  const limit = Math.round((2400 * windowMs) / 60_000);
  const end = Math.floor(NOW / MIN) * MIN - 2 * 1440 * MIN;
  const start = end - days * 1440 * MIN;
  const minutes = days * 1440;
  let symbols: string[] = [];
  const rows: FuturesRow[] = [];
  for (const page of [499, 1000]) {
    const server = await startReplayServer({
      now: NOW,
      futuresWeightLimit: limit,
      windowMs,
      latencyMs: { min: 20, max: 40 },
    });
    const dir = await mkdtemp(path.join(tmpdir(), 'threadx-bench-futures-'));
    try {
      const rest = new BinanceRestClient({
        market: 'um',
        baseUrl: server.url,
        governor: new RateGovernor(),
        pageRows: page,
      });
      if (symbols.length === 0) {
        const info = await rest.exchangeInfo();
        symbols = info.symbols
          .filter((s) => s.contractType === 'PERPETUAL')
          .map((s) => s.symbol)
          .slice(0, opts.symbols ?? 20);
      }
      const bank = await Bank.open(dir);
      server.resetStats();
      const t0 = performance.now();
      const summary = await runIngest(
        { bank, config: ConfigSchema.parse({}), rest, archiveBaseUrl: server.archiveUrl },
        { symbols, intervals: [], start, end, source: 'rest', market: 'um', concurrency: 8 },
      );
      const seconds = (performance.now() - t0) / 1000;
      const st = server.stats.futures.um;
      const floorWeight = symbols.length * Math.ceil((minutes + 1) / 499) * klinesWeight('um', 499);
      const floorSeconds = ((floorWeight / limit) * windowMs) / 1000;
      const row: FuturesRow = {
        page,
        seconds,
        requests: st.klineRequests,
        weight: st.totalWeight,
        floorSeconds,
        ratio: seconds / floorSeconds,
        count429: st.count429,
        count418: st.count418,
        candles: summary.results.reduce((a, r) => a + r.rowsAdded, 0),
      };
      rows.push(row);
      opts.log?.(
        `limit ${page}: ${seconds.toFixed(1)} s, weight ${row.weight}, 429s ${row.count429}`,
      );
    } finally {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    }
  }
  return { symbols, days, limit, windowMs, rows };
}

export function formatFutures(r: Awaited<ReturnType<typeof benchFutures>>): string {
  const lines = [
    `${r.symbols.length} USD-M perpetuals x ${r.days} days of 1m; budget ${r.limit} weight per ${r.windowMs / 1000} s window (2,400 a minute, compressed)`,
    '| klines per request | seconds | kline requests | weight | floor (499) s | ratio to floor | 429 | 418 | candles |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const x of r.rows)
    lines.push(
      `| ${x.page} | ${x.seconds.toFixed(1)} | ${x.requests} | ${x.weight} | ${x.floorSeconds.toFixed(1)} | ${x.ratio.toFixed(2)} | ${x.count429} | ${x.count418} | ${x.candles} |`,
    );
  return lines.join('\n');
}
