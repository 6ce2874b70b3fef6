import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Bank } from '../daemon/store/bank.ts';
import { runIngest } from '../daemon/jobs/ingest.ts';
import { ConfigSchema } from '../schemas/config.ts';
import { createRequire } from 'node:module';
import pLimit from 'p-limit';
import { startReplayServer, type ReplayServer, type ReplayStats } from '../daemon/replay/server.ts';
import { BinanceRestClient, fetchRange1m } from '../daemon/sources/rest.ts';
import { RateGovernor } from '../daemon/sources/governor.ts';

/**
 * Ingest benchmark: N symbols x D days of 1m klines from the replay exchange, with realistic
 * latency and Binance's real weight rate, comparing our client with the rate-limit floor and
 * with a ccxt downloader doing the same job on the same kind of server.
 *
 * Binance allows 6000 weight per 1-minute window (100 weight/s). To run in seconds, the bench
 * keeps that rate but shortens the window proportionally: 6000/60 s becomes 300/3 s by default
 * (`windowSeconds`). Over a 60 s window the whole job would fit in one window's burst and
 * the floor would say nothing; over 3 s windows the job spans several windows, like a real
 * multi-minute download does.
 *
 * Floor = weight needed / limit per window x window length, where weight needed is 2 per
 * 1000-kline page plus exchangeInfo (20). Our client cuts each symbol's range in 1000-minute
 * chunks fetched by `concurrency` workers (one server time read for the batch); ccxt paginates
 * each symbol with its deterministic pagination (parallel calls through its throttler). Each run starts at a window boundary on a fresh server.
 */

export interface BenchOptions {
  symbols?: number | string[];
  days?: number;
  concurrency?: number;
  windowSeconds?: number;
  latencyMs?: { min: number; max: number };
  /** Run ccxt too (default true). */
  ccxt?: boolean;
  /** ccxt's rateLimit in ms per cost unit (default: ccxt's own 50, which it maps to 6000/min). */
  ccxtRateLimit?: number;
  log?: (line: string) => void;
}

export interface BenchRow {
  name: string;
  seconds: number;
  floorSeconds: number;
  ratio: number;
  candles: number;
  /** Symbols whose download failed (ccxt gives up after a ban). */
  failed: number;
  requests: number;
  weight: number;
  count429: number;
  count418: number;
  maxUsedWeight: number;
}

export interface BenchResult {
  limit: number;
  windowMs: number;
  symbols: string[];
  days: number;
  rows: BenchRow[];
}

const NOW = Date.UTC(2024, 5, 1, 0, 0, 30);
const MIN = 60_000;

const DEFAULT_SYMBOLS = [
  'BTCUSDC',
  'ETHUSDC',
  'SOLUSDC',
  'ADAUSDC',
  'UNIUSDC',
  'AAVEUSDC',
  'LINKUSDC',
  'DOTUSDC',
  'ARBUSDC',
  'OPUSDC',
  'BNBUSDC',
  'XRPUSDC',
  'DOGEUSDC',
  'AVAXUSDC',
  'LTCUSDC',
  'TRXUSDC',
];

