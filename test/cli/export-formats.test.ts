/**
 * `threadx export --format csv|xlsx|parquet`: the bundled CLI over a bank built from recorded
 * Binance files, each file read back with an independent reader (exceljs for the workbook, the
 * Parquet decoder, the CSV text), and a range too large for one sheet refused with commands that
 * fit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { openBank, loadConfig } from '../../daemon/app/bank.ts';
import { exportFile, XLSX_MAX_ROWS } from '../../daemon/app/export-file.ts';
import { decodeColumns } from '../../daemon/store/parquet.ts';
import { parseUtcDate } from '../../schemas/common.ts';
import { ThreadxError } from '../../schemas/errors.ts';
import { KLINES } from '../helpers/fixtures.ts';
import { ensureBuilt, runCli, tempDir } from '../faults/harness.ts';

test('export: csv, xlsx and parquet with indicator columns; too large for a sheet is refused with commands that fit', async () => {
  ensureBuilt();
  const work = await tempDir('threadx-export-');
  const dir = path.join(work, 'bank');
  const data = ['--data-dir', dir];
  const zips = ['14', '15'].map((d) =>
    path.join(KLINES, 'hal9000cc', `ETHUSDT-1m-2022-08-${d}.zip`),
  );
  const imported = await runCli(['import', ...zips, '--intervals', '1h', ...data], work);
  assert.equal(imported.code, 0, imported.stderr);
  const out = (ext: string) => path.join(work, `eth.${ext}`);
  const base = ['export', '--symbol', 'ETHUSDT', '--interval', '1h', ...data];
  for (const ext of ['csv', 'xlsx', 'parquet']) {
    const r = await runCli([...base, '--out', out(ext), '--indicators', 'rsi', '--json'], work);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '', 'nothing printed besides the result');
    assert.deepEqual(JSON.parse(r.stdout), {
      ok: true,
      rows: 48,
      out: out(ext),
      format: ext,
      bytes: (await fsp.stat(out(ext))).size,
    });
  }

  const csv = (await fsp.readFile(out('csv'), 'utf8')).trim().split('\n');
  assert.equal(
    csv[0],
    'timestamp,open,high,low,close,volume,quote_volume,trades,taker_buy_base,taker_buy_quote,filled,rsi-14.rsi',
  );
  assert.equal(csv.length, 49);
  const rsi = csv.map((l) => l.split(',')[11]);
  assert.equal(rsi[14], '', 'no RSI before its lookback of 14');
  assert.match(rsi[15], /^\d+\.\d+$/);

  // The workbook: typed UTC dates, the same numbers as the CSV, frozen header, number formats.
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.readFile(out('xlsx'));
  const ws = wb.worksheets[0];
  assert.equal(ws.name, 'ETHUSDT 1h');
  assert.equal(ws.rowCount, 49);
  assert.equal(ws.views[0]?.state, 'frozen');
  assert.equal((ws.views[0] as { ySplit?: number }).ySplit, 1);
  assert.equal(ws.getCell('A1').value, 'timestamp (UTC)');
  assert.equal(ws.getCell('L1').value, 'rsi-14.rsi');
  const a2 = ws.getCell('A2');
  assert.ok(a2.value instanceof Date);
  assert.equal((a2.value as Date).getTime(), parseUtcDate('2022-08-14'));
  assert.equal(a2.numFmt, 'yyyy-mm-dd hh:mm:ss');
  assert.equal(ws.getCell('B2').numFmt, '#,##0.00######');
  assert.equal(ws.getCell('H2').numFmt, '0');
  for (const [row, line] of csv.slice(1).entries()) {
    const cells = line.split(',');
    assert.equal(ws.getCell(row + 2, 2).value, Number(cells[1]));
    assert.equal(ws.getCell(row + 2, 6).value, Number(cells[5]));
    assert.equal(ws.getCell(row + 2, 12).value ?? '', cells[11] === '' ? '' : Number(cells[11]));
  }

  // Parquet: the timestamp axis and every column, indicators included.
  const pq = decodeColumns(await fsp.readFile(out('parquet')));
  assert.equal(pq.timestamp.length, 48);
  assert.equal(pq.timestamp[0], parseUtcDate('2022-08-14'));
  assert.equal(pq.columns.close[47], Number(csv[48].split(',')[4]));
  assert.ok(Number.isNaN(pq.columns['rsi-14.rsi'][13]));
  assert.equal(pq.columns['rsi-14.rsi'][20], Number(rsi[21]));

  // --format and the file's extension must agree; a bad format names the formats.
  const mismatch = await runCli([...base, '--out', out('csv'), '--format', 'xlsx'], work);
  assert.equal(mismatch.code, 2);
  assert.match(mismatch.stderr, /The output file of an xlsx export must end with \.xlsx\./);
  const unknown = await runCli([...base, '--out', out('json')], work);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /does not end with \.csv, \.xlsx or \.parquet/);

  // One sheet's rows: refused with the size and commands that fit, nothing written. (Excel's
  // real limit is asserted; the refusal is exercised with a small sheet.)
  assert.equal(XLSX_MAX_ROWS, 1_048_576);
  const { config } = await loadConfig(work);
  const bank = await openBank(dir, config);
  const big = path.join(work, 'eth-1m.xlsx');
  const q = {
    symbol: 'ETHUSDT',
    interval: '1m' as const,
    start: -Infinity,
    end: Infinity,
    out: big,
    format: 'xlsx' as const,
  };
  const refused = await exportFile(bank, q, 1000).then(
    () => assert.fail('exported'),
    (e: unknown) => e as ThreadxError,
  );
  assert.equal(refused.code, 'INVALID_RANGE');
  assert.match(
    refused.message,
    /ETHUSDT 1m has 2,880 candles in this range: one Excel sheet holds 999 rows/,
  );
  assert.equal(refused.details.rows, 2880);
  await assert.rejects(fsp.stat(big), /ENOENT/);
  const commands = [...(refused.hint ?? '').matchAll(/"(threadx export [^"]+)"/g)].map((m) =>
    m[1].split(' '),
  );
  assert.equal(commands.length, 2);
  assert.deepEqual(
    commands[0].slice(commands[0].indexOf('--interval'), commands[0].indexOf('--interval') + 2),
    ['--interval', '3m'],
  );
  // The second keeps the interval and narrows the range to the last 999 candles: it fits.
  const arg = (c: string[], k: string) => c[c.indexOf(k) + 1];
  const fitted = await exportFile(
    bank,
    {
      ...q,
      start: parseUtcDate(arg(commands[1], '--start')),
      end: parseUtcDate(arg(commands[1], '--end')),
    },
    1000,
  );
  assert.equal(fitted.rows, 999);
  const wb2 = new ExcelJS.Workbook();
  await wb2.xlsx.readFile(big);
  assert.equal(wb2.worksheets[0].rowCount, 1000);
  assert.equal(
    (wb2.worksheets[0].getCell('A1000').value as Date).getTime(),
    parseUtcDate('2022-08-15T23:59Z'),
  );
});
