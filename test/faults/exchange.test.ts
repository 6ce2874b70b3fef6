/**
 * An exchange (or a proxy, or a mirror) that answers short pages, and clocks that disagree. The
 * bank after each attack equals the bank of an uninterrupted run against an honest exchange, and
 * the exit code is 0 only when that is so.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { startReplayServer, type ReplayServer } from '../../daemon/replay/server.ts';
import { recordedKlines } from '../helpers/fixtures.ts';
import { NOW, ensureBuilt, fingerprint, rows1m, runCli, tempDir } from './harness.ts';

/** Binance's real BTCUSDT 1m klines (with the exchange's own outages), served beside the synthetic series. */
const RECORDED = { BTCUSDT: recordedKlines('freqtrade_andresciancio/BTC_USDT-1m.json.gz') };

let honest: ReplayServer;
let work: string;

before(async () => {
  ensureBuilt();
  honest = await startReplayServer({ now: NOW, recorded: RECORDED });
  work = await tempDir();
});

after(async () => {
  await honest.close();
  await fsp.rm(work, { recursive: true, force: true });
});

function ingest(dir: string, url: string, start: string, end?: string) {
  return runCli(
    [
      'ingest',
      '--symbols',
      'BTCUSDT',
      '--start',
      start,
      ...(end ? ['--end', end] : []),
      '--source',
      'rest',
      '--intervals',
      '1h',
      '--base-url',
      url,
      '--data-dir',
      dir,
      '--json',
    ],
    work,
  );
}

test('short pages never become confirmed-empty ranges; the real outage still does', async () => {
  // 2023-03-24 holds Binance's real outage (about 1 h 40 min without klines).
  const range = ['2023-03-23T12:00Z', '2023-03-25T00:00Z'] as const;
  const ref = path.join(work, 'short-ref');
  assert.equal((await ingest(ref, honest.url, ...range)).code, 0);
  const proxy = await startReplayServer({
    now: NOW,
    recorded: RECORDED,
    faults: [{ kind: 'shortPage', rows: 97 }],
  });
  try {
    const dir = path.join(work, 'short');
    const r = await ingest(dir, proxy.url, ...range);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.ok((proxy.stats.faults.shortPage ?? 0) > 20, 'every page was short');
    assert.deepEqual(await fingerprint(dir), await fingerprint(ref));
    const reg = JSON.parse(await fsp.readFile(path.join(ref, 'registry.json'), 'utf8')) as {
      confirmedEmpty: Record<string, [number, number][]>;
    };
    assert.equal(reg.confirmedEmpty.BTCUSDT.length, 1, 'the outage is confirmed empty');
    // A re-run against the short-paging proxy has nothing left to fetch.
    proxy.resetStats();
    assert.equal((await ingest(dir, proxy.url, ...range)).code, 0);
    assert.equal(proxy.stats.klineRequests, 0);
  } finally {
    await proxy.close();
  }
});

test('a /time two minutes ahead of the klines never stores the open candle', async () => {
  const start = '2023-05-01T18:00Z';
  const ref = path.join(work, 'skew-ref');
  assert.equal((await ingest(ref, honest.url, start)).code, 0);
  const skewed = await startReplayServer({ now: NOW, recorded: RECORDED, timeSkewMs: 120_000 });
  try {
    const dir = path.join(work, 'skew');
    const r = await ingest(dir, skewed.url, start);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    // The open minute (21:03, half its volume) is not stored, and 21:03-21:05 is not an outage.
    assert.deepEqual(await fingerprint(dir), await fingerprint(ref));
    assert.equal((await rows1m(dir)).BTCUSDT, 3 * 60 + 3);
    // Later, with the clocks agreeing again, the bank equals a straight run to the new now.
    const later = Date.parse('2023-05-01T21:10:30Z');
    skewed.setNow(later);
    skewed.setTimeSkew(0);
    assert.equal((await ingest(dir, skewed.url, start)).code, 0);
    honest.setNow(later);
    const ref2 = path.join(work, 'skew-ref2');
    assert.equal((await ingest(ref2, honest.url, start)).code, 0);
    honest.setNow(NOW);
    assert.deepEqual(await fingerprint(dir), await fingerprint(ref2));
  } finally {
    await skewed.close();
  }
});
