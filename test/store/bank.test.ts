import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile, stat, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Bank, DataContractError } from '../../daemon/store/bank.ts';
import { encodeCandles, decodeCandles } from '../../daemon/store/parquet.ts';
import { resample } from '../../daemon/engine/resample.ts';
import { sliceCandles, concatCandles, FLOAT_COLUMNS } from '../../schemas/candles.ts';
import type { VerifyIssue } from '../../schemas/registry.ts';
import { synth1m } from '../helpers/synth.ts';
import { loadKlines } from '../helpers/fixtures.ts';

const JAN = Date.UTC(2024, 0, 1);
const tmp = (): Promise<string> => mkdtemp(path.join(tmpdir(), 'threadx-bank-'));

test('parquet: round trip is bit-exact and bytes are deterministic', () => {
  const c = synth1m(JAN, 5000, 7);
  const a = encodeCandles(c, { symbol: 'BTCUSDT', interval: '1m' });
  const b = encodeCandles(c, { symbol: 'BTCUSDT', interval: '1m' });
  assert.deepEqual(a, b);
  const { candles, meta } = decodeCandles(a);
  assert.equal(candles.length, 5000);
  assert.deepEqual(candles.openTime, c.openTime);
  for (const k of FLOAT_COLUMNS) assert.deepEqual(candles[k], c[k], k);
  assert.equal(meta.symbol, 'BTCUSDT');
  assert.equal(meta.producer, 'threadx-data');
});

test('bank: monthly partitions, idempotent re-import, one month rewritten on update', async () => {
  const dir = await tmp();
  const bank = await Bank.open(dir);
  const c = synth1m(JAN, 3 * 31 * 1440, 3); // Jan..Mar and a little of April
  const r1 = await bank.write1m('btcusdt', c, 'test');
  assert.deepEqual(
    r1.written.map((p) => path.basename(p)),
    ['2024-01.parquet', '2024-02.parquet', '2024-03.parquet', '2024-04.parquet'],
  );
  const e1 = bank.get('BTCUSDT', '1m')!;
  assert.equal(e1.rows, c.length);
  const mtimes = await Promise.all(
    e1.files.map((f) => stat(path.join(dir, f.path)).then((s) => s.mtimeMs)),
  );
  const regBefore = await readFile(path.join(dir, 'registry.json'), 'utf8');

  const r2 = await bank.write1m('BTCUSDT', c, 'test');
  assert.equal(r2.written.length, 0);
  assert.equal(r2.rowsAdded, 0);
  const mtimes2 = await Promise.all(
    e1.files.map((f) => stat(path.join(dir, f.path)).then((s) => s.mtimeMs)),
  );
  assert.deepEqual(mtimes2, mtimes, 'no file rewritten');
  assert.equal(
    await readFile(path.join(dir, 'registry.json'), 'utf8'),
    regBefore,
    'registry unchanged',
  );

  // Changing one candle in February rewrites February only.
  const feb = sliceCandles(c, 31 * 1440 + 10, 31 * 1440 + 11);
  const changed = concatCandles([feb]);
  changed.close[0] = changed.close[0] + 0.01;
  changed.high[0] = Math.max(changed.high[0], changed.close[0]);
  const r3 = await bank.write1m('BTCUSDT', changed, 'test');
  assert.deepEqual(
    r3.written.map((p) => path.basename(p)),
    ['2024-02.parquet'],
  );
  assert.deepEqual(r3.unchanged.map((p) => path.basename(p)).sort(), [
    '2024-01.parquet',
    '2024-03.parquet',
  ]);
  await rm(dir, { recursive: true });
});

