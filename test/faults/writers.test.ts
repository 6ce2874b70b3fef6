/**
 * One writer per bank. Attacks: two CLI ingests on one data directory, a CLI ingest beside a
 * running daemon, several daemons started at once over a stale lock, two bank instances saving
 * the registry in turn. After each, the bank equals an uninterrupted run's and every exit code
 * says what happened.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { promises as fsp, watch } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { startReplayServer, type ReplayServer } from '../../daemon/replay/server.ts';
import { Bank } from '../../daemon/store/bank.ts';
import { BANK_LOCK, acquireBankLock, setLockHeartbeat } from '../../daemon/store/lock.ts';
import { DISCOVERY_FILE } from '../../daemon/rpc/lifecycle.ts';
import { synth1m } from '../helpers/synth.ts';
import {
  NOW,
  ensureBuilt,
  errorText,
  finish,
  fingerprint,
  runCli,
  startCli,
  tempDir,
  waitForFile,
} from './harness.ts';

let replay: ReplayServer;
let work: string;
const SYMBOLS = 'BTCUSDT,ETHUSDT';
const ingestArgs = (dir: string, symbols: string, url: string): string[] => [
  'ingest',
  '--symbols',
  symbols,
  '--start',
  '2023-04-01',
  '--end',
  '2023-04-02T12:00Z',
  '--source',
  'rest',
  '--intervals',
  '1h',
  '--base-url',
  url,
  '--data-dir',
  dir,
  '--json',
];
let reference: Record<string, unknown>;

before(async () => {
  ensureBuilt();
  replay = await startReplayServer({ now: NOW });
  work = await tempDir();
  const ref = await runCli(ingestArgs(path.join(work, 'ref'), SYMBOLS, replay.url), work);
  assert.equal(ref.code, 0, ref.stderr);
  reference = await fingerprint(path.join(work, 'ref'));
});

after(async () => {
  await replay.close();
  await fsp.rm(work, { recursive: true, force: true });
});

/** A proxy in front of the replay exchange that holds every request until `open()`. */
async function gatedProxy(): Promise<{ url: string; open(): void; close(): Promise<void> }> {
  let open!: () => void;
  const gate = new Promise<void>((r) => (open = r));
  const srv: Server = createServer((req, res) => {
    void gate
      .then(() => fetch(replay.url + (req.url ?? '/')))
      .then(async (r) => {
        const headers: Record<string, string> = {};
        r.headers.forEach((v, k) => (headers[k] = v));
        delete headers['content-encoding'];
        delete headers['content-length'];
        res.writeHead(r.status, headers);
        res.end(Buffer.from(await r.arrayBuffer()));
      })
      .catch(() => res.destroy());
  });
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  return {
    url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`,
    open,
    close: () => new Promise((r) => srv.close(() => r())),
  };
}

test('two CLI ingests on one bank: the second refuses, naming the first; nothing is lost', async () => {
  const dir = path.join(work, 'two-cli');
  const proxy = await gatedProxy();
  try {
    const first = startCli(ingestArgs(dir, 'BTCUSDT', proxy.url), work);
    const firstDone = finish(first);
    // The first holds the lock (and waits on the exchange) when the second starts.
    await waitForFile(path.join(dir, BANK_LOCK, 'owner.json'), first, dir);
    const second = await runCli(ingestArgs(dir, 'ETHUSDT', replay.url), work);
    assert.equal(second.code, 3, 'a refused writer exits 3 (storage), not 0');
    const said = errorText(second);
    assert.match(said, /^LOCKED: /);
    assert.match(said, new RegExp(`"threadx ingest" \\(pid ${first.pid}, since `));
    assert.match(said, /stop that process \(kill \d+\)/);
    proxy.open();
    const r1 = await firstDone;
    assert.equal(r1.code, 0, r1.stderr);
    const again = await runCli(ingestArgs(dir, 'ETHUSDT', replay.url), work);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(await fingerprint(dir), reference);
  } finally {
    proxy.open();
    await proxy.close();
  }
});

test('a CLI ingest beside a running daemon refuses with --join as the fix; --join runs it there', async () => {
  const dir = path.join(work, 'beside-daemon');
  await fsp.mkdir(dir, { recursive: true });
  // The daemon reads its configuration from the data directory: the replay exchange.
  await fsp.writeFile(path.join(dir, 'threadx.toml'), `[data.api]\nbase_url = "${replay.url}"\n`);
  const daemon = startCli(['serve', '--socket', path.join(dir, 'd.sock'), '--data-dir', dir], dir);
  const daemonDone = finish(daemon);
  try {
    await waitForFile(path.join(dir, DISCOVERY_FILE), daemon);
    const refused = await runCli(ingestArgs(dir, SYMBOLS, replay.url), work);
    assert.equal(refused.code, 3);
    assert.match(errorText(refused), new RegExp(`"threadx serve --socket" \\(pid ${daemon.pid}`));
    assert.match(errorText(refused), /Add --join/);
    const args = ingestArgs(dir, SYMBOLS, replay.url);
    const i = args.indexOf('--base-url');
    args.splice(i, 2, '--join');
    const joined = await runCli(args, work);
    assert.equal(joined.code, 0, joined.stdout + joined.stderr);
    assert.equal(JSON.parse(joined.stdout.trim().split('\n').pop()!).joined, daemon.pid);
    // Commands without --join (the bank now exists) name the daemon and the fixes that exist,
    // never --join. (repair has --join: test/cli/repair-join.test.ts.)
    for (const cmd of [['resample', '--symbol', 'BTCUSDT']]) {
      const other = await runCli([...cmd, '--data-dir', dir, '--json'], work);
      assert.equal(other.code, 3, other.stdout + other.stderr);
      const text = errorText(other);
      assert.match(text, new RegExp(`"threadx serve --socket" \\(pid ${daemon.pid}`));
      assert.match(text, new RegExp(`Stop that daemon \\(kill ${daemon.pid}\\)`));
      assert.doesNotMatch(text, /Add --join/);
    }
    // verify beside the daemon checks every file and reports, but records nothing: the
    // registry stays the daemon's, byte for byte.
    const registryBefore = await fsp.readFile(path.join(dir, 'registry.json'), 'utf8');
    const checked = await runCli(['verify', '--data-dir', dir, '--json'], work);
    assert.equal(checked.code, 0, checked.stdout + checked.stderr);
    assert.equal(JSON.parse(checked.stdout.trim()).ok, true);
    assert.match(checked.stderr, /without recording the findings/);
    assert.equal(await fsp.readFile(path.join(dir, 'registry.json'), 'utf8'), registryBefore);
    daemon.kill('SIGTERM');
    assert.equal((await daemonDone).code, 0);
    assert.deepEqual(await fingerprint(dir), reference);
    // With the daemon gone, the CLI takes the lock itself; nothing is left to fetch.
    const again = await runCli(ingestArgs(dir, SYMBOLS, replay.url), work);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(await fingerprint(dir), reference);
  } finally {
    daemon.kill();
  }
});

test('five daemons started at once over a stale lock: exactly one takes it', async () => {
  for (let round = 0; round < 3; round++) {
    const dir = path.join(work, `stale-${round}`);
    // The lock of a writer that was killed: its pid no longer exists.
    await fsp.mkdir(path.join(dir, BANK_LOCK), { recursive: true });
    await fsp.writeFile(
      path.join(dir, BANK_LOCK, 'owner.json'),
      JSON.stringify({
        pid: 999_999,
        host: hostname(),
        command: 'threadx ingest',
        since: 0,
        token: 'dead',
      }),
    );
    const kids = Array.from({ length: 5 }, (_, i) =>
      startCli(['serve', '--socket', path.join(dir, `s${i}.sock`), '--data-dir', dir], work),
    );
    const runs = kids.map((k) => finish(k));
    try {
      // The losers exit at once; the winner serves until stopped.
      const exited: number[] = [];
      await new Promise<void>((resolve) => {
        kids.forEach((k, i) =>
          k.once('exit', () => {
            exited.push(i);
            if (exited.length === kids.length - 1) resolve();
          }),
        );
      });
      const winner = kids.find((_, i) => !exited.includes(i))!;
      await waitForFile(path.join(dir, DISCOVERY_FILE), winner);
      for (const i of exited) {
        const r = await runs[i];
        assert.equal(r.code, 1, `loser ${i} exits 1`);
        assert.match(r.stderr, new RegExp(`pid ${winner.pid}`), 'the message names the winner');
      }
      const owner = JSON.parse(
        await fsp.readFile(path.join(dir, BANK_LOCK, 'owner.json'), 'utf8'),
      ) as { pid: number };
      assert.equal(owner.pid, winner.pid);
      winner.kill('SIGTERM');
      assert.equal((await runs[kids.indexOf(winner)]).code, 0);
    } finally {
      for (const k of kids) k.kill();
    }
  }
});

test('registry saves merge: two bank instances writing different symbols keep both', async () => {
  const dir = path.join(work, 'merge');
  const a = await Bank.open(dir);
  const b = await Bank.open(dir);
  const JAN = Date.UTC(2024, 0, 1);
  await a.write1m('BTCUSDT', synth1m(JAN, 3 * 1440, 1), 'a');
  await b.write1m('ETHUSDT', synth1m(JAN, 3 * 1440, 2), 'b');
  await a.derive('BTCUSDT', ['1h']);
  await b.deleteDataset('ETHUSDT', '1m');
  await b.write1m('SOLUSDT', synth1m(JAN, 2 * 1440, 3), 'b');
  const fresh = await Bank.open(dir);
  assert.deepEqual(
    fresh.list().map((d) => d.id),
    ['BTCUSDT/1h', 'BTCUSDT/1m', 'SOLUSDT/1m'],
  );
  assert.equal(fresh.get('BTCUSDT', '1m')?.rows, 3 * 1440);
  // Each instance sees the other's entries after its own save.
  assert.deepEqual(
    b.list().map((d) => d.id),
    ['BTCUSDT/1h', 'BTCUSDT/1m', 'SOLUSDT/1m'],
  );
  assert.equal((await fresh.verify()).filter((i) => i.status !== 'ok').length, 0);
});

test('a writer keeps its lock across heartbeats and can still write', async () => {
  const dir = path.join(work, 'heartbeat');
  setLockHeartbeat(1000);
  let lost!: (e: Error) => void;
  const compromised = new Promise<never>((_, reject) => (lost = reject));
  compromised.catch(() => undefined);
  const got = await acquireBankLock(dir, 'threadx test', { onLost: (e) => lost(e) });
  assert.ok(got.acquired);
  const lock = got.lock;
  try {
    // Each heartbeat touches the lock folder: wait for two of them.
    const lockDir = path.join(dir, BANK_LOCK);
    const watcher = watch(lockDir);
    let beats = 0;
    const before = (await fsp.stat(lockDir)).mtimeMs;
    while (beats < 2) {
      await Promise.race([once(watcher, 'change'), compromised]);
      const now = (await fsp.stat(lockDir)).mtimeMs;
      if (now !== before) beats++;
    }
    watcher.close();
    assert.equal(lock.lost, null, 'the heartbeat did not find the lock compromised');
    const bank = await Bank.open(dir, { lock });
    await bank.write1m('BTCUSDT', synth1m(Date.UTC(2024, 0, 1), 1440, 1), 'test');
    assert.equal(bank.get('BTCUSDT', '1m')?.rows, 1440);
  } finally {
    await lock.release();
    setLockHeartbeat(5000);
  }
});
