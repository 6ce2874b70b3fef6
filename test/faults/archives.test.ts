/**
 * Hostile kline files: a zip bomb, a gzip bomb, millions of duplicated rows, timestamps from
 * before Binance or from the future. Each is refused early with a message naming it, memory stays
 * bounded, the bank is untouched, and `threadx import` exits 1 (problems found).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { Zip, ZipDeflate, Gzip, strToU8 } from 'fflate';
import { readKlineFile } from '../../daemon/store/importer.ts';
import { ensureBuilt, runCli, tempDir } from './harness.ts';

let work: string;
const T = Date.UTC(2024, 0, 15);
const row = (t: number): string => `${t},1,2,0.5,1.5,10,${t + 59_999},15,3,4,6,0\n`;

before(async () => {
  ensureBuilt();
  work = await tempDir();
});
after(() => fsp.rm(work, { recursive: true, force: true }));

/** A zip whose one CSV expands to `mb` MiB of the same row, built without holding it. */
function zipBomb(mb: number): Uint8Array {
  const parts: Uint8Array[] = [];
  const zip = new Zip((err, data) => {
    if (err) throw err;
    parts.push(data);
  });
  const f = new ZipDeflate('BTCUSDT-1m-2024-01-15.csv', { level: 6 });
  zip.add(f);
  const block = strToU8(row(T).repeat(Math.floor((1 << 20) / row(T).length)));
  for (let i = 0; i < mb; i++) f.push(block, i === mb - 1);
  zip.end();
  return Buffer.concat(parts);
}

function gzipBomb(mb: number): Uint8Array {
  const parts: Uint8Array[] = [];
  const g = new Gzip({ level: 6 }, (data) => parts.push(data));
  const block = strToU8(row(T).repeat(Math.floor((1 << 20) / row(T).length)));
  for (let i = 0; i < mb; i++) g.push(block, i === mb - 1);
  return Buffer.concat(parts);
}

test('a zip bomb and a gzip bomb are refused after a few MB, not unpacked whole', async () => {
  const zip = path.join(work, 'BTCUSDT-1m-2024-01-15.zip');
  await fsp.writeFile(zip, zipBomb(24));
  const gz = path.join(work, 'BTCUSDT-1m-2024-01-16.csv.gz');
  await fsp.writeFile(gz, gzipBomb(24));
  const before = process.memoryUsage().arrayBuffers;
  for (const f of [zip, gz]) {
    await assert.rejects(readKlineFile(f), /expands to more than \d+ bytes/);
  }
  const grown = process.memoryUsage().arrayBuffers - before;
  assert.ok(grown < 16 * 1024 * 1024, `array buffers grew by ${grown} bytes`);
});

test('duplicated rows, rows before 2017 and rows from the future are refused', async () => {
  const dups = path.join(work, 'dups.csv');
  await fsp.writeFile(dups, row(T).repeat(10_000));
  await assert.rejects(readKlineFile(dups), /10000 rows for only 1 distinct open time/);
  const named = path.join(work, 'BTCUSDT-1h-2024-01-15.csv');
  let text = '';
  for (let i = 0; i < 30; i++) text += row(T + i * 3_600_000);
  await fsp.writeFile(named, text);
  await assert.rejects(readKlineFile(named), /30 rows, more than the 25 its period can have/);
  const old = path.join(work, 'old.csv');
  await fsp.writeFile(old, row(Date.UTC(2015, 0, 1)));
  await assert.rejects(readKlineFile(old), /before Binance's first kline/);
  const future = path.join(work, 'future.csv');
  await fsp.writeFile(future, row(Date.now() + 3 * 86_400_000 - (Date.now() % 60_000)));
  await assert.rejects(readKlineFile(future), /more than a day in the future/);
  // Microseconds (Binance's archives since 2025) are still read as the same minutes.
  const micro = path.join(work, 'micro.csv');
  const t = Date.UTC(2025, 0, 2);
  await fsp.writeFile(
    micro,
    `${t * 1000},1,2,0.5,1.5,10,${(t + 59_999) * 1000 + 999},15,3,4,6,0\n`,
  );
  assert.equal((await readKlineFile(micro)).candles.openTime[0], t);
});

test('threadx import of hostile files: exit 1, every file named, the bank untouched', async () => {
  const dir = path.join(work, 'bank');
  const files = ['BTCUSDT-1m-2024-01-15.zip', 'dups.csv', 'old.csv', 'future.csv'].map((f) =>
    path.join(work, f),
  );
  const r = await runCli(
    ['import', ...files, '--symbol', 'BTCUSDT', '--data-dir', dir, '--json'],
    work,
  );
  assert.equal(r.code, 1, r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
    items: { file: string; ok: boolean }[];
  };
  assert.deepEqual(
    out.items.map((i) => [path.basename(i.file), i.ok]),
    files.map((f) => [path.basename(f), false]),
  );
  const reg = JSON.parse(
    await fsp.readFile(path.join(dir, 'registry.json'), 'utf8').catch(() => '{"datasets":{}}'),
  ) as {
    datasets: object;
  };
  assert.deepEqual(reg.datasets, {});
});
