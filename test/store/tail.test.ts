/**
 * The bank's tail: framed, checksummed records; a torn or damaged record ends what is read; every
 * 1m read merges the tail; a fold moves it into the partitions; and a writer killed at random
 * moments loses no minute it reported stored, with verify clean after each restart.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Bank } from '../../daemon/store/bank.ts';
import { FramedLog, Tails } from '../../daemon/store/tail.ts';
import { acquireBankLock } from '../../daemon/store/lock.ts';
import { sliceCandles } from '../../schemas/candles.ts';
import { synth1m } from '../helpers/synth.ts';

const T0 = Date.UTC(2024, 0, 31, 23, 0);
const CHILD = new URL('./tail-child.ts', import.meta.url).pathname;
const KILLS = Number(process.env.KILLS ?? 6);

async function tmp(): Promise<string> {
  return fsp.mkdtemp(path.join(os.tmpdir(), 'threadx-tail-'));
}

test('framed log: whole records read back; a torn end and a damaged record end the read', async () => {
  const dir = await tmp();
  const file = path.join(dir, 'x.log');
  const log = await FramedLog.open(file);
  await log.append([Buffer.from('one'), Buffer.from('two')]);
  await log.append([Buffer.from('three')]);
  await log.close();
  let r = await FramedLog.read(file);
  assert.deepEqual(r.records.map(String), ['one', 'two', 'three']);
  assert.equal(r.validBytes, r.size);
  // A write cut by a crash: half a record at the end.
  await fsp.appendFile(file, Buffer.from([9, 0, 0, 0, 1, 2]));
  r = await FramedLog.read(file);
  assert.deepEqual(r.records.map(String), ['one', 'two', 'three']);
  assert.ok(r.validBytes < r.size);
  // The writer cuts it off on open and appends after the last whole record.
  const again = await FramedLog.open(file);
  await again.append([Buffer.from('four')]);
  await again.close();
  r = await FramedLog.read(file);
  assert.deepEqual(r.records.map(String), ['one', 'two', 'three', 'four']);
  // A flipped byte in a record: its CRC fails, and nothing from it on is trusted.
  const bytes = await fsp.readFile(file);
  const at = bytes.indexOf('three');
  bytes[at] ^= 0xff;
  await fsp.writeFile(file, bytes);
  r = await FramedLog.read(file);
  assert.deepEqual(r.records.map(String), ['one', 'two']);
  await fsp.rm(dir, { recursive: true });
});

test('reads merge the tail (a later value wins); a fold writes it into the month partitions', async () => {
  const dir = await tmp();
  const got = await acquireBankLock(dir, 'test');
  assert.ok(got.acquired);
  const bank = await Bank.open(dir, { lock: got.lock });
  const c = synth1m(T0, 180, 3);
  await bank.write1m('BTCUSDT', sliceCandles(c, 0, 60), 'test');
  await bank.tails.append('BTCUSDT', sliceCandles(c, 60, 120));
  await bank.tails.append('BTCUSDT', sliceCandles(c, 120, 180));
  // A correction of minute 100 arrives later.
  const fix = sliceCandles(c, 100, 101);
  fix.close[0] = fix.close[0] + 1;
  fix.high[0] = Math.max(fix.high[0], fix.close[0]);
  await bank.tails.append('BTCUSDT', fix);
  let r = await bank.read1m('BTCUSDT');
  assert.equal(r.length, 180);
  assert.equal(r.close[100], fix.close[0]);
  assert.deepEqual(bank.span1m('BTCUSDT'), { first: T0, last: T0 + 179 * 60_000, rows: 180 });
  // Another process (a reader, no lock) sees the same.
  const reader = await Bank.open(dir);
  r = await reader.read1m('BTCUSDT', T0 + 150 * 60_000, T0 + 152 * 60_000);
  assert.deepEqual(Array.from(r.openTime.subarray(0, r.length)), [
    T0 + 150 * 60_000,
    T0 + 151 * 60_000,
  ]);
  // The fold crosses a month end (January 31st 23:00 + 3 h): two partitions.
  const folded = await bank.tails.fold('BTCUSDT', async (part) => {
    await bank.write1m('BTCUSDT', part, 'stream');
  });
  assert.equal(folded.length, 120);
  assert.equal(bank.tails.span('BTCUSDT'), undefined);
  assert.deepEqual(await fsp.readdir(path.join(dir, 'tail')), []);
  const entry = bank.get('BTCUSDT', '1m')!;
  assert.deepEqual(entry.files.map((f) => f.path).sort(), [
    'processed/BTCUSDT/1m/2024-01.parquet',
    'processed/BTCUSDT/1m/2024-02.parquet',
  ]);
  r = await bank.read1m('BTCUSDT');
  assert.equal(r.length, 180);
  assert.equal(r.close[100], fix.close[0]);
  assert.deepEqual(
    (await bank.verify()).filter((v) => v.status !== 'ok'),
    [],
  );
  // Deleting the 1m dataset takes the minutes still in the tail with it.
  await bank.tails.append('BTCUSDT', synth1m(T0 + 180 * 60_000, 2, 4));
  const removed = await bank.deleteDataset('BTCUSDT', '1m');
  assert.ok(removed.includes('tail/BTCUSDT-1m.log'), removed.join(', '));
  assert.equal((await bank.read1m('BTCUSDT')).length, 0);
  assert.equal((await (await Bank.open(dir)).read1m('BTCUSDT')).length, 0);
  await bank.tails.close();
  await got.lock.release();
  await fsp.rm(dir, { recursive: true });
});

test('a tail writer killed at random moments loses no minute reported stored; verify is clean', async () => {
  const dir = await tmp();
  const reported: number[] = [];
  let seed = 7;
  const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let k = 0; k < KILLS; k++) {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir, String(T0)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = once(child, 'exit');
    const rl = createInterface({ input: child.stdout });
    // Killed after a random number of stored minutes, at a random moment after that line.
    const stopAfter = 3 + Math.floor(rnd() * 25);
    let n = 0;
    for await (const line of rl) {
      const m = /^stored (\d+)$/.exec(line);
      if (m) reported.push(Number(m[1]));
      if (m && ++n >= stopAfter) {
        setTimeout(() => child.kill('SIGKILL'), Math.floor(rnd() * 15));
        break;
      }
    }
    rl.close();
    await exited;
    // A reader right after the crash, before any writer recovered anything.
    const bank = await Bank.open(dir);
    const c = await bank.read1m('BTCUSDT');
    const have = new Set(Array.from(c.openTime.subarray(0, c.length)));
    for (const t of reported)
      assert.ok(have.has(t), `kill ${k}: ${new Date(t).toISOString()} was reported stored`);
    const want = synth1m(T0, c.length, 5);
    assert.deepEqual(
      Array.from(c.close.subarray(0, c.length)),
      Array.from(want.close.subarray(0, c.length)),
    );
    const issues = (await bank.verify({ record: false })).filter((v) => v.status !== 'ok');
    assert.deepEqual(issues, [], `kill ${k}: verify`);
  }
  // The last restart folds what the tail holds; nothing is lost, verify stays clean.
  const got = await acquireBankLock(dir, 'test');
  assert.ok(got.acquired);
  const bank = await Bank.open(dir, { lock: got.lock });
  for (const s of bank.tails.symbols())
    await bank.tails.fold(s, async (part) => {
      await bank.write1m(s, part, 'stream');
    });
  const c = await bank.read1m('BTCUSDT');
  assert.ok(c.length >= new Set(reported).size);
  assert.equal(bank.tails.symbols().length, 0);
  assert.deepEqual(
    (await bank.verify()).filter((v) => v.status !== 'ok'),
    [],
  );
  await got.lock.release();
  await fsp.rm(dir, { recursive: true });
  // Tails is exercised here as well, through a fresh load of an empty folder.
  assert.deepEqual((await Tails.load(dir)).symbols(), []);
});
