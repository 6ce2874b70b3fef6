/**
 * The Python client (clients/python, through examples/python/threadx_client.py) against the real bundled
 * daemon and the local replay exchange: handshake, registry, an ingest with progress, a read.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, promises as fsp } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startReplayServer } from '../../daemon/replay/server.ts';
import { tempDir } from '../helpers/harness.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const SCRIPT = path.join(ROOT, 'examples', 'python', 'threadx_client.py');
const NOW = Date.parse('2023-05-01T21:03:30Z');

const hasPython = spawnSync('python3', ['--version']).status === 0;

before(() => {
  if (!existsSync(CLI)) {
    const r = spawnSync(process.execPath, ['esbuild.mjs'], { cwd: ROOT, stdio: 'inherit' });
    assert.equal(r.status, 0, 'build failed');
  }
});

interface Line {
  kind: string;
  value: Record<string, unknown> & Record<string, unknown>[];
}

test(
  'python client: initialize, registry/list, ingest/run with progress, data/read',
  { skip: !hasPython && 'python3 not found' },
  async () => {
    const replay = await startReplayServer({ now: NOW });
    const dir = await tempDir('threadx-py-');
    try {
      // The daemon reads threadx.toml from its working directory: point it at the replay exchange.
      await fsp.writeFile(
        path.join(dir, 'threadx.toml'),
        `[data.api]\nbase_url = "${replay.url}"\narchive_url = "${replay.archiveUrl}"\nretry_delay = 0.01\n`,
      );
      const data = path.join(dir, 'data');
      const child = spawn(
        'python3',
        [
          SCRIPT,
          '--data-dir',
          data,
          '--cli',
          CLI,
          '--symbol',
          'BTCUSDT',
          '--start',
          '2023-04-29',
          '--end',
          '2023-05-01',
          '--source',
          'rest',
        ],
        { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const [code] = (await once(child, 'exit')) as [number];
      assert.equal(code, 0, err);
      const lines = out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Line);
      const kinds = lines.map((l) => l.kind);
      assert.equal(kinds[0], 'initialize');
      assert.equal(lines[0].value.dataDir, data);
      assert.deepEqual(lines[1], { kind: 'registry', value: [] });
      const progress = lines.filter((l) => l.kind === 'progress').map((l) => l.value.kind);
      assert.equal(progress[0], 'begin');
      assert.equal(progress.at(-1), 'end');
      const ingest = lines.find((l) => l.kind === 'ingest')!.value as unknown as {
        symbols: { symbol: string; rows: number; error: unknown }[];
      };
      assert.equal(ingest.symbols[0].symbol, 'BTCUSDT');
      assert.equal(ingest.symbols[0].error, null);
      assert.equal(ingest.symbols[0].rows, 2 * 1440);
      const read = lines.find((l) => l.kind === 'read')!.value;
      // 2 days of 1m do not fit in 500 points; the ingest derived 1h, which does.
      assert.equal(read.interval, '1h');
      assert.equal(read.length, 48);
      assert.equal(read.first, Date.parse('2023-04-29T00:00Z'));
      assert.equal(
        existsSync(path.join(data, '.threadx-daemon.json')),
        false,
        'the daemon it started has exited',
      );
    } finally {
      await replay.close();
      await fsp.rm(dir, { recursive: true, force: true });
    }
  },
);
