/** Files are read bit-exactly by DuckDB, with a time-zone-aware UTC timestamp. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { Bank } from '../../daemon/store/bank.ts';
import { loadKlines } from '../helpers/fixtures.ts';

test('duckdb reads our Parquet bit-exactly: types, timestamps, every value', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'threadx-duck-'));
  const bank = await Bank.open(dir);
  const eth = loadKlines('hal9000cc/ETHUSDT-1m-2022-08-14.zip');
  await bank.write1m('ETHUSDT', eth, 'test');
  const file = path.join(dir, bank.get('ETHUSDT', '1m')!.files[0].path);
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  const types = await con.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${file}')`);
  const typeOf = Object.fromEntries(
    types.getRowObjects().map((r) => [String(r.column_name), String(r.column_type)]),
  );
  assert.equal(typeOf.timestamp, 'TIMESTAMP WITH TIME ZONE');
  for (const c of [
    'open',
    'high',
    'low',
    'close',
    'volume',
    'quote_volume',
    'trades',
    'taker_buy_base',
    'taker_buy_quote',
  ])
    assert.equal(typeOf[c], 'DOUBLE', c);
  const res = await con.runAndReadAll(
    `SELECT epoch_ms(timestamp) AS t, open, high, low, close, volume, quote_volume, taker_buy_quote FROM read_parquet('${file}') ORDER BY timestamp`,
  );
  const rows = res.getRows();
  assert.equal(rows.length, eth.length);
  for (let i = 0; i < eth.length; i++) {
    const r = rows[i];
    assert.equal(Number(r[0]), eth.openTime[i]);
    assert.equal(r[1], eth.open[i]);
    assert.equal(r[2], eth.high[i]);
    assert.equal(r[3], eth.low[i]);
    assert.equal(r[4], eth.close[i]);
    assert.equal(r[5], eth.volume[i]);
    assert.equal(r[6], eth.quoteVolume[i]);
    assert.equal(r[7], eth.takerBuyQuote[i]);
  }
  const kv = await con.runAndReadAll(
    `SELECT decode(key) AS k, decode(value) AS v FROM parquet_kv_metadata('${file}')`,
  );
  const meta = kv.getRowObjects().find((r) => r.k === 'threadx');
  assert.ok(meta, 'threadx metadata present');
  assert.equal(JSON.parse(String(meta.v)).symbol, 'ETHUSDT');
  con.closeSync();
  await rm(dir, { recursive: true });
});
