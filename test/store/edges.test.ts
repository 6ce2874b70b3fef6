import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Bank } from '../../daemon/store/bank.ts';
import { compareCandles, resample } from '../../daemon/engine/resample.ts';
import { allocCandles, FLOAT_COLUMNS, sliceCandles, type Candles } from '../../schemas/candles.ts';
import { loadKlines } from '../helpers/fixtures.ts';

const tmp = (): Promise<string> => mkdtemp(path.join(tmpdir(), 'threadx-edges-'));
const T = (iso: string): number => Date.parse(iso);
const has = (c: Candles, iso: string): boolean => c.openTime.indexOf(T(iso)) >= 0;
const FOUR = ['1h', '1d', '1w', '1M'] as const;
/** Binance's 2023-03-24 outage in the ETH fixture, as ingest or an archive import confirms it. */
const OUTAGE: [number, number] = [T('2023-03-24T12:40Z'), T('2023-03-24T14:00Z')];

/** The candles that are not filled (the flagged ones are the bank's, never the exchange's). */
function real(c: Candles): Candles {
  const keep: number[] = [];
  for (let i = 0; i < c.length; i++) if (c.filled[i] === 0) keep.push(i);
  const out = allocCandles(keep.length);
  keep.forEach((i, k) => {
    out.openTime[k] = c.openTime[i];
    for (const col of FLOAT_COLUMNS) out[col][k] = c[col][i];
  });
  out.length = keep.length;
  return out;
}

test('edges: real ETH 2023-03-16 22:15 .. 05-01 21:01: only whole buckets are candles, the outage hour and day stay', async () => {
  const dir = await tmp();
  const bank = await Bank.open(dir, { maxGapFillMinutes: 240 });
  const eth = loadKlines('freqtrade_andresciancio/ETH_USDT-1m.json.gz');
  await bank.addConfirmedEmpty('ETHUSDT', [OUTAGE]);
  await bank.write1m('ETHUSDT', eth, 'test');
  await bank.derive('ETHUSDT', [...FOUR]);

  const h = await bank.read('ETHUSDT', '1h');
  assert.equal(h.openTime[0], T('2023-03-16T23:00Z'), 'the 22:00 hour began before the history');
  assert.equal(h.openTime[h.length - 1], T('2023-05-01T20:00Z'), 'the 21:00 hour is running');
  assert.ok(has(h, '2023-03-24T12:00Z'), 'the outage 12:00 hour is a candle');
  // 12:40..13:59 were filled (the gap is under the 4-hour limit): the 13:00 hour, all of it
  // filled minutes, is a filled candle too, flagged like them (the exchange has no such hour).
  const thirteen = h.openTime.indexOf(T('2023-03-24T13:00Z'));
  assert.ok(thirteen > 0, 'the filled 13:00 hour is a flagged candle');
  assert.equal(h.filled[thirteen], 1);
  assert.equal(h.volume[thirteen], 0);
  assert.equal(h.open[thirteen], h.close[thirteen - 1], 'flat at the close before the hole');
  assert.equal(
    h.filled.subarray(0, h.length).reduce((a, b) => a + b, 0),
    1,
  );
  assert.equal(bank.get('ETHUSDT', '1h')!.filledCount, 1);
  assert.deepEqual(bank.get('ETHUSDT', '1h')!.gaps, [], 'a filled hour is not a gap');
  assert.deepEqual(bank.get('ETHUSDT', '1h')!.pending, [
    T('2023-03-16T22:00Z'),
    T('2023-05-01T21:00Z'),
  ]);

  // Every stored hour equals Binance's own 12-column candle where both exist.
  const native = loadKlines('chainertrader/ETHUSDT-1h-202301-202401.csv.gz');
  const lo = h.openTime[0];
  const hi = h.openTime[h.length - 1] + 3_600_000;
  const nat = sliceCandles(
    native,
    native.openTime.findIndex((t) => t >= lo),
    native.openTime.findIndex((t) => t >= hi),
  );
  const cmp = compareCandles(nat, real(h), {
    columns: ['open', 'high', 'low', 'close', 'volume'],
  });
  assert.equal(cmp.total, 0, JSON.stringify(cmp.diffs.slice(0, 3)));

  const d = await bank.read('ETHUSDT', '1d');
  assert.ok(has(d, '2023-03-24T00:00Z'), 'the outage day is a candle');
  assert.equal(d.openTime[0], T('2023-03-17T00:00Z'));
  assert.equal(d.openTime[d.length - 1], T('2023-04-30T00:00Z'));
  const nd = loadKlines('chainertrader/ETHUSDT-1d-2023-03-18_04-30.excerpt.csv');
  const dd = sliceCandles(d, 1, d.length); // 03-18 .. 04-30
  const dcmp = compareCandles(nd, dd, { columns: ['open', 'high', 'low', 'close', 'volume'] });
  assert.equal(dcmp.total, 0, JSON.stringify(dcmp.diffs.slice(0, 3)));

  // The history starts on a Thursday: that week is not a candle; nor is March (from the 16th) or May.
  const w = await bank.read('ETHUSDT', '1w');
  assert.equal(w.openTime[0], T('2023-03-20T00:00Z'));
  assert.equal(w.openTime[w.length - 1], T('2023-04-24T00:00Z'));
  assert.deepEqual(bank.get('ETHUSDT', '1w')!.pending, [
    T('2023-03-13T00:00Z'),
    T('2023-05-01T00:00Z'),
  ]);
  const m = await bank.read('ETHUSDT', '1M');
  assert.deepEqual([...m.openTime], [T('2023-04-01T00:00Z')]);
  assert.equal(bank.get('ETHUSDT', '1M')!.pending?.length, 2);

  // Registry rows, first and last are the file's, and check finds nothing to re-derive.
  for (const iv of FOUR) {
    const e = bank.get('ETHUSDT', iv)!;
    const c = await bank.read('ETHUSDT', iv);
    assert.equal(e.rows, c.length, iv);
    assert.equal(e.first, c.openTime[0], iv);
    assert.equal(e.last, c.openTime[c.length - 1], iv);
    assert.equal((await bank.checkConsistency('ETHUSDT', iv)).total, 0, iv);
  }
  await rm(dir, { recursive: true });
});

