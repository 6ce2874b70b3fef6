/**
 * Repair under attack: killed at random moments, with the network gone, with the archive host
 * unreachable and with the disk full. Nothing is removed before its replacement is committed, so
 * every interrupted repair leaves the damage where it was and recorded (verify exits 1), and one
 * more repair ends in a bank byte-identical to an uninterrupted repair's. And the two sources
 * stand in for each other: a dead archive sends ingest and repair to REST, a failing REST sends
 * complete past days to the archive.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { promises as fsp } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { startReplayServer, type ReplayServer } from '../../daemon/replay/server.ts';
import {
  NOW,
  ensureBuilt,
  finish,
  fingerprint,
  rows1m,
  runCli,
  startCli,
  tempDir,
} from './harness.ts';

const SYMBOL = 'BTCUSDT';
/** February's tail, the whole of March (one monthly archive file) and April's start. */
const WINDOW = ['--start', '2023-02-25T00:00:00Z', '--end', '2023-04-05T00:00:00Z'];
const MARCH = `processed/${SYMBOL}/1m/2023-03.parquet`;
const APRIL = `processed/${SYMBOL}/1m/2023-04.parquet`;
/** Kills in the loop; `KILLS=20 node --import tsx --test test/faults/repair.test.ts` to measure more. */
const KILLS = Number(process.env.KILLS ?? 8);

let replay: ReplayServer;
let work: string;
/** A bank as ingest left it, the same bank with March truncated and April gone, repaired. */
let pristine: string;
let damaged: string;
let reference: string;
let referenceMs = 0;

/** A closed port on 127.0.0.1: connections to it are refused. */
async function deadUrl(): Promise<string> {
  const srv = net.createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address() as net.AddressInfo;
  srv.close();
  await once(srv, 'close');
  return `http://127.0.0.1:${port}`;
}

/** Every file of the bank (registry aside) by its checksum, and the registry's fingerprint. */
async function snapshot(dir: string): Promise<Record<string, unknown>> {
  const files: Record<string, string> = {};
  for (const sub of ['processed', 'indicators']) {
    const root = path.join(dir, sub);
    const names = await fsp.readdir(root, { recursive: true }).catch(() => [] as string[]);
    for (const n of names.sort()) {
      const abs = path.join(root, n);
      if (!(await fsp.stat(abs)).isFile()) continue;
      files[`${sub}/${n}`] = createHash('sha256')
        .update(await fsp.readFile(abs))
        .digest('hex');
    }
  }
  return { files, registry: await fingerprint(dir) };
}

async function copyBank(from: string, name: string): Promise<string> {
  const to = path.join(work, name);
  await fsp.rm(to, { recursive: true, force: true });
  await fsp.cp(from, to, { recursive: true });
  return to;
}

function repairArgs(dir: string, base = replay.url, archive = replay.archiveUrl): string[] {
  return [
    'repair',
    '--symbol',
    SYMBOL,
    '--data-dir',
    dir,
    '--base-url',
    base,
    '--archive-url',
    archive,
  ];
}

const verify = (dir: string) => runCli(['verify', '--data-dir', dir, '--json'], work);

before(async () => {
  ensureBuilt();
  replay = await startReplayServer({ now: NOW });
  work = await tempDir('threadx-repair-');
  // Retries short: the dead-network cases fail in a second, not in a quarter of a minute.
  await fsp.writeFile(
    path.join(work, 'threadx.toml'),
    '[data.api]\nretry_delay = 0.01\nmax_retries = 1\n',
  );
  pristine = path.join(work, 'pristine');
  const made = await runCli(
    [
      'ingest',
      '--symbols',
      SYMBOL,
      ...WINDOW,
      '--intervals',
      '1h,4h,1d',
      '--data-dir',
      pristine,
      '--base-url',
      replay.url,
      '--archive-url',
      replay.archiveUrl,
    ],
    work,
  );
  assert.equal(made.code, 0, made.stdout + made.stderr);
  damaged = await copyBank(pristine, 'damaged');
  // Two damaged months: one cut short, one gone.
  await fsp.truncate(path.join(damaged, MARCH), 300);
  await fsp.rm(path.join(damaged, APRIL));
  reference = await copyBank(damaged, 'reference');
  const t0 = performance.now();
  const r = await runCli(repairArgs(reference), work);
  referenceMs = performance.now() - t0;
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /repaired, verified/);
  // The repaired month is the month ingest wrote: the same bytes.
  assert.deepEqual((await fingerprint(reference)).datasets, (await fingerprint(pristine)).datasets);
});

