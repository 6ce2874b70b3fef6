import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { findDaemon, parseDiscovery, readToken } from '../../extension/discovery.ts';
import { daemonLaunch } from '../../extension/launch.ts';
import { RestartPolicy } from '../../extension/restarts.ts';
import { statusView } from '../../extension/status-model.ts';

describe('restart policy', () => {
  it('allows 4 restarts in 3 minutes, then refuses until the window slides', () => {
    const p = new RestartPolicy();
    const t0 = 1_000_000;
    for (let i = 0; i < 4; i++) assert.equal(p.shouldRestart(t0 + i * 1000), true);
    assert.equal(p.shouldRestart(t0 + 5000), false, 'the fifth crash within 3 minutes');
    assert.equal(p.shouldRestart(t0 + 3 * 60_000 + 1), true, 'the first crash left the window');
    p.reset();
    assert.equal(p.recent, 0);
  });
});

describe('launch', () => {
  const base = { cliPath: '/x/dist/cli.js', dataDir: '/d', configFile: '/c.toml', env: { A: '1' } };

  it('runs Electron as Node on desktop', () => {
    const l = daemonLaunch({ ...base, execPath: '/Applications/Code', electronVersion: '30.0.0' });
    assert.equal(l.command, '/Applications/Code');
    assert.equal(l.env.ELECTRON_RUN_AS_NODE, '1');
    assert.deepEqual(l.args, [
      '/x/dist/cli.js',
      'serve',
      '--stdio',
      '--join',
      '--data-dir',
      '/d',
      '--config',
      '/c.toml',
    ]);
  });

  it('runs plain Node in a remote or web extension host', () => {
    const l = daemonLaunch({
      ...base,
      execPath: '/usr/bin/node',
      electronVersion: undefined,
      env: { ELECTRON_RUN_AS_NODE: '1' },
    });
    assert.equal(l.env.ELECTRON_RUN_AS_NODE, undefined);
  });
});

describe('discovery', () => {
  it('reads the daemon discovery file (socket and port endpoints)', () => {
    const sock = parseDiscovery(
      JSON.stringify({
        pid: 42,
        protocolVersion: '1.0',
        endpoint: { kind: 'socket', path: '/tmp/s' },
      }),
      'f',
    );
    assert.equal(sock?.socket, '/tmp/s');
    const port = parseDiscovery(
      JSON.stringify({
        pid: 42,
        protocolVersion: '1.0',
        endpoint: { kind: 'port', host: '127.0.0.1', port: 4000, tokenFile: '/d/.threadx-token' },
      }),
      'f',
    );
    assert.equal(port?.port, 4000);
    assert.equal(port?.tokenFile, '/d/.threadx-token');
    assert.equal(
      parseDiscovery(JSON.stringify({ pid: 42, endpoint: null }), 'f'),
      undefined,
      'stdio only',
    );
    assert.equal(parseDiscovery('{not json', 'f'), undefined);
  });

  it('finds a live daemon of the same protocol major only', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'threadx-disc-'));
    const write = (v: object): void =>
      writeFileSync(path.join(dir, '.threadx-daemon.json'), JSON.stringify(v));
    write({ pid: process.pid, protocolVersion: '1.3', endpoint: { kind: 'socket', path: '/s' } });
    assert.equal((await findDaemon(dir, '1'))?.pid, process.pid);
    assert.equal(await findDaemon(dir, '2'), undefined);
    write({ pid: 2 ** 22 + 7, protocolVersion: '1.0', endpoint: { kind: 'socket', path: '/s' } });
    assert.equal(await findDaemon(dir, '1'), undefined, 'a dead pid is ignored');
    writeFileSync(path.join(dir, '.threadx-token'), 'secret\n');
    assert.equal(
      await readToken(dir, { pid: 1, protocolVersion: '1', file: 'f', port: 1 }),
      'secret',
    );
  });
});

describe('status bar', () => {
  it('shows the daemon state, then the running job', () => {
    assert.match(
      statusView({ kind: 'ready', pid: 7, version: '0.1.0', joined: false }, []).text,
      /database/,
    );
    const failed = statusView({ kind: 'failed', reason: 'crashed' }, []);
    assert.equal(failed.error, true);
    const job = statusView({ kind: 'ready', pid: 7, version: '0.1.0', joined: false }, [
      { title: 'Downloading', percentage: 41.6, message: 'BTCUSDC' },
    ]);
    assert.match(job.text, /42%/);
    assert.equal(job.tooltip, 'Downloading: BTCUSDC');
  });
});

describe('daemon files, declared once', () => {
  it('the names the extension reads are the names the daemon writes', async () => {
    const { DAEMON_FILES } = await import('../../schemas/contracts.ts');
    const daemon = await import('../../daemon/rpc/lifecycle.ts');
    assert.deepEqual(
      { lock: daemon.LOCK_FILE, discovery: daemon.DISCOVERY_FILE, token: daemon.TOKEN_FILE },
      { ...DAEMON_FILES },
    );
  });
});
