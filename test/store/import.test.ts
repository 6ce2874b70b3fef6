import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, readFile, copyFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { zipSync, strToU8 } from 'fflate';
import { Bank } from '../../daemon/store/bank.ts';
import { importFiles } from '../../daemon/jobs/import.ts';
import { sha256 } from '../../daemon/store/registry.ts';
import { KLINES } from '../helpers/fixtures.ts';

const tmp = (): Promise<string> => mkdtemp(path.join(tmpdir(), 'threadx-import-'));

test('import: archive zips verified against .CHECKSUM; a corrupted one is rejected, the rest go on', async () => {
  const dir = await tmp();
  const src = path.join(KLINES, 'hal9000cc');
  const good = path.join(dir, 'ETHUSDT-1m-2022-08-14.zip');
  const bad = path.join(dir, 'ETHUSDT-1m-2022-08-15.zip');
  await copyFile(path.join(src, 'ETHUSDT-1m-2022-08-14.zip'), good);
  await copyFile(path.join(src, 'ETHUSDT-1m-2022-08-15.zip'), bad);
  await writeFile(
    `${good}.CHECKSUM`,
    `${sha256(await readFile(good))}  ETHUSDT-1m-2022-08-14.zip\n`,
  );
  await writeFile(`${bad}.CHECKSUM`, `${'0'.repeat(64)}  ETHUSDT-1m-2022-08-15.zip\n`);
  const bank = await Bank.open(path.join(dir, 'data'));
  const s = await importFiles(bank, [good, bad]);
  assert.equal(s.items[0].ok, true);
  assert.equal(s.items[0].checksum, 'verified');
  assert.equal(s.items[1].ok, false);
  assert.equal(s.items[1].checksum, 'failed');
  assert.match(s.items[1].error ?? '', /checksum mismatch/i);
  assert.equal(bank.get('ETHUSDT', '1m')!.rows, 1440, 'only the good day is in the bank');
  await rm(dir, { recursive: true });
});

test('import: spot microsecond timestamps (2025+) and futures files with a header', async () => {
  const dir = await tmp();
  const t0 = Date.UTC(2025, 0, 15);
  const lines = Array.from(
    { length: 3 },
    (_, i) =>
      `${(t0 + i * 60_000) * 1000},100.00000000,101.00000000,99.00000000,100.50000000,1.50000000,${(t0 + i * 60_000 + 59_999) * 1000 + 999},150.75000000,10,0.70000000,70.35000000,0`,
  );
  const zip = path.join(dir, 'BTCUSDT-1m-2025-01-15.zip');
  await writeFile(zip, zipSync({ 'BTCUSDT-1m-2025-01-15.csv': strToU8(lines.join('\n') + '\n') }));
  const bank = await Bank.open(path.join(dir, 'data'));
  const s = await importFiles(bank, [
    zip,
    path.join(KLINES, 'isda_futures_um', 'AVAXUSDT-1m-2026-02.csv.gz'),
  ]);
  assert.equal(s.items[0].ok, true, s.items[0].error);
  const c = await bank.read1m('BTCUSDT');
  assert.deepEqual([...c.openTime], [t0, t0 + 60_000, t0 + 120_000]);
  assert.equal(s.items[1].ok, true, s.items[1].error);
  const avax = bank.get('AVAXUSDT', '1m')!;
  assert.equal(avax.rows, 40320);
  assert.equal(avax.first, Date.UTC(2026, 1, 1));
  await rm(dir, { recursive: true });
});

test('import: bad files get clear errors naming the problem', async () => {
  const dir = await tmp();
  const bank = await Bank.open(path.join(dir, 'data'));
  const garbage = path.join(dir, 'ETHUSDT-1m-2022-08-14.zip');
  await writeFile(garbage, 'not a zip');
  const csv = path.join(dir, 'ETHUSDT-1m-2022-08-16.csv');
  await writeFile(
    csv,
    '1660608000000,1,2,0.5,1.5,10,1660608059999,15,3,5,7,0\n1660608060000,1,0.5,0.9,1.5,10,1660608119999,15,3,5,7,0\n',
  );
  const s = await importFiles(bank, [
    garbage,
    csv,
    path.join(dir, 'missing-file.zip'),
    path.join(KLINES, 'hal9000cc', 'BTCUSDT-1h-2022-09-07.zip'),
  ]);
  assert.match(s.items[0].error ?? '', /not a valid zip/);
  assert.match(s.items[1].error ?? '', /row 1: high 0.5 < max/);
  assert.match(s.items[2].error ?? '', /cannot read .*ENOENT/);
  assert.match(s.items[3].error ?? '', /holds 1h klines: the bank stores 1m only/);
  assert.equal(bank.list().length, 0);
  await rm(dir, { recursive: true });
});