after(async () => {
  await replay?.close().catch(() => undefined);
  if (work) await fsp.rm(work, { recursive: true, force: true });
});

test('repair killed at random moments: the damage stays recorded, one more repair ends byte-identical', async (t) => {
  const want = await snapshot(reference);
  const wantRows = (await rows1m(pristine))[SYMBOL];
  let seed = 20261207;
  const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  let stillReported = 0;
  for (let k = 0; k < KILLS; k++) {
    const dir = await copyBank(damaged, `kill-${k}`);
    const child = startCli(repairArgs(dir), work);
    const done = finish(child);
    // The attack itself is timed: a kill anywhere in the repair's run, its registry save included.
    const timer = setTimeout(() => child.kill('SIGKILL'), rnd() * referenceMs);
    await done;
    clearTimeout(timer);
    const v = await verify(dir);
    // Never "sound" with candles missing: either verify still reports the damaged month, or the
    // month is whole again.
    if (v.code === 1) {
      stillReported++;
      assert.match(v.stdout, /2023-0[34]\.parquet/, `kill ${k}: verify names a damaged month`);
    } else {
      assert.equal(v.code, 0, `kill ${k}: ${v.stdout}${v.stderr}`);
      assert.equal((await rows1m(dir))[SYMBOL], wantRows, `kill ${k}: no candle lost`);
    }
    const again = await runCli(repairArgs(dir), work);
    assert.equal(again.code, 0, `kill ${k}: ${again.stdout}${again.stderr}`);
    assert.deepEqual(
      await snapshot(dir),
      want,
      `kill ${k}: the bank equals an uninterrupted repair's`,
    );
    await fsp.rm(dir, { recursive: true });
  }
  // The loop must have caught repairs mid-way, or it attacked nothing.
  assert.ok(stillReported > 0, 'no kill landed before the repair committed');
  t.diagnostic(
    `${KILLS} kills over ${Math.round(referenceMs)} ms: ${stillReported} left the damage reported, ${KILLS - stillReported} after the commit; 0 candles lost; every bank byte-identical after one more repair`,
  );
});

test('repair with no network removes nothing and says so; the next repair completes it', async () => {
  const dir = await copyBank(damaged, 'offline');
  const before = await fingerprint(dir);
  const dead = await deadUrl();
  const r = await runCli([...repairArgs(dir, dead, dead), '--json'], work);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
    results: { error?: { message: string } }[];
  };
  assert.match(out.results[0].error?.message ?? '', /Nothing was removed/);
  assert.match(out.results[0].error?.message ?? '', /threadx repair --symbol BTCUSDT/);
  // The registry still promises every file it did; verify still reports the damage.
  assert.deepEqual((await fingerprint(dir)).datasets, before.datasets);
  const v = await verify(dir);
  assert.equal(v.code, 1, v.stdout);
  assert.match(v.stdout, /2023-03\.parquet/);
  // The exchange is back: the repair its message advises completes it.
  const again = await runCli(repairArgs(dir), work);
  assert.equal(again.code, 0, again.stdout + again.stderr);
  assert.deepEqual(await snapshot(dir), await snapshot(reference));
});

