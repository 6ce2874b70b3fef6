/**
 * Daemon benchmark, against the real bundled CLI over stdio (`node dist/cli.js serve --stdio`):
 *
 * - cold start: spawn to the `initialize` answer (goal < 300 ms);
 * - `registry/list` with 10 000 datasets: latency p50 / p99 (goal p99 < 10 ms);
 * - `data/read` of one year of 1m candles for a 2 000-point chart, with the served timeframe
 *   stored, and resampled from 1m on the fly (goal < 100 ms);
 * - small requests on one connection: sequential latency and pipelined throughput.
 *
 * Every figure is the median over `runs` runs. Run standalone with
 * `node esbuild.mjs && node --import tsx bench/daemon.ts [--runs 5]`.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ThreadxClient } from '../daemon/rpc/client.ts';
import { Bank } from '../daemon/store/bank.ts';
import { INTERVALS } from '../schemas/intervals.ts';
import { LAYOUT_VERSION, type DatasetEntry } from '../schemas/registry.ts';
import { synth1m } from '../test/helpers/synth.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const YEAR_START = Date.UTC(2023, 0, 1);

export interface DaemonBenchResult {
  runs: number;
  coldStartMs: number;
  registryList: { datasets: number; p50Ms: number; p99Ms: number; bySymbolP99Ms: number };
  dataRead: {
    rows1m: number;
    maxPoints: number;
    interval: string;
    storedMs: number;
    /** First read of a timeframe that is not stored: 1m decoded and resampled. */
    resampledColdMs: number;
    /** The same read again (served from the daemon's resample cache). */
    resampledWarmMs: number;
  };
  small: { sequentialP50Ms: number; pipelinedPerSecond: number };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
const round = (x: number, d = 2): number => Math.round(x * 10 ** d) / 10 ** d;

