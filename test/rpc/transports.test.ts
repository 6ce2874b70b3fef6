/**
 * End-to-end: the real bundled CLI (`node dist/cli.js serve ...`) over stdio, a Unix socket and a
 * port. Build first (`node esbuild.mjs`; `npm test` does). Waits are on process events, messages
 * and the discovery file, never on fixed sleeps.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, promises as fsp, watch } from 'node:fs';
import path from 'node:path';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { ErrorCodes } from '../../schemas/protocol.ts';
import { ThreadxClient, ResponseError } from '../../daemon/rpc/client.ts';
import { DISCOVERY_FILE, TOKEN_FILE, type DiscoveryInfo } from '../../daemon/rpc/lifecycle.ts';
import { tempDir } from '../helpers/harness.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const CLI = path.join(ROOT, 'dist', 'cli.js');

before(() => {
  if (!existsSync(CLI)) {
    const r = spawnSync(process.execPath, ['esbuild.mjs'], { cwd: ROOT, stdio: 'inherit' });
    assert.equal(r.status, 0, 'build failed');
  }
});

/** Resolves with the discovery file once the daemon of `dir` has published it. */
async function discovery(dir: string, child?: ChildProcess): Promise<DiscoveryInfo> {
  const file = path.join(dir, DISCOVERY_FILE);
  const read = async (): Promise<DiscoveryInfo | null> => {
    try {
      return JSON.parse(await fsp.readFile(file, 'utf8')) as DiscoveryInfo;
    } catch {
      return null;
    }
  };
  const watcher = watch(dir);
  try {
    for (;;) {
      const info = await read();
      if (info) return info;
      const changed = once(watcher, 'change');
      const exited = child
        ? once(child, 'exit').then(() => 'exit' as const)
        : new Promise(() => {});
      if ((await Promise.race([changed, exited])) === 'exit') {
        throw new Error('the daemon exited before publishing its discovery file');
      }
    }
  } finally {
    watcher.close();
  }
}

function serveArgs(dir: string, ...mode: string[]): string[] {
  return [CLI, 'serve', ...mode, '--data-dir', dir];
}

test('stdio: the bundled CLI answers initialize and exits when stdin closes', async () => {
  const dir = await tempDir();
  const child = spawn(process.execPath, serveArgs(dir, '--stdio'), { stdio: 'pipe' });
  try {
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const client = ThreadxClient.overStreams(child.stdout, child.stdin);
    const init = await client.initialize({ clientInfo: { name: 'e2e' } });
    assert.equal(init.dataDir, dir);
    assert.equal(init.pid, child.pid);
    const { datasets } = await client.request('registry/list', {});
    assert.deepEqual(datasets, []);
    assert.deepEqual(client.protocolErrors, [], 'stdout carried only the protocol');
    const exited = once(child, 'exit');
    child.stdin.end();
    const [code] = (await exited) as [number];
    assert.equal(code, 0, stderr);
    assert.equal(existsSync(path.join(dir, DISCOVERY_FILE)), false, 'discovery file removed');
    const log = await fsp.readFile(path.join(dir, 'logs', 'daemon.log'), 'utf8');
    assert.match(log, /stopping: stdin closed/);
  } finally {
    child.kill();
    await fsp.rm(dir, { recursive: true, force: true });
  }
});

test('stdio: shutdown then exit ends the process with code 0', async () => {
  const dir = await tempDir();
  const child = spawn(process.execPath, serveArgs(dir, '--stdio'), { stdio: 'pipe' });
  try {
    const client = ThreadxClient.overStreams(child.stdout, child.stdin);
    await client.initialize();
    const exited = once(child, 'exit');
    await client.stop();
    assert.deepEqual(await exited, [0, null]);
  } finally {
    child.kill();
    await fsp.rm(dir, { recursive: true, force: true });
  }
});