test('bank: short gaps filled and flagged, long gaps reported, filled rows never reach derived data', async () => {
  const dir = await tmp();
  const bank = await Bank.open(dir, { maxGapFillMinutes: 60 });
  const c = synth1m(JAN, 2 * 1440, 5);
  // A 30-minute hole (filled) and a 5-hour hole (reported), both confirmed empty at the exchange.
  const data = concatCandles([
    sliceCandles(c, 0, 600),
    sliceCandles(c, 630, 1500),
    sliceCandles(c, 1800, c.length),
  ]);
  await bank.addConfirmedEmpty('ETHUSDT', [
    [c.openTime[600], c.openTime[630]],
    [c.openTime[1500], c.openTime[1800]],
  ]);
  await bank.write1m('ETHUSDT', data, 'test');
  const e = bank.get('ETHUSDT', '1m')!;
  assert.equal(e.filledCount, 30);
  assert.deepEqual(
    e.gaps.map((g) => [g.missing, g.filled]),
    [
      [30, true],
      [300, false],
    ],
  );
  const stored = await bank.read1m('ETHUSDT');
  assert.equal(stored.length, data.length + 30);
  const i = stored.openTime.indexOf(c.openTime[600]);
  assert.equal(stored.filled[i], 1);
  assert.equal(stored.volume[i], 0);
  assert.equal(stored.open[i], c.close[599]);
  await bank.derive('ETHUSDT', ['1h']);
  const h = await bank.read('ETHUSDT', '1h');
  const expected = resample(data, '1h');
  assert.deepEqual(h.high.subarray(0, h.length), expected.high.subarray(0, expected.length));
  assert.deepEqual(h.open.subarray(0, h.length), expected.open.subarray(0, expected.length));
  // The real candles arrive later: they replace the filled ones.
  await bank.write1m('ETHUSDT', sliceCandles(c, 600, 630), 'late');
  assert.equal(bank.get('ETHUSDT', '1m')!.filledCount, 0);
  await rm(dir, { recursive: true });
});

test('bank: a gap nobody confirmed missing is never filled; once confirmed, a write fills it', async () => {
  const dir = await tmp();
  const bank = await Bank.open(dir, { maxGapFillMinutes: 60 });
  const c = synth1m(JAN, 300, 7);
  // A fetch that failed between two chunks, or minutes that were only "not yet": 20 minutes.
  await bank.write1m(
    'ETHUSDT',
    concatCandles([sliceCandles(c, 0, 100), sliceCandles(c, 120, 200)]),
    'test',
  );
  let e = bank.get('ETHUSDT', '1m')!;
  assert.equal(e.filledCount, 0);
  assert.deepEqual(
    e.gaps.map((g) => [g.start, g.missing, g.filled]),
    [[c.openTime[100], 20, false]],
  );
  // The next fetch finds the exchange has nothing there (and no new rows): confirmed, then filled
  // and flagged at once.
  await bank.addConfirmedEmpty('ETHUSDT', [[c.openTime[100], c.openTime[120]]]);
  e = bank.get('ETHUSDT', '1m')!;
  assert.equal(e.filledCount, 20);
  assert.deepEqual(
    e.gaps.map((g) => [g.start, g.missing, g.filled]),
    [[c.openTime[100], 20, true]],
  );
  await rm(dir, { recursive: true });
});

test('bank: input that breaks the contract is rejected and nothing is written', async () => {
  const dir = await tmp();
  const bank = await Bank.open(dir);
  await bank.write1m('BTCUSDT', synth1m(JAN, 100), 'test');
  const before = await readFile(path.join(dir, 'registry.json'), 'utf8');
  const bad = concatCandles([synth1m(JAN + 100 * 60_000, 10)]);
  bad.high[3] = bad.low[3] - 1;
  bad.volume[5] = NaN;
  await assert.rejects(bank.write1m('BTCUSDT', bad, 'bad'), (e: Error) => {
    assert.ok(e instanceof DataContractError);
    assert.match(e.message, /row 3: high/);
    assert.match(e.message, /row 5: volume is NaN/);
    return true;
  });
  assert.equal(await readFile(path.join(dir, 'registry.json'), 'utf8'), before);
  await assert.rejects(bank.write1m('../../etc', synth1m(JAN, 1), 'x'), /invalid symbol/);
  await rm(dir, { recursive: true });
});

