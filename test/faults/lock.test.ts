/**
 * The bank's lock, attacked from outside: a stranger that reuses a dead holder's pid, a live
 * writer in another pid namespace or on a host whose clock disagrees with ours, a writer whose
 * lock was taken while it worked, and a bank on a read-only mount. The lock must never be blocked
 * by a stranger nor taken from a live writer, and reading needs no lock at all.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, promises as fsp } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Bank } from '../../daemon/store/bank.ts';
import {
  BANK_LOCK,
  type LockOwner,
  STALE_MS,
  acquireBankLock,
  setLockHeartbeat,
  setLockStaleAfter,
} from '../../daemon/store/lock.ts';
import { processStartTicks, selfIdentity } from '../../daemon/store/proc.ts';
import { emptyRegistry } from '../../schemas/registry.ts';
import { synth1m } from '../helpers/synth.ts';
import { CLI, ensureBuilt, errorText, finish, runCli, tempDir } from './harness.ts';

const READONLY_FS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'readonly-fs.mjs');
const JAN = Date.UTC(2024, 0, 1);
let work: string;

before(async () => {
  ensureBuilt();
  work = await tempDir('threadx-lock-');
});

after(async () => {
  await fsp.rm(work, { recursive: true, force: true });
});

/** A bank folder with an empty registry (so read-only commands accept it). */
async function emptyBank(name: string): Promise<string> {
  const dir = path.join(work, name);
  await fsp.mkdir(dir, { recursive: true });
  await fsp.writeFile(path.join(dir, 'registry.json'), JSON.stringify(emptyRegistry()));
  return dir;
}

/**
 * Writes `owner.json` into the lock folder as another process would, keeping the folder's mtime
 * (a live holder's heartbeat checks it is still the mtime it set).
 */
async function writeOwner(dir: string, owner: Partial<LockOwner>): Promise<void> {
  const lockDir = path.join(dir, BANK_LOCK);
  await fsp.mkdir(lockDir, { recursive: true });
  const { atime, mtime } = await fsp.stat(lockDir);
  await fsp.writeFile(path.join(lockDir, 'owner.json'), JSON.stringify(owner));
  await fsp.utimes(lockDir, atime, mtime);
}

test('a pid reused by a stranger (a sleep) never blocks the bank, and nobody is told to kill it', async () => {
  const sleep = spawn('sleep', ['300'], { stdio: 'ignore' });
  await once(sleep, 'spawn');
  try {
    const me = selfIdentity();
    const cases: [string, Partial<LockOwner>][] = [
      // An older version's owner file: the stranger started long after the lock was taken.
      ['since', { since: Date.now() - 3600_000 }],
      // This version's: the same boot and namespace, but another start time (the lock's holder
      // started, by its record, one tick before the stranger did).
      [
        'start time',
        {
          since: Date.now(),
          bootId: me.bootId,
          pidNs: me.pidNs,
          startTicks: (processStartTicks(sleep.pid!) ?? 1) - 1,
          cmdline: 'node dist/cli.js ingest',
        },
      ],
    ];
    for (const [name, fields] of cases) {
      const dir = await emptyBank(`reused-${name.replace(' ', '-')}`);
      await writeOwner(dir, {
        pid: sleep.pid!,
        host: hostname(),
        command: 'threadx ingest',
        token: 'crashed',
        ...fields,
      });
      // verify records its findings: it takes the lock when the holder is gone.
      const r = await runCli(['verify', '--data-dir', dir, '--json'], work);
      assert.equal(r.code, 0, `${name}: ${r.stdout}${r.stderr}`);
      assert.doesNotMatch(r.stderr, /without recording/, `${name}: the lock was taken`);
      assert.doesNotMatch(r.stdout + r.stderr, /kill/, `${name}: no advice to kill a stranger`);
      assert.equal(existsSync(path.join(dir, BANK_LOCK)), false, `${name}: released after`);
      assert.equal(sleep.exitCode, null, 'the stranger lives on');
    }
  } finally {
    sleep.kill();
  }
});

/**
 * A lock held for real by this process (heartbeat every second) whose owner file then says it is
 * held from elsewhere, as another container's or host's writer would: its pid means nothing here.
 */
async function liveForeignLock(
  dir: string,
  fields: Partial<LockOwner>,
): Promise<{ release: () => Promise<void> }> {
  setLockHeartbeat(1000);
  const got = await acquireBankLock(dir, 'threadx ingest');
  assert.ok(got.acquired);
  await writeOwner(dir, { ...got.lock.owner, pid: 999_999, ...fields });
  return {
    release: async () => {
      await got.lock.release();
      setLockHeartbeat(5000);
    },
  };
}

