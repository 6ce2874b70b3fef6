import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, truncate, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Bank } from '../../daemon/store/bank.ts';
import { sliceCandles } from '../../schemas/candles.ts';
import { datasetIntegrity, fileIntegrity, integrityText } from '../../schemas/registry.ts';
import { listBank } from '../../daemon/app/bank.ts';
import { isThreadxError } from '../../schemas/errors.ts';
import { loadKlines } from '../helpers/fixtures.ts';

const tmp = (): Promise<string> => mkdtemp(path.join(tmpdir(), 'threadx-integrity-'));

test('integrity: verify results are kept per file, survive a restart, and a later write reads "not verified"', async () => {
  const dir = await tmp();
  let clock = Date.UTC(2026, 0, 1);
  const now = (): number => clock;
  let bank = await Bank.open(dir, { now, maxGapFillMinutes: 240 });
  const eth = loadKlines('freqtrade_andresciancio/ETH_USDT-1m.json.gz');
  const april = eth.openTime.indexOf(Date.UTC(2023, 3, 1));
  await bank.write1m('ETHUSDT', sliceCandles(eth, 0, april), 'march');
  await bank.derive('ETHUSDT', ['1h', '1d']);
  assert.equal(datasetIntegrity(bank.get('ETHUSDT', '1m')!.files).state, 'not-verified');

  clock += 1000;
  const t1 = clock;
  assert.equal((await bank.verify()).filter((i) => i.status !== 'ok').length, 0);
  assert.deepEqual(datasetIntegrity(bank.get('ETHUSDT', '1m')!.files), {
    state: 'verified',
    at: t1,
  });

  // Downloaded after the verify: April is a new file, never verified; March stays verified.
  clock += 1000;
  await bank.write1m('ETHUSDT', sliceCandles(eth, april, eth.length), 'april');
  const files = bank.get('ETHUSDT', '1m')!.files;
  assert.equal(fileIntegrity(files[0]).state, 'verified');
  assert.equal(fileIntegrity(files[1]).state, 'not-verified');
  assert.equal(datasetIntegrity(files).state, 'not-verified');

  // A truncated 1h file and an edited 1d file: verify finds both, in plain words.
  const h1 = path.join(dir, bank.get('ETHUSDT', '1h')!.files[0].path);
  const d1 = path.join(dir, bank.get('ETHUSDT', '1d')!.files[0].path);
  await truncate(h1, 500);
  const dBytes = await readFile(d1);
  dBytes[dBytes.length - 40] ^= 0xff;
  await writeFile(d1, dBytes);
  clock += 1000;
  await bank.verify();

  // A restart: the findings come back from the registry.
  bank = await Bank.open(dir, { now, maxGapFillMinutes: 240 });
  const h = datasetIntegrity(bank.get('ETHUSDT', '1h')!.files);
  assert.equal(h.state, 'corrupt');
  assert.match(h.reason ?? '', /^the file is truncated \(500 of \d+ bytes\) and cannot be read$/);
  const d = datasetIntegrity(bank.get('ETHUSDT', '1d')!.files);
  assert.ok(d.state === 'changed' || d.state === 'corrupt', d.state);
  if (d.state === 'changed') assert.equal(d.since, t1);
  assert.doesNotMatch(JSON.stringify([h, d]), /Error strings stripped|RuntimeError|unreachable/);

  // Reads never mask it: the error names the file and the fix.
  await assert.rejects(bank.read('ETHUSDT', '1h'), (e: unknown) => {
    assert.ok(isThreadxError(e));
    assert.equal(e.code, 'CORRUPT');
    assert.match(
      e.message,
      /ETHUSDT\/1h cannot be read: processed\/ETHUSDT\/1h\.parquet is damaged/,
    );
    assert.match(e.message, /Run "threadx repair --symbol ETHUSDT"\.$/);
    return true;
  });
  await assert.rejects(bank.read('ETHUSDT', '1d'), /CORRUPT|damaged/);
  // A file damaged after the last verify is refused too when its size no longer matches.
  const m1 = path.join(dir, bank.get('ETHUSDT', '1m')!.files[1].path);
  await truncate(m1, 100);
  await assert.rejects(bank.read1m('ETHUSDT'), (e: unknown) => {
    assert.ok(isThreadxError(e));
    assert.match(e.message, /1m\/2023-04\.parquet is damaged \(it has 100 bytes/);
    return true;
  });
  await rm(dir, { recursive: true });
});

test('integrity: a file changed after its last verify reads "changed" in the next listing, without a verify', async () => {
  const dir = await tmp();
  let clock = Date.UTC(2026, 0, 1);
  const bank = await Bank.open(dir, { now: () => clock, maxGapFillMinutes: 240 });
  const eth = loadKlines('freqtrade_andresciancio/ETH_USDT-1m.json.gz');
  await bank.write1m('ETHUSDT', eth, 'test');
  await bank.derive('ETHUSDT', ['1h', '4h', '1d', '1w']);
  // Every written file records its modification time.
  for (const d of bank.list()) for (const f of d.files) assert.equal(typeof f.mtime, 'number');
  clock += 1000;
  const t1 = clock;
  assert.equal((await bank.verify()).filter((i) => i.status !== 'ok').length, 0);
  const states = async () =>
    Object.fromEntries((await listBank(bank)).map(({ entry, integrity }) => [entry.id, integrity]));
  for (const i of Object.values(await states())) assert.equal(i.state, 'verified');

  // After the verify: 1h truncated, 4h edited in place (same size), 1d removed; the 1w file's
  // entry predates the mtime field, and it is touched (same bytes): size alone says nothing.
  const abs = (iv: '1h' | '4h' | '1d' | '1w') =>
    path.join(dir, bank.get('ETHUSDT', iv)!.files[0].path);
  await truncate(abs('1h'), 500);
  const four = await readFile(abs('4h'));
  four[four.length - 40] ^= 0xff;
  await writeFile(abs('4h'), four);
  const later = new Date(clock + 60_000);
  await utimes(abs('4h'), later, later);
  await rm(abs('1d'));
  delete bank.get('ETHUSDT', '1w')!.files[0].mtime;
  await utimes(abs('1w'), later, later);

  const s = await states();
  assert.deepEqual(s['ETHUSDT/1h'], {
    state: 'changed',
    since: t1,
    reason: `it has 500 bytes where the registry recorded ${bank.get('ETHUSDT', '1h')!.files[0].bytes}`,
    file: 'processed/ETHUSDT/1h.parquet',
  });
  assert.equal(s['ETHUSDT/4h'].state, 'changed');
  assert.equal(s['ETHUSDT/4h'].since, t1);
  assert.match(s['ETHUSDT/4h'].reason ?? '', /modified after the bank last wrote or verified it/);
  assert.equal(s['ETHUSDT/1d'].state, 'missing');
  assert.equal(s['ETHUSDT/1w'].state, 'verified', 'an old entry is compared by size only');
  assert.equal(s['ETHUSDT/1m'].state, 'verified');
  assert.equal(
    integrityText(s['ETHUSDT/1h'], (t) => String(t)),
    `changed since ${t1}`,
  );
  assert.equal(
    integrityText(s['ETHUSDT/1d'], (t) => String(t)),
    'corrupt: the file is missing',
  );

  // A touched file whose bytes are still right is verified again, and unchanged since.
  await writeFile(abs('4h'), ((four[four.length - 40] ^= 0xff), four));
  await utimes(abs('4h'), later, later);
  clock += 1000;
  await bank.verify({ symbols: ['ETHUSDT'] });
  const after = await states();
  assert.equal(after['ETHUSDT/4h'].state, 'verified');
  assert.equal(after['ETHUSDT/4h'].at, clock);
  assert.equal(after['ETHUSDT/1h'].state, 'corrupt');
  await rm(dir, { recursive: true });
});