test('bank: verify reports changed, corrupt, missing and unregistered files', async () => {
  const dir = await tmp();
  const bank = await Bank.open(dir);
  await bank.write1m('BTCUSDT', synth1m(JAN, 40 * 1440, 9), 'test');
  await bank.derive('BTCUSDT', ['1h', '1d']);
  assert.ok((await bank.verify()).every((i) => i.status === 'ok'));
  const files = bank.get('BTCUSDT', '1m')!.files.map((f) => f.path);
  // Truncate January (a crash of some other tool mid-copy), replace February with another valid file, delete the 1h file.
  const jan = path.join(dir, files[0]);
  const bytes = await readFile(jan);
  await writeFile(jan, bytes.subarray(0, Math.floor(bytes.length / 2)));
  await writeFile(
    path.join(dir, files[1]),
    encodeCandles(synth1m(Date.UTC(2024, 1, 1), 10, 1), { symbol: 'BTCUSDT', interval: '1m' }),
  );
  await rm(path.join(dir, bank.get('BTCUSDT', '1h')!.files[0].path));
  await writeFile(
    path.join(dir, 'processed', 'BTCUSDT', 'stray.parquet'),
    encodeCandles(synth1m(JAN, 5), { symbol: 'X', interval: '1m' }),
  );
  const byStatus: Record<string, VerifyIssue[] | undefined> = {};
  for (const i of await bank.verify()) (byStatus[i.status] ??= []).push(i);
  assert.equal(byStatus.corrupt?.[0]?.path, files[0]);
  assert.equal(byStatus.changed?.[0]?.path, files[1]);
  assert.match(byStatus.missing?.[0]?.path ?? '', /1h\.parquet$/);
  assert.match(byStatus.unregistered?.[0]?.path ?? '', /stray\.parquet$/);
  assert.equal(byStatus.ok?.length, 1); // 1d
  await rm(dir, { recursive: true });
});

test('bank: incremental derive equals a full resample, on real data with the 2023 outage', async () => {
  const dir = await tmp();
  const bank = await Bank.open(dir, { maxGapFillMinutes: 240 });
  const eth = loadKlines('freqtrade_andresciancio/ETH_USDT-1m.json.gz');
  // The outage, as ingest or an archive import records it: only confirmed minutes are filled.
  await bank.addConfirmedEmpty('ETHUSDT', [
    [Date.parse('2023-03-24T12:40Z'), Date.parse('2023-03-24T14:00Z')],
  ]);
  const half = Math.floor(eth.length / 2);
  await bank.write1m('ETHUSDT', sliceCandles(eth, 0, half), 'a');
  await bank.derive('ETHUSDT', ['15m', '4h', '1d', '1w', '1M']);
  await bank.write1m('ETHUSDT', sliceCandles(eth, half, eth.length), 'b');
  await bank.derive(
    'ETHUSDT',
    ['15m', '4h', '1d', '1w', '1M'],
    [eth.openTime[half], eth.openTime[eth.length - 1] + 60_000],
  );
  for (const iv of ['15m', '4h', '1d', '1w', '1M'] as const) {
    const r = await bank.checkConsistency('ETHUSDT', iv);
    assert.equal(r.total, 0, `${iv}: ${JSON.stringify(r.diffs.slice(0, 3))}`);
    const full = resample(eth, iv);
    const e = bank.get('ETHUSDT', iv)!;
    // Every bucket is a stored candle or a pending edge bucket (README, "Fidelity"), and the
    // buckets wholly inside the filled outage (12:40..14:00) are filled candles besides.
    assert.equal(e.rows - e.filledCount + (e.pending?.length ?? 0), full.length);
    assert.equal(e.filledCount, iv === '15m' ? 5 : 0, iv);
  }
  // The outage's 80 missing minutes were filled and flagged, and changed no derived candle.
  assert.equal(bank.get('ETHUSDT', '1m')!.filledCount, 80);
  const w = await bank.read('ETHUSDT', '1w');
  for (let i = 0; i < w.length; i++)
    assert.equal(new Date(w.openTime[i]).getUTCDay(), 1, 'weeks open on Monday');
  await rm(dir, { recursive: true });
});