export async function benchIngest(opts: BenchOptions = {}): Promise<BenchResult> {
  const log = opts.log ?? (() => undefined);
  const symbols =
    typeof opts.symbols === 'object' ? opts.symbols : DEFAULT_SYMBOLS.slice(0, opts.symbols ?? 12);
  const days = opts.days ?? 30;
  const concurrency = opts.concurrency ?? 8;
  const windowMs = (opts.windowSeconds ?? 3) * 1000;
  const limit = Math.round((6000 * windowMs) / 60_000);
  const latencyMs = opts.latencyMs ?? { min: 50, max: 100 };
  const end = Math.floor(NOW / MIN) * MIN;
  const start = end - days * 1440 * MIN;
  const pagesPerSymbol = Math.ceil((days * 1440) / 1000);
  const neededWeight = 20 + symbols.length * pagesPerSymbol * 2;
  const floorSeconds = ((neededWeight / limit) * windowMs) / 1000;
  const rows: BenchRow[] = [];

  const run = async (
    name: string,
    job: (server: ReplayServer) => Promise<{ candles: number; failed: number }>,
  ) => {
    const server = await startReplayServer({ now: NOW, weightLimit: limit, windowMs, latencyMs });
    try {
      // Warm the synthetic series so both runs measure the network path, not data generation.
      for (const s of symbols) await warm(server, s, start, end);
      server.resetStats();
      server.resetLimits();
      await untilNextWindow(windowMs);
      const t0 = performance.now();
      const { candles, failed } = await job(server);
      const seconds = (performance.now() - t0) / 1000;
      const st: ReplayStats = server.stats;
      const row: BenchRow = {
        name,
        seconds,
        floorSeconds,
        ratio: seconds / floorSeconds,
        candles,
        failed,
        requests: Object.values(st.requests).reduce((a, b) => a + b, 0),
        weight: st.totalWeight,
        count429: st.count429,
        count418: st.count418,
        maxUsedWeight: st.maxUsedWeight,
      };
      rows.push(row);
      log(
        `${name}: ${seconds.toFixed(2)} s, ${candles} candles, 429s ${row.count429}, 418s ${row.count418}`,
      );
    } finally {
      await server.close();
    }
  };

  await run(`threadx (concurrency ${concurrency})`, async (server) => {
    const client = new BinanceRestClient({ baseUrl: server.url, governor: new RateGovernor() });
    // One server time for the batch; the range is cut in 1000-minute chunks so every worker
    // stays busy to the end (a symbol's pages are otherwise sequential).
    const serverTime = await client.serverTime();
    const chunks: Array<[string, number, number]> = [];
    for (const s of symbols) {
      for (let t = start; t < end; t += 1000 * MIN)
        chunks.push([s, t, Math.min(end, t + 1000 * MIN)]);
    }
    const lim = pLimit(concurrency);
    const results = await Promise.all(
      chunks.map(([s, a, b]) => lim(() => fetchRange1m(client, s, a, b, { serverTime }))),
    );
    return { candles: results.reduce((a, r) => a + r.candles.length, 0), failed: 0 };
  });

  await run(`threadx ingest pipeline -> bank (concurrency ${concurrency})`, async (server) => {
    // The product end to end: plan from the registry, fetch, validate, merge, write Parquet
    // partitions, derive 1h, into a fresh bank.
    const dir = await mkdtemp(path.join(tmpdir(), 'threadx-bench-ingest-'));
    try {
      const bank = await Bank.open(dir);
      const config = ConfigSchema.parse({});
      const rest = new BinanceRestClient({ baseUrl: server.url, governor: new RateGovernor() });
      const summary = await runIngest(
        { bank, config, rest, archiveBaseUrl: server.archiveUrl },
        { symbols, intervals: ['1h'], start, end, source: 'rest', concurrency },
      );
      return {
        candles: summary.results.reduce((a, r) => a + r.rowsAdded, 0),
        failed: summary.results.filter((r) => !r.ok).length,
      };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  if (opts.ccxt ?? true) {
    const rateLimit = opts.ccxtRateLimit ?? 50;
    await run(`ccxt ${ccxtVersion()} (rateLimit ${rateLimit} ms)`, (server) =>
      ccxtJob(server, symbols, start, end, rateLimit, concurrency),
    );
  }
  return { limit, windowMs, symbols, days, rows };
}

async function warm(server: ReplayServer, symbol: string, start: number, end: number) {
  // Archive files are built from the same day cache the REST endpoint uses, without weight.
  for (let t = start; t < end; t += 86_400_000) {
    const key = new Date(t).toISOString().slice(0, 10);
    await (
      await fetch(
        `${server.archiveUrl}/data/spot/daily/klines/${symbol}/1m/${symbol}-1m-${key}.zip.CHECKSUM`,
      )
    ).arrayBuffer();
  }
}

function untilNextWindow(windowMs: number): Promise<void> {
  const wait = windowMs - (Date.now() % windowMs) + 5;
  return new Promise((r) => setTimeout(r, wait));
}

interface CcxtExchange {
  urls: { api: Record<string, string> };
  loadMarkets(): Promise<unknown>;
  fetchOHLCV(
    symbol: string,
    tf: string,
    since?: number,
    limit?: number,
    params?: object,
  ): Promise<number[][]>;
  close?: () => Promise<void>;
}

function loadCcxt(): { version: string; binance: new (cfg: object) => CcxtExchange } {
  const require = createRequire(new URL('./package.json', import.meta.url));
  return require('ccxt') as { version: string; binance: new (cfg: object) => CcxtExchange };
}

function ccxtVersion(): string {
  try {
    return loadCcxt().version;
  } catch {
    return '(not installed)';
  }
}

async function ccxtJob(
  server: ReplayServer,
  symbols: string[],
  start: number,
  end: number,
  rateLimit: number,
  concurrency: number,
): Promise<{ candles: number; failed: number }> {
  const ccxt = loadCcxt();
  const ex = new ccxt.binance({
    enableRateLimit: true,
    rateLimit,
    options: { defaultType: 'spot', fetchMarkets: { types: ['spot'] }, fetchCurrencies: false },
  });
  for (const [k, v] of Object.entries(ex.urls.api)) {
    if (v.startsWith('https://api.binance.com'))
      ex.urls.api[k] = v.replace('https://api.binance.com', server.url);
  }
  await ex.loadMarkets();
  const lim = pLimit(Math.max(1, Math.floor(concurrency / 2)));
  const counts = await Promise.all(
    symbols.map((s) =>
      lim(async () => {
        const market = `${s.slice(0, -4)}/${s.slice(-4)}`;
        try {
          // No `limit`: with one, ccxt trims the paginated result to it.
          const rows = await ex.fetchOHLCV(market, '1m', start, undefined, {
            paginate: true,
            paginationCalls: 100,
            until: end - 1,
          });
          return rows.filter((r) => r[0] >= start && r[0] < end).length;
        } catch {
          return -1;
        }
      }),
    ),
  );
  await ex.close?.();
  return {
    candles: counts.filter((n) => n > 0).reduce((a, b) => a + b, 0),
    failed: counts.filter((n) => n < 0).length,
  };
}

export function formatTable(r: BenchResult): string {
  const head = [
    'client',
    'seconds',
    'floor s',
    'x floor',
    'candles',
    'failed',
    'requests',
    'weight',
    'max/window',
    '429s',
    '418s',
  ];
  const lines = r.rows.map((x) => [
    x.name,
    x.seconds.toFixed(2),
    x.floorSeconds.toFixed(2),
    x.ratio.toFixed(3),
    String(x.candles),
    String(x.failed),
    String(x.requests),
    String(x.weight),
    `${x.maxUsedWeight}/${r.limit}`,
    String(x.count429),
    String(x.count418),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (l: string[]) =>
    l.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const peer = r.rows.find((x) => x.name.startsWith('ccxt'));
  const vs = peer
    ? r.rows
        .filter((x) => x !== peer)
        .map((x) => `\n${x.name} vs ccxt: ${(peer.seconds / x.seconds).toFixed(2)}x faster`)
        .join('')
    : '';
  return (
    `${r.symbols.length} symbols x ${r.days} days of 1m; limit ${r.limit} weight per ${r.windowMs / 1000} s ` +
    `(Binance's 6000/min rate, window shortened proportionally); latency 50-100 ms\n` +
    [fmt(head), ...lines.map(fmt)].join('\n') +
    vs
  );
}

const isMain =
  process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'));
if (isMain) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 ? process.argv[i + 1] : undefined;
  };
  const res = await benchIngest({
    symbols: arg('symbols') ? Number(arg('symbols')) : undefined,
    days: arg('days') ? Number(arg('days')) : undefined,
    concurrency: arg('concurrency') ? Number(arg('concurrency')) : undefined,
    windowSeconds: arg('window') ? Number(arg('window')) : undefined,
    ccxt: !process.argv.includes('--no-ccxt'),
    ccxtRateLimit: arg('ccxt-rate-limit') ? Number(arg('ccxt-rate-limit')) : undefined,
    log: (l) => console.error(l),
  });
  console.log(formatTable(res));
}
