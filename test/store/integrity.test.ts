import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Bank } from '../../daemon/store/bank.ts';
import { sliceCandles } from '../../schemas/candles.ts';
import { datasetIntegrity, fileIntegrity } from '../../schemas/registry.ts';
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
