/**
 * The frontier is not an outage. An exchange whose klines lag its clock (a busy exchange, a
 * caching mirror, a proxy) serves its still-open minute as the newest row, partial, and nothing
 * past it: "nothing yet", not "nothing ever". The bank never stores that minute, never records the
 * minutes after it as confirmed empty, never fills them, and a later run stores the exchange's
 * real values. A real outage (an empty span with rows after it) is still confirmed and filled.
 * And the plan agrees with the fetch: a second run makes no kline request.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { startReplayServer, type ReplayServer } from '../../daemon/replay/server.ts';
import { recordedKlines } from '../helpers/fixtures.ts';
import { NOW, ensureBuilt, fingerprint, rows1m, runCli, tempDir } from './harness.ts';

const RECORDED = { BTCUSDT: recordedKlines('freqtrade_andresciancio/BTC_USDT-1m.json.gz') };
const MIN = 60_000;
const T = (iso: string): number => Date.parse(iso);
const START = '2023-05-01T18:00Z';

let honest: ReplayServer;
let work: string;

before(async () => {
  ensureBuilt();
  honest = await startReplayServer({ now: NOW, recorded: RECORDED });
  work = await tempDir('threadx-frontier-');
});

after(async () => {
  await honest.close();
  await fsp.rm(work, { recursive: true, force: true });
});

function ingest(dir: string, url: string, extra: string[] = []) {
  return runCli(
    [
      'ingest',
      '--symbols',
      'BTCUSDT',
      '--start',
      START,
      '--source',
      'rest',
      '--intervals',
      '1h',
      '--base-url',
      url,
      '--data-dir',
      dir,
      '--json',
      ...extra,
    ],
    work,
  );
}

interface Registry {
  datasets: Record<string, { symbol: string; interval: string; filledCount?: number }>;
  confirmedEmpty: Record<string, [number, number][]>;
}

async function registry(dir: string): Promise<Registry> {
  return JSON.parse(await fsp.readFile(path.join(dir, 'registry.json'), 'utf8')) as Registry;
}

/** The open time of the newest 1m row of BTCUSDT, read through `threadx export`. */
async function lastRow(dir: string): Promise<{ t: number; close: number; volume: number }> {
  const out = path.join(dir, 'last.csv');
  const r = await runCli(
    ['export', '--symbol', 'BTCUSDT', '--interval', '1m', '--out', out, '--data-dir', dir],
    work,
  );
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const lines = (await fsp.readFile(out, 'utf8')).trim().split('\n');
  const head = lines[0].split(',');
  const last = lines[lines.length - 1].split(',');
  const col = (name: string) => last[head.indexOf(name)];
  const t = col('timestamp');
  return {
    t: /^\d+$/.test(t) ? Number(t) : Date.parse(t),
    close: Number(col('close')),
    volume: Number(col('volume')),
  };
}

test('klines two minutes behind a skewed clock: the open minute is not stored, the frontier is not an outage, and a later run stores the real minutes', async () => {
  const ref = path.join(work, 'ref');
  assert.equal((await ingest(ref, honest.url)).code, 0);
  // The exchange's clock (its Date header) says 21:03:30 and /api/v3/time 21:04:00; its klines
  // stop at 21:01, the open minute, served with what it had traded by 21:01:30.
  const lagging = await startReplayServer({
    now: NOW,
    recorded: RECORDED,
    klineLagMs: 2 * MIN,
    timeSkewMs: 30_000,
  });
  try {
    const dir = path.join(work, 'lag');
    const r = await ingest(dir, lagging.url);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const reg = await registry(dir);
    // 18:00 .. 21:00: 21:00 is final (the exchange showed 21:01 after it), 21:01 is open.
    assert.equal((await rows1m(dir)).BTCUSDT, 3 * 60 + 1);
    assert.equal((await lastRow(dir)).t, T('2023-05-01T21:00Z'));
    assert.deepEqual(reg.confirmedEmpty.BTCUSDT ?? [], [], 'the frontier is not an outage');
    assert.equal(reg.datasets['BTCUSDT/1m'].filledCount ?? 0, 0, 'nothing filled');
    // Run again, still lagging: the open minute is asked for again and still not stored.
    assert.equal((await ingest(dir, lagging.url)).code, 0);
    assert.equal((await rows1m(dir)).BTCUSDT, 3 * 60 + 1);
    assert.deepEqual((await registry(dir)).confirmedEmpty.BTCUSDT ?? [], []);

    // The mirror catches up, later: the minutes it had not served are the exchange's real ones.
    const later = T('2023-05-01T21:10:30Z');
    lagging.setNow(later);
    lagging.setKlineLag(0);
    lagging.setTimeSkew(0);
    assert.equal((await ingest(dir, lagging.url)).code, 0);
    honest.setNow(later);
    const ref2 = path.join(work, 'ref2');
    try {
      assert.equal((await ingest(ref2, honest.url)).code, 0);
    } finally {
      honest.setNow(NOW);
    }
    assert.deepEqual(await fingerprint(dir), await fingerprint(ref2));
    assert.equal((await registry(dir)).datasets['BTCUSDT/1m'].filledCount ?? 0, 0);
  } finally {
    await lagging.close();
  }
});