test('one daemon per data dir: a second serve finds the first; --join proxies to it', async () => {
  const dir = await tempDir();
  const first = spawn(process.execPath, serveArgs(dir, '--stdio'), { stdio: 'pipe' });
  try {
    const owner = ThreadxClient.overStreams(first.stdout, first.stdin);
    await owner.initialize();
    const info = await discovery(dir, first);
    assert.equal(info.pid, first.pid);
    assert.equal(info.endpoint?.kind, 'socket');

    const second = spawnSync(process.execPath, serveArgs(dir, '--stdio'), {
      input: '',
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(second.status, 1);
    assert.match(second.stderr, new RegExp(`already serves .* \\(pid ${first.pid}\\)`));
    assert.equal(second.stdout, '', 'nothing on stdout');

    const joiner = spawn(process.execPath, serveArgs(dir, '--stdio', '--join'), { stdio: 'pipe' });
    const joined = ThreadxClient.overStreams(joiner.stdout, joiner.stdin);
    const r = await joined.initialize({ clientInfo: { name: 'joiner' } });
    assert.equal(r.pid, first.pid, 'the joiner talks to the first daemon');
    const joinerExit = once(joiner, 'exit');
    await joined.stop();
    await joinerExit;
    // The first daemon still serves its owner.
    assert.deepEqual((await owner.request('registry/list', {})).datasets, []);
    const exited = once(first, 'exit');
    first.stdin.end();
    await exited;
  } finally {
    first.kill();
    await fsp.rm(dir, { recursive: true, force: true });
  }
});

test('socket: created 0600 in a 0700 folder; stale lock of a dead daemon is taken over', async () => {
  if (process.platform === 'win32') return;
  const dir = await tempDir();
  // A lock left by a process that no longer exists.
  const lockDir = path.join(dir, '.threadx-bank.lock');
  await fsp.mkdir(lockDir, { recursive: true });
  await fsp.writeFile(
    path.join(lockDir, 'owner.json'),
    JSON.stringify({
      pid: 999999,
      host: hostname(),
      command: 'threadx serve',
      since: 0,
      token: 'x',
    }),
  );
  const sock = path.join(dir, 'run', 'd.sock');
  const child = spawn(process.execPath, serveArgs(dir, '--socket', sock), { stdio: 'pipe' });
  try {
    const info = await discovery(dir, child);
    assert.deepEqual(info.endpoint, { kind: 'socket', path: sock });
    assert.equal((await fsp.stat(sock)).mode & 0o777, 0o600);
    assert.equal((await fsp.stat(path.dirname(sock))).mode & 0o777, 0o700);
    const client = await ThreadxClient.connectSocket(sock);
    const r = await client.initialize();
    assert.equal(r.pid, child.pid);
    client.close();
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    assert.deepEqual(await exited, [0, null]);
    assert.equal(existsSync(sock), false, 'socket removed');
  } finally {
    child.kill();
    await fsp.rm(dir, { recursive: true, force: true });
  }
});

test('socket: --idle-timeout stops the daemon when no client is connected', async () => {
  if (process.platform === 'win32') return;
  const dir = await tempDir();
  const child = spawn(
    process.execPath,
    [...serveArgs(dir, '--socket', path.join(dir, 's.sock')), '--idle-timeout', '0.2'],
    {
      stdio: 'pipe',
    },
  );
  try {
    assert.deepEqual(await once(child, 'exit'), [0, null]);
    const log = await fsp.readFile(path.join(dir, 'logs', 'daemon.log'), 'utf8');
    assert.match(log, /idle for 0.2 s/);
  } finally {
    child.kill();
    await fsp.rm(dir, { recursive: true, force: true });
  }
});

test('port: 127.0.0.1 only, owner-only token, a wrong token is refused and disconnected', async () => {
  const dir = await tempDir();
  const child = spawn(process.execPath, serveArgs(dir, '--port', '0'), { stdio: 'pipe' });
  try {
    const info = await discovery(dir, child);
    assert.equal(info.endpoint?.kind, 'port');
    const ep = info.endpoint as { port: number; host: string; tokenFile: string };
    assert.equal(ep.host, '127.0.0.1');
    assert.equal(ep.tokenFile, path.join(dir, TOKEN_FILE));
    if (process.platform !== 'win32') {
      assert.equal((await fsp.stat(ep.tokenFile)).mode & 0o777, 0o600);
    }
    const token = (await fsp.readFile(ep.tokenFile, 'utf8')).trim();

    const bad = await ThreadxClient.connectPort(ep.port);
    const closed = new Promise<void>((resolve) => bad.onClose(resolve));
    await assert.rejects(
      bad.initialize({ token: 'wrong' }),
      (e: unknown) => e instanceof ResponseError && e.rpcCode === ErrorCodes.Unauthorized,
    );
    await closed;

    // On a port, the first message must authenticate: anything else is refused.
    const none = await ThreadxClient.connectPort(ep.port);
    await assert.rejects(
      none.request('registry/list', {}),
      (e: unknown) => e instanceof ResponseError && e.rpcCode === ErrorCodes.Unauthorized,
    );
    none.close();

    const good = await ThreadxClient.connectPort(ep.port);
    const r = await good.initialize({ token });
    assert.equal(r.pid, child.pid);
    const exited = once(child, 'exit');
    await good.stop();
    assert.deepEqual(await exited, [0, null]);
    assert.equal(existsSync(ep.tokenFile), false, 'token file removed');
  } finally {
    child.kill();
    await fsp.rm(dir, { recursive: true, force: true });
  }
});
