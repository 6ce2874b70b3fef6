/**
 * `data/export` with `format`: the extension's "Export Dataset to Excel" and the data manager's
 * Excel button send this request; the daemon writes the workbook (or Parquet) under the same path
 * rules as CSV.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { messages } from '../../daemon/app/messages.ts';
import { ResponseError } from '../../daemon/rpc/client.ts';
import { ErrorCodes } from '../../schemas/protocol.ts';
import { JAN_2024, startHarness } from '../helpers/harness.ts';

test('data/export: xlsx and parquet with indicator columns; the extension must match the format', async () => {
  const h = await startHarness({ seed: { BTCUSDC: 2 } });
  const out = await mkdtemp(path.join(tmpdir(), 'threadx-export-'));
  try {
    const xlsx = path.join(out, 'btc-1h.xlsx');
    const r = await h.client.request(
      'data/export',
      {
        symbol: 'BTCUSDC',
        interval: '1h',
        out: xlsx,
        format: 'xlsx',
        indicators: [{ name: 'sma', params: { period: 3 } }],
      },
      { validate: true },
    );
    assert.equal(r.rows, 48);
    assert.equal((await stat(xlsx)).size, r.bytes);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile(xlsx);
    const ws = wb.worksheets[0];
    assert.equal(ws.rowCount, 49);
    assert.equal((ws.getCell('A2').value as Date).getTime(), JAN_2024);
    assert.equal(ws.getCell('L1').value, 'sma-3.sma');
    assert.equal(ws.getCell('L3').value, null);
    const closes = [2, 3, 4].map((row) => ws.getCell(`E${row}`).value as number);
    assert.ok(
      Math.abs((ws.getCell('L4').value as number) - (closes[0] + closes[1] + closes[2]) / 3) < 1e-9,
    );

    const parquet = await h.client.request('data/export', {
      symbol: 'BTCUSDC',
      interval: '4h',
      out: path.join(out, 'btc-4h.parquet'),
      format: 'parquet',
    });
    assert.equal(parquet.rows, 12);

    const wrong = await h.client
      .request('data/export', {
        symbol: 'BTCUSDC',
        interval: '1h',
        out: path.join(out, 'btc.csv'),
        format: 'xlsx',
      })
      .then(
        () => assert.fail('exported'),
        (e: ResponseError) => e,
      );
    assert.equal(wrong.rpcCode, ErrorCodes.InvalidParams);
    assert.deepEqual(wrong.data?.issues, [
      { path: ['out'], message: messages.exportExtension('xlsx') },
    ]);
  } finally {
    await h.close();
  }
});