test('a live writer in another pid namespace keeps its lock and its journal; no local pid is offered to kill', async () => {
  const dir = await emptyBank('other-namespace');
  const journal = path.join(dir, '.journal-BTCUSDT.json');
  const holder = await liveForeignLock(dir, { pidNs: 'pid:[4026000001]' });
  try {
    await fsp.writeFile(journal, 'a write in progress');
    const writer = await runCli(
      ['resample', '--symbol', 'BTCUSDT', '--data-dir', dir, '--json'],
      work,
    );
    assert.equal(writer.code, 3, writer.stdout + writer.stderr);
    const said = errorText(writer);
    assert.match(said, /^LOCKED: .*"threadx ingest" \(pid 999999 on .*another container/);
    assert.doesNotMatch(said, /kill/);
    assert.match(writer.stderr, /watching its heartbeat/);
    // A reader neither waits nor recovers the live writer's journal.
    const reader = await runCli(['list', '--data-dir', dir, '--json'], work);
    assert.equal(reader.code, 0, reader.stdout + reader.stderr);
    assert.equal(await fsp.readFile(journal, 'utf8'), 'a write in progress');
  } finally {
    await holder.release();
  }
});

test('a live writer on a host whose clock is an hour behind keeps its lock and its journal', async () => {
  const dir = await emptyBank('skewed-host');
  const journal = path.join(dir, '.journal-BTCUSDT.json');
  const lockDir = path.join(dir, BANK_LOCK);
  // The other host's heartbeat: its mtimes advance, an hour behind our clock.
  await writeOwner(dir, {
    pid: 4242,
    host: 'other-host',
    command: 'threadx ingest',
    since: Date.now() - 3600_000,
    token: 'remote',
    bootId: 'another-kernel',
    pidNs: 'pid:[4026000002]',
  });
  let beat = (Date.now() - 3600_000) / 1000;
  const heartbeat = setInterval(() => {
    beat += 0.2;
    void fsp.utimes(lockDir, beat, beat).catch(() => undefined);
  }, 200);
  try {
    await fsp.writeFile(journal, 'a write in progress');
    const r = await runCli(['verify', '--data-dir', dir, '--json'], work);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stderr, /"threadx ingest" \(pid 4242 on other-host, another machine/);
    assert.match(r.stderr, /Checking without recording/);
    assert.doesNotMatch(r.stderr, /kill 4242/);
    const owner = JSON.parse(await fsp.readFile(path.join(lockDir, 'owner.json'), 'utf8')) as {
      token: string;
    };
    assert.equal(owner.token, 'remote', 'the lock is still the remote writer’s');
    assert.equal(await fsp.readFile(journal, 'utf8'), 'a write in progress');
  } finally {
    clearInterval(heartbeat);
  }
});

test('a lock held elsewhere whose heartbeat stops is stale after the bound of our own clock, whatever its mtime says', async () => {
  const BOUND = 600;
  setLockStaleAfter(BOUND);
  try {
    for (const [name, fields] of [
      // A host whose clock runs an hour ahead: its last heartbeat looks like the future.
      ['clock ahead', { host: 'other-host', bootId: 'another-kernel' }],
      // This host before a reboot (or a same-named machine): another boot id.
      ['another boot', { host: hostname(), bootId: 'an-earlier-boot' }],
    ] as const) {
      const dir = await emptyBank(`silent-${name.replace(' ', '-')}`);
      await writeOwner(dir, {
        pid: 4242,
        command: 'threadx ingest',
        since: Date.now(),
        token: 'silent',
        ...fields,
      });
      const ahead = Date.now() / 1000 + 3600;
      await fsp.utimes(path.join(dir, BANK_LOCK), ahead, ahead);
      const watched: number[] = [];
      const t0 = performance.now();
      const got = await acquireBankLock(dir, 'threadx test', {
        onWatch: (_o, ms) => watched.push(ms),
      });
      assert.ok(got.acquired, `${name}: the silent lock was taken`);
      assert.ok(performance.now() - t0 >= BOUND, `${name}: only after watching it for the bound`);
      assert.deepEqual(watched, [BOUND]);
      await got.lock.release();
    }
  } finally {
    setLockStaleAfter(STALE_MS);
  }
});

test('a writer whose lock was taken stops before its next commit (fencing token)', async () => {
  const dir = path.join(work, 'fenced');
  const got = await acquireBankLock(dir, 'threadx ingest');
  assert.ok(got.acquired);
  try {
    const bank = await Bank.open(dir, { lock: got.lock });
    await bank.write1m('BTCUSDT', synth1m(JAN, 1440, 1), 'test');
    const registry = await fsp.readFile(path.join(dir, 'registry.json'), 'utf8');
    // Another process takes the lock (it judged ours stale: a long pause, a split file system).
    await writeOwner(dir, { ...got.lock.owner, pid: 4242, token: 'newcomer' });
    await assert.rejects(
      bank.write1m('ETHUSDT', synth1m(JAN, 1440, 2), 'test'),
      (e: Error & { code?: string }) =>
        e.code === 'LOCKED' && /no longer this process's/.test(e.message),
    );
    await assert.rejects(bank.save(), (e: Error & { code?: string }) => e.code === 'LOCKED');
    assert.equal(await fsp.readFile(path.join(dir, 'registry.json'), 'utf8'), registry);
    assert.equal(existsSync(path.join(dir, '.journal-ETHUSDT.json')), false);
    assert.equal(existsSync(path.join(dir, 'processed', 'ETHUSDT')), false, 'nothing written');
  } finally {
    await got.lock.release();
  }
  // Releasing leaves the newcomer's lock in place.
  const owner = JSON.parse(
    await fsp.readFile(path.join(dir, BANK_LOCK, 'owner.json'), 'utf8'),
  ) as LockOwner;
  assert.equal(owner.token, 'newcomer');
});

test('a read-only bank is read: list, export, check and verify take no lock and say what they cannot do', async () => {
  const dir = path.join(work, 'read-only');
  const bank = await Bank.open(dir);
  await bank.write1m('BTCUSDT', synth1m(JAN, 3 * 1440, 1), 'test');
  await bank.derive('BTCUSDT', ['1h']);
  // An interrupted write that recovery would roll back, left when the folder became read-only.
  const entry = bank.get('BTCUSDT', '1m')!;
  const journal = path.join(dir, '.journal-BTCUSDT.json');
  const item = { dataset: entry.id, file: { ...entry.files[0], sha256: '0'.repeat(64) } };
  await fsp.writeFile(journal, JSON.stringify([item]));
  const before = await fsp.readdir(dir, { recursive: true });
  const registry = await fsp.readFile(path.join(dir, 'registry.json'), 'utf8');
  const out = path.join(work, 'read-only-export.csv');
  const readOnly = async (args: string[]) =>
    finish(
      spawn(process.execPath, ['--import', READONLY_FS, CLI, ...args, '--data-dir', dir], {
        cwd: work,
        env: { ...process.env, THREADX_READONLY_DIR: dir },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
  const list = await readOnly(['list', '--json']);
  assert.equal(list.code, 0, list.stdout + list.stderr);
  assert.equal((JSON.parse(list.stdout) as { datasets: unknown[] }).datasets.length, 2);
  assert.match(list.stderr, /interrupted write .* cannot be completed here: .*\(EROFS\)/);
  assert.match(list.stderr, /"threadx verify" where the bank is writable/);

  const exp = await readOnly(['export', '--symbol', 'BTCUSDT', '--interval', '1h', '--out', out]);
  assert.equal(exp.code, 0, exp.stdout + exp.stderr);
  assert.equal((await fsp.readFile(out, 'utf8')).trim().split('\n').length, 1 + 72);

  const check = await readOnly(['check', '--symbol', 'BTCUSDT', '--json']);
  assert.equal(check.code, 0, check.stdout + check.stderr);

  const verify = await readOnly(['verify', '--json']);
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  assert.equal((JSON.parse(verify.stdout.trim()) as { ok: boolean }).ok, true);
  assert.match(verify.stderr, /cannot be written \(EROFS\); checking without recording/);

  // A command that writes refuses, naming the commands that read.
  const writer = await readOnly(['resample', '--symbol', 'BTCUSDT', '--json']);
  assert.equal(writer.code, 3);
  assert.match(errorText(writer), /cannot be written \(EROFS creating its lock/);
  assert.match(errorText(writer), /"threadx list"/);

  // Nothing in the folder changed.
  assert.equal(await fsp.readFile(path.join(dir, 'registry.json'), 'utf8'), registry);
  assert.deepEqual((await fsp.readdir(dir, { recursive: true })).sort(), before.sort());
  // Writable again, the next reader completes the interrupted write (rolled back).
  const fresh = await Bank.open(dir);
  assert.equal(existsSync(journal), false);
  assert.deepEqual(fresh.recoveryNotes, []);
});
