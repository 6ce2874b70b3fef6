/**
 * Watch benchmark, against the real bundled CLI (`node dist/cli.js watch --top N --json`) and the
 * replay exchange on the real clock, with stream faults on (finals dropped, late and duplicated,
 * one socket cut):
 *
 * - from a kline's close at the exchange to the minute reported stored (on disk, fsync'd), and to
 *   the minute readable by another reader of the bank (a fresh read of the tail from disk every
 *   100 ms): p50 / p99;
 * - the watcher process's CPU (share of one core) and peak memory while following N symbols;
 * - the REST weight it spends per hour (catch-up excluded) against the exchange's limit.
 *
 * Run standalone with `node esbuild.mjs && node --import tsx bench/watch.ts [--minutes 3] [--symbols 100]`.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startReplayServer } from '../daemon/replay/server.ts';
import { Tails } from '../daemon/store/tail.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const MIN = 60_000;

export interface WatchBenchResult {
  symbols: number;
  minutes: number;
  samples: number;
  storedP50Ms: number;
  storedP99Ms: number;
  readableP50Ms: number;
  readableP99Ms: number;
  fromRest: number;
  cpuShare: number;
  peakRssMb: number;
  restWeightPerHour: number;
  weightLimitPerHour: number;
  faults: Record<string, number>;
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] : NaN;
};

/** utime + stime of a process, in ms (Linux /proc). */
function cpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const parts = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return ((Number(parts[11]) + Number(parts[12])) * 1000) / 100;
}

function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

export async function benchWatch(opts: {
  minutes: number;
  symbols: number;
  log?: (l: string) => void;
}): Promise<WatchBenchResult> {
  const server = await startReplayServer({
    latencyMs: { min: 20, max: 50 },
    faults: [
      { kind: 'wsDropFinal', probability: 0.03 },
      { kind: 'wsLateFinal', probability: 0.03, delayMs: 2000 },
      { kind: 'wsDuplicateFinal', probability: 0.03 },
      { kind: 'wsCut', after: 150, count: 1 },
    ],
  });
  const work = await mkdtemp(path.join(tmpdir(), 'threadx-bench-watch-'));
  const dataDir = path.join(work, 'data');
  // Streamed minutes are checked against REST every minute here (ten times the default).
  await writeFile(path.join(work, 'threadx.toml'), '[watch]\nreconcile_seconds = 60\n');
  const start = new Date(Math.floor(Date.now() / MIN) * MIN - 2 * MIN).toISOString();
  const child = spawn(
    process.execPath,
    [
      CLI,
      'watch',
      '--top',
      String(opts.symbols),
      '--start',
      start,
      '--intervals',
      '5m,1h',
      '--base-url',
      server.url,
      '--archive-url',
      server.archiveUrl,
      '--ws-url',
      server.wsUrl,
      '--data-dir',
      dataDir,
      '--json',
    ],
    { cwd: work, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const stored: number[] = [];
  let fromRest = 0;
  let followFrom = 0;
  let cpuAtFollow = 0;
  let weightAtFollow = 0;
  let restWeight = 0;
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((r) => (resolveDone = r));
  createInterface({ input: child.stdout }).on('line', (line) => {
    const e = JSON.parse(line) as Record<string, number | string>;
    if (e.event === 'connected' && followFrom === 0) {
      followFrom = Date.now();
      cpuAtFollow = cpuMs(child.pid!);
      // Followed for `minutes` minute closes, and a few seconds for the last one's stragglers.
      setTimeout(resolveDone, opts.minutes * MIN + 8000);
    }
    if (e.event === 'lag' && weightAtFollow === 0) weightAtFollow = Number(e.restWeight);
    if (e.event === 'stopped') restWeight = Number(e.restWeight);
    if (e.event === 'stored' && followFrom > 0 && Number(e.openTime) + MIN > followFrom) {
      stored.push(Number(e.latencyMs));
      if (e.source === 'rest') fromRest++;
    }
  });
  // Another reader: the tail as a fresh load from disk sees it, every 100 ms.
  const seen = new Map<string, number>();
  const readable: number[] = [];
  let polling = true;
  const poll = (async () => {
    // One read after another (never overlapping), 100 ms apart.
    while (polling) {
      const t = await Tails.load(dataDir).catch(() => undefined);
      const now = Date.now();
      for (const s of t?.symbols() ?? []) {
        const c = t!.read(s);
        for (let i = 0; i < c.length; i++) {
          const key = `${s}/${c.openTime[i]}`;
          if (seen.has(key) || followFrom === 0 || c.openTime[i] + MIN <= followFrom) continue;
          seen.set(key, now);
          readable.push(now - (c.openTime[i] + MIN));
        }
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const timeout = setTimeout(resolveDone, (opts.minutes + 5) * MIN);
  await done;
  clearTimeout(timeout);
  polling = false;
  await poll;
  const followMs = Date.now() - followFrom;
  const cpu = cpuMs(child.pid!) - cpuAtFollow;
  const rss = peakRssMb(child.pid!);
  child.kill('SIGTERM');
  await closed;
  const stats = server.stats;
  await server.close();
  await rm(work, { recursive: true, force: true });
  opts.log?.(`watch: ${stored.length} minutes stored, ${fromRest} by REST`);
  return {
    symbols: opts.symbols,
    minutes: Math.round(followMs / 6000) / 10,
    samples: stored.length,
    storedP50Ms: pct(stored, 50),
    storedP99Ms: pct(stored, 99),
    readableP50Ms: pct(readable, 50),
    readableP99Ms: pct(readable, 99),
    fromRest,
    cpuShare: cpu / followMs,
    peakRssMb: rss,
    restWeightPerHour: ((restWeight - weightAtFollow) * 3_600_000) / followMs,
    weightLimitPerHour: 6000 * 60,
    faults: stats.faults,
  };
}

export function formatWatchBench(r: WatchBenchResult): string {
  const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
  return [
    `| measure (${r.symbols} symbols, ${r.minutes} min, ${r.samples} minutes) | p50 | p99 |`,
    '| --- | --- | --- |',
    `| kline close -> stored (fsync'd, reported) | ${s(r.storedP50Ms)} | ${s(r.storedP99Ms)} |`,
    `| kline close -> readable by another reader (tail read from disk, 100 ms poll) | ${s(r.readableP50Ms)} | ${s(r.readableP99Ms)} |`,
    '',
    `minutes fetched by REST (dropped or late finals): ${r.fromRest}; faults fired: ${JSON.stringify(r.faults)}`,
    `watcher CPU ${(r.cpuShare * 100).toFixed(1)} % of one core, peak RSS ${r.peakRssMb.toFixed(0)} MB`,
    `REST weight per hour while following: ${Math.round(r.restWeightPerHour)} (${((r.restWeightPerHour / r.weightLimitPerHour) * 100).toFixed(2)} % of the ${r.weightLimitPerHour} limit)`,
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const arg = (name: string, def: number): number => {
    const i = process.argv.indexOf(name);
    return i > 0 ? Number(process.argv[i + 1]) : def;
  };
  const r = await benchWatch({
    minutes: arg('--minutes', 3),
    symbols: arg('--symbols', 100),
    log: (l) => process.stderr.write(`  ${l}\n`),
  });
  process.stdout.write(`${formatWatchBench(r)}\n`);
}
