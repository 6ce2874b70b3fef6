/**
 * Recovering without help: malformed journals are named and quarantined instead of blocking every
 * command, stray temp files at the data root are removed, a broken registry's message advises
 * commands that exist, and `threadx verify | head` ends quietly with a truthful exit code.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import { Bank } from '../../daemon/store/bank.ts';
import { synth1m } from '../helpers/synth.ts';
import { ensureBuilt, fingerprint, runCli, startCli, tempDir } from './harness.ts';

const JAN = Date.UTC(2024, 0, 1);
const COMMANDS =
  /threadx (import|resample|list|verify|export|validate|check|ingest|demo|replay|serve|indicators)\b/;
let work: string;

before(async () => {
  ensureBuilt();
  work = await tempDir();
});
after(() => fsp.rm(work, { recursive: true, force: true }));

async function seeded(name: string): Promise<string> {
  const dir = path.join(work, name);
  const bank = await Bank.open(dir);
  await bank.write1m('BTCUSDT', synth1m(JAN, 2 * 1440, 1), 'test');
  await bank.write1m('ETHUSDT', synth1m(JAN, 2 * 1440, 2), 'test');
  await bank.derive('BTCUSDT', ['1h']);
  return dir;
}

test('malformed journals are named and quarantined; stray temp files go; the bank is unchanged', async () => {
  const dir = await seeded('journals');
  const before = await fingerprint(dir);
  await fsp.writeFile(path.join(dir, '.journal-BTCUSDT.json'), '{"not":"a list"}');
  await fsp.writeFile(
    path.join(dir, '.journal-ETHUSDT.json'),
    JSON.stringify([
      { dataset: 'ETHUSDT/1m', file: { path: '../../x.parquet', sha256: '00', rows: 1, gaps: [] } },
    ]),
  );
  await fsp.writeFile(path.join(dir, '.journal-SOLUSDT.json'), '[{"dataset": "SOL');
  await fsp.writeFile(path.join(dir, '.registry.json.999.abcd.tmp'), Buffer.alloc(5 << 20));
  const r = await runCli(['list', '--data-dir', dir, '--json'], work);
  assert.equal(r.code, 0, r.stderr);
  for (const s of ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'])
    assert.match(
      r.stderr,
      new RegExp(`journal ${dir}/\\.journal-${s}\\.json could not be replayed`),
    );
  assert.match(r.stderr, COMMANDS);
  const names = await fsp.readdir(dir);
  assert.deepEqual(
    names.filter((n) => n.startsWith('.journal') || n.endsWith('.tmp')),
    [],
  );
  assert.equal((await fsp.readdir(path.join(dir, 'quarantine'))).length, 3);
  assert.deepEqual(await fingerprint(dir), before);
  const v = await runCli(['verify', '--data-dir', dir], work);
  assert.equal(v.code, 0, v.stdout + v.stderr);
});

test('a broken registry: the message names the file and advises commands that exist', async () => {
  const dir = await seeded('broken');
  await fsp.writeFile(path.join(dir, 'registry.json'), '{"version": 1, "datasets": ');
  const r = await runCli(['list', '--data-dir', dir], work);
  assert.equal(r.code, 3);
  assert.match(r.stderr, new RegExp(`${dir}/registry.json is not valid JSON`));
  assert.match(r.stderr, COMMANDS);
  assert.doesNotMatch(r.stderr, /--rebuild/);
});

test('threadx verify | head: no stack trace, and the exit code still says problems were found', async () => {
  const dir = await seeded('epipe');
  const stray = path.join(dir, 'processed', 'STRAY');
  await fsp.mkdir(stray, { recursive: true });
  for (let i = 0; i < 200; i++)
    await fsp.writeFile(path.join(stray, `file-with-a-long-name-${i}.parquet`), 'x');
  for (let round = 0; round < 3; round++) {
    const child = startCli(['verify', '--data-dir', dir], work);
    let stderr = '';
    child.stderr!.on('data', (b: Buffer) => (stderr += b.toString()));
    // `head -c 1`: read one chunk, then close the pipe.
    await once(child.stdout!, 'data');
    child.stdout!.destroy();
    const [code] = (await once(child, 'exit')) as [number];
    assert.equal(code, 1, stderr);
    assert.doesNotMatch(stderr, /EPIPE|Error|at /);
  }
});