async function startDaemon(
  dataDir: string,
): Promise<{ client: ThreadxClient; ms: number; stop: () => Promise<void> }> {
  const t0 = performance.now();
  const child = spawn(process.execPath, [CLI, 'serve', '--stdio', '--data-dir', dataDir], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const client = ThreadxClient.overStreams(child.stdout, child.stdin);
  await client.initialize({ clientInfo: { name: 'bench' } });
  const ms = performance.now() - t0;
  return {
    client,
    ms,
    stop: async () => {
      const exited = new Promise((r) => child.once('exit', r));
      await client.stop();
      await exited;
    },
  };
}

/** A registry of `n` synthetic datasets (the registry is what registry/list serves). */
async function seedRegistry(dir: string, n: number): Promise<void> {
  const datasets: Record<string, DatasetEntry> = {};
  for (let i = 0; datasets && Object.keys(datasets).length < n; i++) {
    const symbol = `SYM${String(i).padStart(5, '0')}USDC`;
    for (const interval of INTERVALS) {
      if (Object.keys(datasets).length >= n) break;
      const id = `${symbol}/${interval}`;
      datasets[id] = {
        id,
        symbol,
        interval,
        kind: 'candles',
        files: [
          {
            path: `processed/${symbol}/${interval}.parquet`,
            sha256: 'a'.repeat(64),
            bytes: 123_456,
            rows: 1000,
            first: YEAR_START,
            last: YEAR_START + 999 * 60_000,
            gaps: [],
            filledCount: 0,
          },
        ],
        rows: 1000,
        first: YEAR_START,
        last: YEAR_START + 999 * 60_000,
        gaps: [{ start: YEAR_START + 60_000, end: YEAR_START + 120_000, missing: 1, filled: true }],
        filledCount: 1,
        source: ['bench'],
        updated: YEAR_START,
      };
    }
  }
  await writeFile(
    path.join(dir, 'registry.json'),
    JSON.stringify({ version: LAYOUT_VERSION, datasets, confirmedEmpty: {} }),
  );
}

export async function benchDaemon(
  opts: { runs?: number; log?: (l: string) => void } = {},
): Promise<DaemonBenchResult> {
  const runs = opts.runs ?? 5;
  const log = opts.log ?? (() => undefined);
  const tmp = await mkdtemp(path.join(tmpdir(), 'threadx-bench-daemon-'));
  try {
    // Cold start on an empty data dir.
    const starts: number[] = [];
    for (let i = 0; i < runs; i++) {
      const dir = path.join(tmp, `cold-${i}`);
      const d = await startDaemon(dir);
      starts.push(d.ms);
      await d.stop();
    }
    log(`cold start: ${starts.map((x) => x.toFixed(0)).join(', ')} ms`);

    // registry/list with 10 000 datasets.
    const regDir = path.join(tmp, 'registry');
    await Bank.open(regDir);
    await seedRegistry(regDir, 10_000);
    const p50s: number[] = [];
    const p99s: number[] = [];
    const bySymbol: number[] = [];
    for (let r = 0; r < runs; r++) {
      const d = await startDaemon(regDir);
      const lat: number[] = [];
      const first = await d.client.request('registry/list', {});
      if (first.datasets.length !== 10_000)
        throw new Error(`expected 10 000 datasets, got ${first.datasets.length}`);
      for (let i = 0; i < 200; i++) {
        const t = performance.now();
        await d.client.request('registry/list', {});
        lat.push(performance.now() - t);
      }
      p50s.push(pct(lat, 50));
      p99s.push(pct(lat, 99));
      const one: number[] = [];
      for (let i = 0; i < 200; i++) {
        const t = performance.now();
        await d.client.request('registry/list', {
          filter: { symbol: `SYM${String(i).padStart(5, '0')}USDC` },
        });
        one.push(performance.now() - t);
      }
      bySymbol.push(pct(one, 99));
      await d.stop();
    }
    log(`registry/list p99 per run: ${p99s.map((x) => x.toFixed(2)).join(', ')} ms`);

    // data/read: one year of 1m, a 2 000-point chart.
    const dataDir = path.join(tmp, 'data');
    const bank = await Bank.open(dataDir);
    const rows = 365 * 1440;
    await bank.write1m('BTCUSDC', synth1m(YEAR_START, rows, 7), 'bench');
    await bank.write1m('ETHUSDC', synth1m(YEAR_START, rows, 8), 'bench');
    await bank.derive('BTCUSDC', ['6h']);
    const stored: number[] = [];
    const cold: number[] = [];
    const warm: number[] = [];
    let served = '';
    for (let r = 0; r < runs; r++) {
      const d = await startDaemon(dataDir);
      const read = async (symbol: string): Promise<number> => {
        const t = performance.now();
        const res = await d.client.request('data/read', {
          symbol,
          interval: '1m',
          maxPoints: 2000,
        });
        served = res.interval;
        if (res.length === 0) throw new Error('empty read');
        return performance.now() - t;
      };
      stored.push(median([await read('BTCUSDC'), await read('BTCUSDC'), await read('BTCUSDC')]));
      cold.push(await read('ETHUSDC'));
      warm.push(median([await read('ETHUSDC'), await read('ETHUSDC'), await read('ETHUSDC')]));
      await d.stop();
    }

    // Small requests on one connection.
    const seq: number[] = [];
    const thr: number[] = [];
    for (let r = 0; r < runs; r++) {
      const d = await startDaemon(dataDir);
      const lat: number[] = [];
      for (let i = 0; i < 500; i++) {
        const t = performance.now();
        await d.client.request('symbols/groups', undefined);
        lat.push(performance.now() - t);
      }
      seq.push(pct(lat, 50));
      const N = 20_000;
      const t = performance.now();
      const window = 200;
      for (let i = 0; i < N; i += window) {
        await Promise.all(
          Array.from({ length: window }, () => d.client.request('symbols/groups', undefined)),
        );
      }
      thr.push(N / ((performance.now() - t) / 1000));
      await d.stop();
    }
    return {
      runs,
      coldStartMs: round(median(starts), 0),
      registryList: {
        datasets: 10_000,
        p50Ms: round(median(p50s)),
        p99Ms: round(median(p99s)),
        bySymbolP99Ms: round(median(bySymbol), 3),
      },
      dataRead: {
        rows1m: rows,
        maxPoints: 2000,
        interval: served,
        storedMs: round(median(stored), 1),
        resampledColdMs: round(median(cold), 1),
        resampledWarmMs: round(median(warm), 1),
      },
      small: {
        sequentialP50Ms: round(median(seq), 3),
        pipelinedPerSecond: Math.round(median(thr)),
      },
    };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

export function formatDaemonBench(r: DaemonBenchResult): string {
  const ok = (v: number, goal: number): string => (v < goal ? 'ok' : 'MISSED');
  const { registryList: l, dataRead: d } = r;
  return [
    `daemon over stdio (bundled CLI), medians of ${r.runs} runs; latencies are client-side round trips`,
    `  cold start to initialize answer      ${r.coldStartMs} ms  (goal < 300 ms: ${ok(r.coldStartMs, 300)})`,
    `  registry/list, all ${l.datasets} datasets  p50 ${l.p50Ms} ms, p99 ${l.p99Ms} ms  (goal p99 < 10 ms: ${ok(l.p99Ms, 10)})`,
    `  registry/list, one symbol             p99 ${l.bySymbolP99Ms} ms`,
    `  data/read 1y of 1m -> ${d.maxPoints} points (${d.interval})  stored ${d.storedMs} ms (goal < 100 ms: ${ok(d.storedMs, 100)})`,
    `    not stored: resampled from 1m ${d.resampledColdMs} ms on first read, ${d.resampledWarmMs} ms again`,
    `  small requests                        p50 ${r.small.sequentialP50Ms} ms sequential, ${r.small.pipelinedPerSecond} req/s pipelined`,
  ].join('\n');
}

const isMain =
  process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const i = process.argv.indexOf('--runs');
  const res = await benchDaemon({
    runs: i >= 0 ? Number(process.argv[i + 1]) : 5,
    log: (l) => process.stderr.write(`${l}\n`),
  });
  process.stdout.write(`${formatDaemonBench(res)}\n${JSON.stringify(res)}\n`);
}
