/**
 * Export of one dataset to a file a person opens: `exportFile` (the product: CSV, Parquet, and an
 * Excel workbook through exceljs's streaming writer) on a bank of synthetic 1m candles, and, for
 * the workbook, the lighter write-excel-file (fflate only) building the same sheet. Seconds and
 * the process's peak resident memory, one process per writer (peak memory is per process).
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { exportFile, type ExportFormat } from '../daemon/app/export-file.ts';
import { Bank } from '../daemon/store/bank.ts';
import { synth1m } from '../test/helpers/synth.ts';

export interface ExportRow {
  writer: string;
  rows: number;
  seconds: number;
  mb: number;
  peakRssMb: number;
}

const START = Date.UTC(2020, 0, 1);

/** One measurement, run in this process (`--one writer rows dir`). */
async function one(writer: string, rows: number, dir: string): Promise<ExportRow> {
  const bank = await Bank.open(path.join(dir, 'bank'));
  const out = path.join(dir, `out-${writer}.${writer === 'write-excel-file' ? 'xlsx' : writer}`);
  const t0 = performance.now();
  if (writer === 'write-excel-file') {
    const { default: writeXlsxFile } = (await import('write-excel-file/node' as string)) as {
      default: (data: unknown, opts: unknown) => { toFile(f: string): Promise<void> };
    };
    const c = await bank.read('BTCUSDT', '1m', -Infinity, Infinity);
    const num = (v: number) => ({ value: v, format: '#,##0.00######' });
    // The same eleven columns and formats as the product's workbook.
    const names = ['open', 'high', 'low', 'close', 'volume', 'quoteVolume', 'trades'] as const;
    const more = ['takerBuyBase', 'takerBuyQuote'] as const;
    const data: unknown[] = [
      ['timestamp (UTC)', ...names, ...more, 'filled'].map((v) => ({ value: v })),
    ];
    for (let i = 0; i < c.length; i++)
      data.push([
        { value: new Date(c.openTime[i]), format: 'yyyy-mm-dd hh:mm:ss' },
        ...names.map((k) => num(c[k][i])),
        ...more.map((k) => num(c[k][i])),
        { value: c.filled[i], format: '0' },
      ]);
    await writeXlsxFile(data, { stickyRowsCount: 1 }).toFile(out);
  } else {
    await exportFile(bank, {
      symbol: 'BTCUSDT',
      interval: '1m',
      start: -Infinity,
      end: Infinity,
      out,
      format: writer as ExportFormat,
    });
  }
  const seconds = (performance.now() - t0) / 1000;
  return {
    writer,
    rows,
    seconds,
    mb: (await stat(out)).size / 1e6,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
  };
}

export async function benchExport(opts: {
  rows: number;
  log: (l: string) => void;
}): Promise<ExportRow[]> {
  const dir = await mkdtemp(path.join(tmpdir(), 'threadx-bench-export-'));
  try {
    opts.log(`writing a bank of ${opts.rows} synthetic 1m candles`);
    const bank = await Bank.open(path.join(dir, 'bank'));
    await bank.write1m('BTCUSDT', synth1m(START, opts.rows, 7), 'bench');
    const out: ExportRow[] = [];
    for (const writer of ['csv', 'parquet', 'xlsx', 'write-excel-file']) {
      opts.log(`export ${writer}`);
      try {
        const text = execFileSync(
          process.execPath,
          [
            '--import',
            'tsx',
            fileURLToPath(import.meta.url),
            '--one',
            writer,
            String(opts.rows),
            dir,
          ],
          { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
        );
        out.push(JSON.parse(text) as ExportRow);
      } catch {
        opts.log(`${writer}: not measured (a peer missing? npm install in bench/)`);
      }
    }
    return out;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function formatExport(rows: ExportRow[]): string {
  const head = '| writer | rows | seconds | file MB | peak RSS MB |\n|---|---:|---:|---:|---:|';
  return [
    head,
    ...rows.map(
      (r) =>
        `| ${r.writer === 'xlsx' ? 'xlsx (exceljs, streaming)' : r.writer === 'write-excel-file' ? 'xlsx (write-excel-file, peer)' : r.writer} | ${r.rows} | ${r.seconds.toFixed(1)} | ${r.mb.toFixed(1)} | ${Math.round(r.peakRssMb)} |`,
    ),
  ].join('\n');
}

const argv = process.argv.slice(2);
if (argv[0] === '--one') {
  process.noDeprecation = true;
  const r = await one(argv[1], Number(argv[2]), argv[3]);
  process.stdout.write(JSON.stringify(r));
}