test('an unreachable archive: repair and ingest fetch over REST instead, and say so once', async () => {
  const dead = await deadUrl();
  const dir = await copyBank(damaged, 'no-archive');
  const r = await runCli(repairArgs(dir, replay.url, dead), work);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(r.stdout.match(/archive could not be reached/g)?.length, 1, r.stdout);
  assert.deepEqual(await snapshot(dir), await snapshot(reference));

  const fresh = path.join(work, 'ingest-no-archive');
  const i = await runCli(
    [
      'ingest',
      '--symbols',
      `${SYMBOL},ETHUSDT`,
      ...WINDOW,
      '--intervals',
      '1h,4h,1d',
      '--data-dir',
      fresh,
      '--base-url',
      replay.url,
      '--archive-url',
      dead,
    ],
    work,
  );
  assert.equal(i.code, 0, i.stdout + i.stderr);
  assert.equal(i.stdout.match(/archive could not be reached/g)?.length, 1, i.stdout);
  const mine = (await fingerprint(fresh)).datasets as Record<string, unknown>;
  const theirs = (await fingerprint(pristine)).datasets as Record<string, unknown>;
  for (const [id, d] of Object.entries(theirs)) assert.deepEqual(mine[id], d, id);
});

test('a disk that fills during repair: nothing lost, still reported, completed once space is back', async (t) => {
  const mnt = path.join(work, 'small-disk');
  await fsp.mkdir(mnt);
  const used = Number(execFileSync('du', ['-sk', damaged]).toString().split('\t')[0]);
  try {
    // Room for the damaged bank and the registry's rewrites, not for March written again.
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${used + 256}k`, 'tmpfs', mnt], {
      stdio: 'ignore',
    });
  } catch {
    t.skip('mounting a small tmpfs needs root (CI runs as root)');
    return;
  }
  try {
    const dir = path.join(mnt, 'bank');
    await fsp.cp(damaged, dir, { recursive: true });
    const rowsBefore = (await rows1m(dir))[SYMBOL];
    const r = await runCli(repairArgs(dir), work);
    assert.notEqual(r.code, 0, 'a repair with no room for its month cannot succeed');
    assert.equal((await rows1m(dir))[SYMBOL], rowsBefore, 'the registry lost nothing');
    const v = await verify(dir);
    assert.equal(v.code, 1, v.stdout + v.stderr);
    assert.match(v.stdout, /2023-03\.parquet/);
    execFileSync('mount', ['-o', `remount,size=${used * 4 + 4096}k`, mnt]);
    const again = await runCli(repairArgs(dir), work);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.deepEqual(await snapshot(dir), await snapshot(reference));
  } finally {
    execFileSync('umount', ['-l', mnt]);
  }
});

test('REST failing for a range the archive covers: ingest reads it from the archive, and says so once', async () => {
  const broken = await startReplayServer({
    now: NOW,
    faults: [{ kind: 'http5xx', path: '/api/v3/klines' }],
  });
  try {
    const day = ['--start', '2023-04-10T00:00:00Z', '--end', '2023-04-10T06:00:00Z'];
    const args = (dir: string, url: string, archive: string): string[] => [
      'ingest',
      '--symbols',
      SYMBOL,
      ...day,
      '--intervals',
      '1h',
      '--data-dir',
      dir,
      '--base-url',
      url,
      '--archive-url',
      archive,
    ];
    const ref = path.join(work, 'rest-ref');
    assert.equal((await runCli(args(ref, replay.url, replay.archiveUrl), work)).code, 0);
    const dir = path.join(work, 'rest-broken');
    const r = await runCli(args(dir, broken.url, broken.archiveUrl), work);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.ok((broken.stats.faults.http5xx ?? 0) > 0, 'REST was attacked');
    assert.equal(r.stdout.match(/REST API failed/g)?.length, 1, r.stdout);
    assert.deepEqual(await fingerprint(dir), await fingerprint(ref));
  } finally {
    await broken.close();
  }
});
