/**
 * Derived data in step with 1m when history grows, and repair, against the replay exchange.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startReplayServer, type ReplayServer } from '../../daemon/replay/server.ts';
import { BinanceRestClient } from '../../daemon/sources/rest.ts';
import { RateGovernor } from '../../daemon/sources/governor.ts';
import { Bank } from '../../daemon/store/bank.ts';
import { runIngest, type IngestDeps, type IngestRequest } from '../../daemon/jobs/ingest.ts';
import { updateIndicators } from '../../daemon/jobs/indicators.ts';
import { repairSymbols } from '../../daemon/jobs/repair.ts';
import { topSymbols } from '../../daemon/jobs/universe.ts';
import { buildUniverse } from '../../daemon/replay/universe.ts';
import { parseConfigText } from '../../daemon/store/config.ts';
import { resample, completeBuckets, knownMinutes } from '../../daemon/engine/resample.ts';
import { isThreadxError } from '../../schemas/errors.ts';

const NOW = Date.parse('2023-05-01T21:03:30Z');
const T = (iso: string): number => Date.parse(iso);

async function env(): Promise<{
  server: ReplayServer;
  bank: Bank;
  deps: IngestDeps;
  dir: string;
  close(): Promise<void>;
}> {
  const server = await startReplayServer({ now: NOW });
  const dir = await mkdtemp(path.join(tmpdir(), 'threadx-truth-'));
  const config = parseConfigText('[data.api]\nretry_delay = 0.01\n', path.join(dir, 'x.toml'));
  const bank = await Bank.open(path.join(dir, 'data'));
  const rest = new BinanceRestClient({
    baseUrl: server.url,
    governor: new RateGovernor(),
    retryDelay: 0.01,
    maxRetries: 2,
    timeoutSeconds: 5,
  });
  return {
    server,
    bank,
    dir,
    deps: { bank, config, rest, archiveBaseUrl: server.archiveUrl },
    close: async () => {
      await server.close().catch(() => undefined);
      await rm(dir, { recursive: true });
    },
  };
}

const req = (r: Partial<IngestRequest>): IngestRequest => ({
  symbols: ['BTCUSDT'],
  intervals: ['1h'],
  start: T('2023-04-20T00:00Z'),
  source: 'rest',
  ...r,
});

test('in step: history extended backwards and forwards keeps every derived file and cache equal to 1m', async () => {
  const e = await env();
  const b = e.bank;
  try {
    await runIngest(
      e.deps,
      req({ intervals: ['15m', '1w'], start: T('2023-04-20T10:17Z'), end: T('2023-04-25T06:40Z') }),
    );
    await updateIndicators(b, {
      symbols: ['BTCUSDT'],
      intervals: ['15m'],
      indicators: [{ name: 'rsi' }],
    });
    // Backwards, asking only for 1h; then forwards to the running hour.
    await runIngest(
      e.deps,
      req({ intervals: ['1h'], start: T('2023-04-10T00:00Z'), end: T('2023-04-25T06:40Z') }),
    );
    await runIngest(e.deps, req({ intervals: ['1h'], start: T('2023-04-10T00:00Z') }));
    const m1 = await b.read1m('BTCUSDT');
    const known = knownMinutes(m1, b.confirmedEmpty('BTCUSDT'));
    for (const iv of ['15m', '1h', '1w'] as const) {
      const e1 = b.get('BTCUSDT', iv)!;
      const file = await b.read('BTCUSDT', iv);
      const want = completeBuckets(resample(m1, iv), iv, known);
      assert.equal(e1.rows, file.length, `${iv}: registry rows equal the file`);
      assert.equal(e1.first, file.openTime[0], iv);
      assert.equal(e1.last, file.openTime[file.length - 1], iv);
      assert.equal(file.length, want.candles.length, `${iv}: every whole bucket is stored`);
      assert.deepEqual(e1.pending, want.pending, iv);
      assert.equal(e1.sourceChecksum, b.datasetChecksum('BTCUSDT', '1m'), `${iv} is current`);
    }
    // The running 21:00 hour is pending, not a candle.
    assert.deepEqual(b.get('BTCUSDT', '1h')!.pending, [T('2023-05-01T21:00Z')]);
    const rsi = b.getIndicator('BTCUSDT', '15m', 'rsi-14')!;
    assert.equal(rsi.sourceChecksum, b.datasetChecksum('BTCUSDT', '15m'), 'the cache followed');
    assert.equal(rsi.rows, b.get('BTCUSDT', '15m')!.rows);
  } finally {
    await e.close();
  }
});

test('repair: a corrupt 1m month is re-fetched for exactly its range, damaged derived files and caches rebuilt, sound files untouched', async () => {
  const e = await env();
  const b = e.bank;
  try {
    await runIngest(
      e.deps,
      req({ intervals: ['1h', '1d'], start: T('2023-03-28T00:00Z'), end: T('2023-04-03T00:00Z') }),
    );
    await updateIndicators(b, {
      symbols: ['BTCUSDT'],
      intervals: ['1h'],
      indicators: [{ name: 'rsi' }],
    });
    const before = await b.read1m('BTCUSDT');
    const abs = (p: string): string => path.join(b.layout.root, p);
    const [march, april] = b.get('BTCUSDT', '1m')!.files;
    const h1 = b.get('BTCUSDT', '1h')!.files[0];
    const d1 = b.get('BTCUSDT', '1d')!.files[0];
    const rsi = b.getIndicator('BTCUSDT', '1h', 'rsi-14')!.files[0];
    const aprilMtime = (await stat(abs(april.path))).mtimeMs;
    const h1Mtime = (await stat(abs(h1.path))).mtimeMs;
    await truncate(abs(march.path), 300);
    await writeFile(abs(d1.path), 'not parquet');
    await truncate(abs(rsi.path), 100);
    assert.equal((await b.verify()).filter((i) => i.status !== 'ok').length, 3);
    await assert.rejects(
      b.read('BTCUSDT', '1d'),
      (err: unknown) => isThreadxError(err) && err.code === 'CORRUPT',
    );

    // An update next to the damaged month stops and says how to get out.
    const upd = await runIngest(
      e.deps,
      req({ start: T('2023-04-03T00:00Z'), end: T('2023-04-03T06:00Z') }),
    );
    assert.equal(upd.results[0].ok, false);
    assert.match(
      upd.results[0].error?.message ?? '',
      /2023-03\.parquet is damaged.*threadx repair --symbol BTCUSDT/,
    );
    assert.equal((await stat(abs(april.path))).mtimeMs, aprilMtime);
    const requests = e.server.stats.klineRequests + e.server.stats.archiveRequests;
    const s = await repairSymbols(e.deps, ['BTCUSDT']);
    const r = s.results[0];
    assert.ok(s.ok, JSON.stringify(r));
    assert.deepEqual(r.refetched, [[march.first, march.last! + 60_000]]);
    assert.ok(e.server.stats.klineRequests + e.server.stats.archiveRequests > requests);
    assert.deepEqual(r.rebuilt.sort(), ['BTCUSDT/1d', 'BTCUSDT/1h/rsi-14']);
    assert.deepEqual(r.remaining, []);
    const after = await b.read1m('BTCUSDT');
    assert.deepEqual(after.openTime, before.openTime);
    assert.deepEqual(after.close, before.close);
    assert.equal(b.get('BTCUSDT', '1m')!.files[0].sha256, march.sha256, 'the month is as it was');
    assert.equal(
      (await stat(abs(april.path))).mtimeMs,
      aprilMtime,
      'a sound month is not rewritten',
    );
    assert.equal(
      (await stat(abs(h1.path))).mtimeMs,
      h1Mtime,
      'a sound derived file is not rewritten',
    );
    assert.equal((await b.read('BTCUSDT', '1d')).length, 6);

    // A damaged derived file needs no network: the exchange is gone and repair still succeeds.
    await e.server.close();
    await writeFile(abs(b.get('BTCUSDT', '1h')!.files[0].path), 'garbage');
    const offline = await repairSymbols(e.deps, ['BTCUSDT']);
    assert.ok(offline.ok, JSON.stringify(offline.results[0]));
    assert.deepEqual(offline.results[0].rebuilt, ['BTCUSDT/1h']);
    assert.equal(
      (await readFile(abs(b.get('BTCUSDT', '1h')!.files[0].path))).subarray(0, 4).toString(),
      'PAR1',
    );

    // A damaged 1m month with no exchange to fetch from: not repaired, and it says why.
    await truncate(abs(b.get('BTCUSDT', '1m')!.files[1].path), 50);
    const stuck = await repairSymbols(e.deps, ['BTCUSDT']);
    assert.equal(stuck.ok, false);
    assert.match(
      stuck.results[0].error?.message ?? '',
      /could not be fetched again .*threadx repair --symbol BTCUSDT/,
    );
  } finally {
    await e.close();
  }
});

test('top N never returns a pair whose base is its quote; the replay exchange lists none', async () => {
  const self = [...buildUniverse().values()].filter((e) => e.baseAsset === e.quoteAsset);
  assert.deepEqual(
    self.map((e) => e.symbol),
    [],
  );
  const e = await env();
  try {
    for (const quote of ['USDC', 'USDT']) {
      const top = await topSymbols(e.deps.rest, 500, { quote });
      assert.ok(top.symbols.length > 100, quote);
      const bad = top.symbols.filter((s) => s.base === quote);
      assert.deepEqual(bad, [], quote);
    }
  } finally {
    await e.close();
  }
});

test("every stored candle equals the exchange's own: history from a Wednesday to mid-hour", async () => {
  const e = await env();
  try {
    const start = T('2023-04-05T09:37Z'); // a Wednesday, mid-hour
    const end = T('2023-04-20T13:29Z'); // mid-hour
    const ivs = ['5m', '1h', '4h', '1d', '1w', '1M'] as const;
    const s = await runIngest(e.deps, req({ intervals: [...ivs], start, end }));
    assert.ok(s.results[0].ok, JSON.stringify(s.results[0].error));
    let compared = 0;
    for (const iv of ivs) {
      const mine = await e.bank.read('BTCUSDT', iv);
      const theirs = new Map<number, (string | number)[]>();
      for (let from = T('2023-03-01T00:00Z'); from < end;) {
        const url = `${e.server.url}/api/v3/klines?symbol=BTCUSDT&interval=${iv}&startTime=${from}&endTime=${T('2023-05-01T00:00Z')}&limit=1000`;
        const page = (await (await fetch(url)).json()) as (string | number)[][];
        for (const k of page) theirs.set(Number(k[0]), k);
        if (page.length < 1000) break;
        from = Number(page[page.length - 1][0]) + 1;
      }
      for (let i = 0; i < mine.length; i++) {
        const t = mine.openTime[i];
        assert.ok(t >= start && t < end, `${iv} ${new Date(t).toISOString()} inside the history`);
        const k = theirs.get(t);
        assert.ok(k, `${iv} ${new Date(t).toISOString()} exists at the exchange`);
        assert.deepEqual(
          [mine.open[i], mine.high[i], mine.low[i], mine.close[i]],
          [1, 2, 3, 4].map((j) => Number(k[j])),
          `${iv} ${new Date(t).toISOString()}`,
        );
        assert.ok(Math.abs(mine.volume[i] - Number(k[5])) <= 1e-8 * Math.max(1, mine.volume[i]));
        compared++;
      }
    }
    // Edges: the Wednesday week, April, the 09:00 and 13:00 hours, the first and last days.
    assert.equal((await e.bank.read('BTCUSDT', '1M')).length, 0);
    assert.deepEqual([...(await e.bank.read('BTCUSDT', '1w')).openTime], [T('2023-04-10T00:00Z')]);
    assert.equal(e.bank.get('BTCUSDT', '1h')!.first, T('2023-04-05T10:00Z'));
    assert.equal(e.bank.get('BTCUSDT', '1h')!.last, T('2023-04-20T12:00Z'));
    assert.deepEqual(e.bank.get('BTCUSDT', '1h')!.pending, [
      T('2023-04-05T09:00Z'),
      T('2023-04-20T13:00Z'),
    ]);
    assert.ok(compared > 4000, `${compared} candles compared`);
  } finally {
    await e.close();
  }
});
