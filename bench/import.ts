/**
 * Full history by import: one symbol's 96 monthly 1m archive zips (8 years, about 4.2 M rows)
 * imported by the CLI as a whole process (`threadx import`), beside the floor of reading the
 * same zips (`unzip -p`) and DuckDB's `read_csv` of the same CSVs into month-partitioned
 * Parquet. Wall time and peak RSS from `/usr/bin/time`; medians of several runs.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { monthlyArchives } from './archives.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export interface ImportRow {
  name: string;
  seconds: number;
  rssMb: number | null;
  rowsPerSecond: number | null;
}

/** Wall seconds and peak RSS (MB) of a whole process. */
function timed(cmd: string, args: string[]): { seconds: number; rssMb: number } {
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', cmd, ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  const seconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr.slice(-2000)}`);
  const kb = Number(r.stderr.trim().split('\n').at(-1));
  return { seconds, rssMb: Math.round(kb / 1024) };
}

export async function benchImport(opts: {
  months: number;
  runs: number;
  log: (l: string) => void;
}): Promise<{ rows: number; table: ImportRow[] }> {
  const dir = path.join(tmpdir(), `threadx-bench-archives-${opts.months}`);
  opts.log(`archives in ${dir} (built once)`);
  const zips = monthlyArchives(dir, opts.months);
  const csvDir = `${dir}-csv`;
  if (!existsSync(csvDir) || readdirSync(csvDir).length < zips.length) {
    mkdirSync(csvDir, { recursive: true });
    for (const z of zips) execFileSync('unzip', ['-o', '-q', z, '-d', csvDir]);
  }
  const csvs = readdirSync(csvDir)
    .filter((f) => f.endsWith('.csv'))
    .sort()
    .map((f) => path.join(csvDir, f));
  if (!existsSync(path.join(root, 'dist/cli.js')))
    execFileSync(process.execPath, ['esbuild.mjs'], { cwd: root, stdio: 'inherit' });
  const cli = path.join(root, 'dist/cli.js');
  const bank = path.join(tmpdir(), `threadx-bench-import-${process.pid}`);
  const rows = Number(
    execFileSync('sh', ['-c', `cat ${JSON.stringify(csvDir)}/*.csv | wc -l`], { encoding: 'utf8' }),
  );
  const run = (name: string, once: () => { seconds: number; rssMb: number | null }): ImportRow => {
    const all: { seconds: number; rssMb: number | null }[] = [];
    for (let i = 0; i < opts.runs; i++) {
      rmSync(bank, { recursive: true, force: true });
      all.push(once());
      opts.log(`${name}: ${all.at(-1)!.seconds.toFixed(2)} s`);
    }
    rmSync(bank, { recursive: true, force: true });
    const seconds = median(all.map((x) => x.seconds));
    const rss = all.map((x) => x.rssMb).filter((x): x is number => x !== null);
    return {
      name,
      seconds,
      rssMb: rss.length ? median(rss) : null,
      rowsPerSecond: Math.round(rows / seconds),
    };
  };
  const table: ImportRow[] = [];
  table.push(
    run('unzip -p (read the zips: the floor)', () =>
      timed('sh', [
        '-c',
        `for z in ${JSON.stringify(dir)}/*.zip; do unzip -p "$z"; done > /dev/null`,
      ]),
    ),
  );
  const threadx = (files: string[], intervals: string[]) => () =>
    timed(process.execPath, [
      cli,
      'import',
      '--data-dir',
      bank,
      ...(intervals.length ? ['--intervals', intervals.join(',')] : []),
      '--json',
      ...files,
    ]);
  table.push(run('threadx import, zips, 1m', threadx(zips, [])));
  table.push(run('threadx import, zips, 1m + 1h, 4h, 1d', threadx(zips, ['1h', '4h', '1d'])));
  table.push(run('threadx import, CSVs, 1m', threadx(csvs, [])));
  // DuckDB in this process (its own threads): read_csv of the CSVs, COPY to month partitions.
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  const list = `[${csvs.map((f) => `'${f}'`).join(',')}]`;
  const duck: number[] = [];
  for (let i = 0; i < opts.runs; i++) {
    rmSync(bank, { recursive: true, force: true });
    mkdirSync(bank, { recursive: true });
    const t0 = performance.now();
    await con.run(
      `COPY (SELECT *, strftime(make_timestamp(CAST(column00 AS BIGINT) * 1000), '%Y-%m') AS month FROM read_csv(${list}, header = false)) TO '${bank}/duck' (FORMAT parquet, PARTITION_BY (month), COMPRESSION zstd)`,
    );
    duck.push((performance.now() - t0) / 1000);
    opts.log(`DuckDB: ${duck.at(-1)!.toFixed(2)} s`);
  }
  rmSync(bank, { recursive: true, force: true });
  const ds = median(duck);
  table.push({
    name: 'DuckDB read_csv -> Parquet partitioned by month (in process)',
    seconds: ds,
    rssMb: null,
    rowsPerSecond: Math.round(rows / ds),
  });
  writeFileSync(path.join(tmpdir(), 'threadx-bench-import.json'), JSON.stringify(table));
  return { rows, table };
}

export function formatImport(r: { rows: number; table: ImportRow[] }): string {
  const floor = r.table[0].seconds;
  const duck = r.table.at(-1)!.seconds;
  const csv = r.table.find((x) => x.name.includes('CSVs'))!;
  const lines = [
    `${r.rows} rows`,
    '| case | wall s | x unzip -p | peak RSS MB | rows/s |',
    '|---|---|---|---|---|',
    ...r.table.map(
      (x) =>
        `| ${x.name} | ${x.seconds.toFixed(2)} | ${(x.seconds / floor).toFixed(2)} | ${x.rssMb ?? '-'} | ${x.rowsPerSecond ?? '-'} |`,
    ),
    `import of CSVs / DuckDB: ${(csv.seconds / duck).toFixed(2)}x`,
  ];
  return lines.join('\n');
}
