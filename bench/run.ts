/**
 * `npm run bench`: every benchmark in one run, side by side with the peers named in the issues,
 * as ratios; medians of several runs (the machine is shared and noisy).
 *
 *   npm run bench                      everything at full size
 *   npm run bench -- --quick           smaller inputs, fewer runs (a few minutes)
 *   npm run bench -- --only resample,ingest
 *   npm run bench -- --only import      full history by import (no peer install needed)
 *
 * The peers (nodejs-polars, DuckDB, the talib binding, technicalindicators, trading-signals,
 * ccxt) live in bench/package.json, installed here on first use, so the product never
 * depends on them.
 */
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const onlyArg = args.includes('--only') ? args[args.indexOf('--only') + 1].split(',') : null;
const want = (name: string): boolean => !onlyArg || onlyArg.includes(name);
const log = (l: string): void => void process.stderr.write(`  ${l}\n`);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// The import section needs no peer from bench/package.json (DuckDB is a dev dependency).
const onlyImport = onlyArg?.length === 1 && onlyArg[0] === 'import';
if (!onlyImport && !existsSync(`${here}node_modules/nodejs-polars`)) {
  process.stderr.write('installing benchmark peers into bench/node_modules ...\n');
  execFileSync('npm', ['install', '--no-audit', '--no-fund'], { cwd: here, stdio: 'inherit' });
}

// Each section runs in a process of its own: a library loaded by one section (Polars, DuckDB,
// technicalindicators) measurably slows the plain loops measured in another.
if (!onlyArg) {
  const sections = [
    'resample',
    'indicators',
    'ingest',
    'futures',
    'import',
    'daemon',
    'export',
    'watch',
  ];
  const t0 = performance.now();
  process.stdout.write(
    `ThreadX Data benchmarks (${quick ? 'quick' : 'full'}), node ${process.version}, ${new Date().toISOString()}\n`,
  );
  for (const section of sections) {
    execFileSync(
      process.execPath,
      [
        '--import',
        'tsx',
        fileURLToPath(import.meta.url),
        '--only',
        section,
        '--section',
        ...(quick ? ['--quick'] : []),
      ],
      { stdio: 'inherit' },
    );
  }
  process.stdout.write(`\nbench finished in ${Math.round((performance.now() - t0) / 1000)} s\n`);
  process.exit(0);
}
const isSection = args.includes('--section');

const started = performance.now();
if (!isSection)
  process.stdout.write(
    `ThreadX Data benchmarks (${quick ? 'quick' : 'full'}), node ${process.version}, ${new Date().toISOString()}\n`,
  );

if (want('resample')) {
  const { benchResample, formatResample } = await import('./resample.ts');
  process.stdout.write(
    '\n## Resample (1m -> 1h, 1d, all derived) and Parquet, vs nodejs-polars and DuckDB\n',
  );
  const r = await benchResample({ runs: quick ? 3 : 5, years: quick ? [1] : [1, 10], log });
  process.stdout.write(`${formatResample(r)}\n`);
}

if (want('indicators')) {
  const { benchIndicators, formatIndicatorTable, TEN_YEARS_1M } = await import('./indicators.ts');
  const rows = quick ? 1_000_000 : TEN_YEARS_1M;
  process.stdout.write(
    `\n## Indicators on ${rows} 1m rows, vs TA-Lib C, the talib binding, technicalindicators, trading-signals\n`,
  );
  const r = await benchIndicators({
    rows,
    runs: quick ? 3 : 5,
    slowRows: quick ? 200_000 : 500_000,
  });
  process.stdout.write(`${formatIndicatorTable(r, rows)}\n`);
}

if (want('ingest')) {
  const { benchIngest, formatTable } = await import('./ingest.ts');
  const runs = quick ? 1 : 3;
  process.stdout.write(
    `\n## Ingest vs the rate-limit floor and a ccxt downloader (replay exchange, 50-100 ms latency); median of ${runs} run(s)\n`,
  );
  const results: Awaited<ReturnType<typeof benchIngest>>[] = [];
  for (let i = 0; i < runs; i++)
    results.push(await benchIngest({ symbols: quick ? 6 : 12, days: 30, log }));
  const rows = results[0].rows.map((row, j) => {
    const all = results.map((r) => r.rows[j]);
    const seconds = median(all.map((x) => x.seconds));
    return {
      ...row,
      seconds,
      ratio: seconds / row.floorSeconds,
      count429: Math.max(...all.map((x) => x.count429)),
      count418: Math.max(...all.map((x) => x.count418)),
      failed: Math.max(...all.map((x) => x.failed)),
    };
  });
  process.stdout.write(`${formatTable({ ...results[0], rows })}\n`);
  process.stdout.write('(429s, 418s and failures: the worst run)\n');
}

if (want('import')) {
  const { benchImport, formatImport } = await import('./import.ts');
  const months = quick ? 24 : 96;
  const runs = quick ? 1 : 3;
  process.stdout.write(
    `\n## Full history by import (${months} monthly 1m archives of one symbol), vs unzip -p and DuckDB read_csv; median of ${runs} run(s)\n`,
  );
  process.stdout.write(`${formatImport(await benchImport({ months, runs, log }))}\n`);
}

if (want('futures')) {
  const { benchFutures, formatFutures } = await import('./futures.ts');
  process.stdout.write(
    '\n## Futures: a month of 1m for USD-M perpetuals at 499 vs 1000 klines a request, against the weight floor\n',
  );
  const r = await benchFutures({ symbols: quick ? 6 : 20, days: 30, log });
  process.stdout.write(`${formatFutures(r)}\n`);
}

if (want('daemon')) {
  const { benchDaemon, formatDaemonBench } = await import('./daemon.ts');
  process.stdout.write(
    '\n## Daemon: cold start, registry/list with 10 000 datasets, data/read, small requests\n',
  );
  const r = await benchDaemon({ runs: quick ? 3 : 5, log });
  process.stdout.write(`${formatDaemonBench(r)}\n`);
}

if (want('export')) {
  const { benchExport, formatExport } = await import('./export.ts');
  const rows = quick ? 100_000 : 500_000;
  process.stdout.write(
    `\n## Export of ${rows} 1m candles: CSV, Parquet, Excel (exceljs streaming) vs write-excel-file\n`,
  );
  process.stdout.write(`${formatExport(await benchExport({ rows, log }))}\n`);
}

if (want('watch')) {
  const { benchWatch, formatWatchBench } = await import('./watch.ts');
  const minutes = quick ? 2 : 3;
  process.stdout.write(
    `\n## Watch: kline close to stored and to readable, CPU, memory, REST weight (replay exchange, real clock, stream faults on, ${minutes} min)\n`,
  );
  const r = await benchWatch({ minutes, symbols: 100, log });
  process.stdout.write(`${formatWatchBench(r)}\n`);
}

if (!isSection)
  process.stdout.write(
    `\nbench finished in ${Math.round((performance.now() - started) / 1000)} s\n`,
  );