test('a real outage (an empty span with rows after it) is still confirmed empty and filled, behind a lagging mirror too', async () => {
  const outage: [number, number] = [T('2023-05-01T20:00Z'), T('2023-05-01T20:10Z')];
  const lagging = await startReplayServer({
    now: NOW,
    recorded: RECORDED,
    klineLagMs: 2 * MIN,
    faults: [{ kind: 'missing', symbol: 'BTCUSDT', ranges: [outage] }],
  });
  try {
    const dir = path.join(work, 'outage');
    const r = await ingest(dir, lagging.url);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const reg = await registry(dir);
    assert.deepEqual(reg.confirmedEmpty.BTCUSDT, [outage]);
    assert.equal(reg.datasets['BTCUSDT/1m'].filledCount, 10, 'the outage is filled and flagged');
    assert.equal((await lastRow(dir)).t, T('2023-05-01T21:00Z'));
  } finally {
    await lagging.close();
  }
});

test('a symbol with no rows after a minute: that minute is final once every clock is past the bound, and the silence after it is not an outage', async () => {
  // The exchange has nothing from 20:00 on (halted, or a mirror stuck for an hour).
  const stuck = await startReplayServer({
    now: NOW,
    recorded: RECORDED,
    faults: [{ kind: 'missing', symbol: 'BTCUSDT', ranges: [[T('2023-05-01T20:00Z'), NOW + 1e9]] }],
  });
  try {
    const dir = path.join(work, 'stuck');
    assert.equal((await ingest(dir, stuck.url, ['--end', '2023-05-01T21:00Z'])).code, 0);
    const reg = await registry(dir);
    assert.equal((await lastRow(dir)).t, T('2023-05-01T19:59Z'), 'closed 63 minutes ago');
    assert.deepEqual(reg.confirmedEmpty.BTCUSDT ?? [], []);
    assert.equal(reg.datasets['BTCUSDT/1m'].filledCount ?? 0, 0);
  } finally {
    await stuck.close();
  }
});

test('the plan and the fetch agree on the frontier: a second run and a dry run of an up-to-date symbol make and plan no kline request', async () => {
  // As in the demo: the exchange's clock exactly on a minute, so 21:02 closes at its last instant.
  const exact = await startReplayServer({ now: T('2023-05-01T21:03:00Z'), recorded: RECORDED });
  try {
    const dir = path.join(work, 'twice');
    assert.equal((await ingest(dir, exact.url)).code, 0);
    assert.equal((await lastRow(dir)).t, T('2023-05-01T21:02Z'));
    exact.resetStats();
    const dry = await ingest(dir, exact.url, ['--dry-run']);
    assert.equal(dry.code, 0, dry.stdout + dry.stderr);
    const plan = (
      JSON.parse(dry.stdout.trim().split('\n').pop()!) as {
        plan: { requests: number; symbols: { minutes: number }[] };
      }
    ).plan;
    assert.equal(plan.requests, 0);
    assert.equal(plan.symbols[0].minutes, 0);
    const again = await ingest(dir, exact.url);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.equal(exact.stats.klineRequests, 0, 'the second run makes no kline request');
  } finally {
    await exact.close();
  }
});
