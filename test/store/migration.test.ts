/**
 * A spot-only bank written by the release before markets (registry version 1, in
 * test/fixtures/banks/spot-v1: ETHUSDT 2022-08-14 imported with 1h and 1d, then verified) opens,
 * reads and verifies as it is, and its first writer rewrites the registry as version 2 keeping
 * every dataset, path and checksum; futures datasets then sit beside its spot ones.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Bank } from '../../daemon/store/bank.ts';
import { openBank, releaseBankLocks } from '../../daemon/app/bank.ts';
import { defaultConfig } from '../../schemas/config.ts';
import { LAYOUT_VERSION, type Registry } from '../../schemas/registry.ts';
import { FIXTURES, loadKlines } from '../helpers/fixtures.ts';

const V1 = path.join(FIXTURES, 'banks', 'spot-v1');

async function copyOfV1(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'threadx-migrate-'));
  await cp(V1, path.join(dir, 'data'), { recursive: true });
  return path.join(dir, 'data');
}

const readJson = async (f: string): Promise<Registry> =>
  JSON.parse(await readFile(f, 'utf8')) as Registry;

test('migration: a version 1 spot bank reads unchanged and verifies clean without a writer', async () => {
  const data = await copyOfV1();
  try {
    const bank = await Bank.open(data);
    assert.deepEqual(Object.keys(bank.registry().datasets).sort(), [
      'ETHUSDT/1d',
      'ETHUSDT/1h',
      'ETHUSDT/1m',
    ]);
    const c = await bank.read('ETHUSDT', '1m', -Infinity, Infinity);
    assert.equal(c.length, 1440);
    assert.deepEqual(
      Array.from(c.close.subarray(0, 5)),
      Array.from(loadKlines('hal9000cc/ETHUSDT-1m-2022-08-14.zip').close.subarray(0, 5)),
    );
    assert.deepEqual(
      (await bank.verify({ record: false })).filter((i) => i.status !== 'ok'),
      [],
    );
    // Reading writes nothing: the registry on disk is still version 1.
    assert.equal((await readJson(path.join(data, 'registry.json'))).version, 1);
  } finally {
    await rm(path.dirname(data), { recursive: true });
  }
});

test('migration: the first writer writes version 2 with every checksum kept; futures sit beside', async () => {
  const data = await copyOfV1();
  try {
    const before = await readJson(path.join(data, 'registry.json'));
    const bank = await openBank(data, defaultConfig(), { mode: 'write', command: 'test' });
    const after = await readJson(path.join(data, 'registry.json'));
    assert.equal(after.version, LAYOUT_VERSION);
    assert.deepEqual(Object.keys(after.datasets).sort(), Object.keys(before.datasets).sort());
    for (const [id, d] of Object.entries(before.datasets)) {
      const a = after.datasets[id];
      assert.deepEqual(
        a.files.map((f) => [f.path, f.sha256, f.bytes, f.rows]),
        d.files.map((f) => [f.path, f.sha256, f.bytes, f.rows]),
        id,
      );
      assert.equal(a.sourceChecksum, d.sourceChecksum, id);
      assert.equal(a.market, undefined, 'a spot dataset keeps its version 1 entry');
    }
    assert.deepEqual(
      (await bank.verify()).filter((i) => i.status !== 'ok'),
      [],
    );
    // A futures ETHUSDT beside the spot one: its own files, the spot ones untouched.
    const real = loadKlines('hal9000cc/ETHUSDT-1m-2022-08-15.zip');
    await bank.write1m('ETHUSDT@um', real, 'test');
    await bank.derive('ETHUSDT@um', ['1h']);
    const final = await readJson(path.join(data, 'registry.json'));
    assert.deepEqual(
      final.datasets['ETHUSDT/1m'].files.map((f) => [f.path, f.sha256]),
      before.datasets['ETHUSDT/1m'].files.map((f) => [f.path, f.sha256]),
    );
    assert.equal(final.datasets['ETHUSDT@um/1m'].market, 'um');
    assert.equal(final.datasets['ETHUSDT@um/1h'].rows, 24);
    const spot = await bank.read('ETHUSDT', '1m', -Infinity, Infinity);
    assert.equal(spot.openTime[spot.length - 1], Date.parse('2022-08-14T23:59Z'));
    assert.deepEqual(
      (await bank.verify()).filter((i) => i.status !== 'ok'),
      [],
    );
  } finally {
    await releaseBankLocks();
    await rm(path.dirname(data), { recursive: true });
  }
});