test('edges: extending forwards then backwards turns pending buckets into candles, equal to one full derive', async () => {
  const dir = await tmp();
  const bank = await Bank.open(dir, { maxGapFillMinutes: 240 });
  const eth = loadKlines('freqtrade_andresciancio/ETH_USDT-1m.json.gz');
  await bank.addConfirmedEmpty('ETHUSDT', [OUTAGE]);
  const a = eth.openTime.indexOf(T('2023-04-05T09:30Z')); // a Wednesday, mid-hour
  const b = eth.openTime.indexOf(T('2023-04-12T13:17Z'));
  await bank.write1m('ETHUSDT', sliceCandles(eth, a, b), 'mid');
  await bank.derive('ETHUSDT', ['15m', ...FOUR]);
  assert.equal(bank.get('ETHUSDT', '1w')!.rows, 0, 'no whole week yet');
  assert.equal(bank.get('ETHUSDT', '1w')!.pending?.length, 2);
  // Forwards, then backwards, each with the incremental derive ingest uses.
  await bank.write1m('ETHUSDT', sliceCandles(eth, b, eth.length), 'fwd');
  await bank.derive(
    'ETHUSDT',
    ['15m', ...FOUR],
    [eth.openTime[b], eth.openTime[eth.length - 1] + 60_000],
  );
  await bank.write1m('ETHUSDT', sliceCandles(eth, 0, a), 'back');
  await bank.derive('ETHUSDT', ['15m', ...FOUR], [eth.openTime[0], eth.openTime[a]]);

  const ref = await Bank.open(await tmp(), { maxGapFillMinutes: 240 });
  await ref.addConfirmedEmpty('ETHUSDT', [OUTAGE]);
  await ref.write1m('ETHUSDT', eth, 'all');
  await ref.derive('ETHUSDT', ['15m', ...FOUR]);
  for (const iv of ['15m', ...FOUR] as const) {
    const got = await bank.read('ETHUSDT', iv);
    const want = await ref.read('ETHUSDT', iv);
    assert.equal(compareCandles(want, got).total, 0, iv);
    assert.equal(bank.get('ETHUSDT', iv)!.rows, want.length, iv);
    assert.deepEqual(bank.get('ETHUSDT', iv)!.pending, ref.get('ETHUSDT', iv)!.pending, iv);
  }
  assert.equal((await bank.read('ETHUSDT', '1w')).length, 6); // 03-20 .. 04-24
  await rm(dir, { recursive: true });
  await rm(ref.layout.root, { recursive: true });
});

test('edges: an unfilled outage is pending until the exchange confirms it empty', async () => {
  const dir = await tmp();
  const bank = await Bank.open(dir, { maxGapFillMinutes: 0 });
  const eth = loadKlines('freqtrade_andresciancio/ETH_USDT-1m.json.gz');
  const a = eth.openTime.indexOf(T('2023-03-24T00:00Z'));
  const b = eth.openTime.indexOf(T('2023-03-25T00:00Z'));
  await bank.write1m('ETHUSDT', sliceCandles(eth, a, b), 'day');
  await bank.derive('ETHUSDT', ['1h', '1d']);
  let h = await bank.read('ETHUSDT', '1h');
  assert.ok(!has(h, '2023-03-24T12:00Z'), '12:40..12:59 unknown: not a candle yet');
  assert.equal(bank.get('ETHUSDT', '1d')!.rows, 0);
  await bank.addConfirmedEmpty('ETHUSDT', [[T('2023-03-24T12:40Z'), T('2023-03-24T14:00Z')]]);
  await bank.derive('ETHUSDT', ['1h', '1d'], [T('2023-03-24T12:40Z'), T('2023-03-24T14:00Z')]);
  h = await bank.read('ETHUSDT', '1h');
  assert.ok(has(h, '2023-03-24T12:00Z'));
  assert.ok(!has(h, '2023-03-24T13:00Z'));
  assert.equal(h.length, 23);
  const d = await bank.read('ETHUSDT', '1d');
  assert.deepEqual([...d.openTime], [T('2023-03-24T00:00Z')]);
  const full = resample(sliceCandles(eth, a, b), '1d');
  assert.equal(compareCandles(full, d).total, 0, 'the 1360-minute day');
  await rm(dir, { recursive: true });
});
