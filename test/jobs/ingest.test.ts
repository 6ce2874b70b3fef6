/**
 * The ingest pipeline end to end against the local replay exchange: batch modes, gap-only
 * re-runs, faults, rate limits, cancellation, the open candle, archives (ms and µs, corrupted).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  startReplayServer,
  type ReplayOptions,
  type ReplayServer,
} from '../../daemon/replay/server.ts';
import { BinanceRestClient } from '../../daemon/sources/rest.ts';
import { RateGovernor } from '../../daemon/sources/governor.ts';
import { Bank } from '../../daemon/store/bank.ts';
import {
  runIngest,
  planIngest,
  type IngestRequest,
  type IngestDeps,
} from '../../daemon/jobs/ingest.ts';
import { parseConfigText } from '../../daemon/store/config.ts';
import type { Config } from '../../schemas/config.ts';
import type { Candles } from '../../schemas/candles.ts';

const NOW = Date.parse('2023-05-01T21:03:30Z');
const DAY = 86_400_000;

interface Env {
  server: ReplayServer;
  bank: Bank;
  deps: IngestDeps;
  dir: string;
  close(): Promise<void>;
}

async function env(
  opts: ReplayOptions = {},
  toml = '',
  rest: Partial<ConstructorParameters<typeof BinanceRestClient>[0]> = {},
): Promise<Env> {
  const server = await startReplayServer({ now: NOW, ...opts });
  const dir = await mkdtemp(path.join(tmpdir(), 'threadx-ingest-'));
  const config: Config = parseConfigText(
    `[data.api]\nretry_delay = 0.01\n${toml}`,
    path.join(dir, 'threadx.toml'),
  );
  const bank = await Bank.open(path.join(dir, 'data'));
  const client = new BinanceRestClient({
    baseUrl: server.url,
    governor: new RateGovernor(),
    retryDelay: 0.01,
    maxRetries: 6,
    timeoutSeconds: 5,
    ...rest,
  });
  return {
    server,
    bank,
    dir,
    deps: { bank, config, rest: client, archiveBaseUrl: server.archiveUrl },
    close: async () => {
      await server.close();
      await rm(dir, { recursive: true });
    },
  };
}

const req = (r: Partial<IngestRequest>): IngestRequest => ({
  intervals: ['1h', '1d'],
  start: Date.parse('2023-04-20T00:00Z'),
  source: 'rest',
  ...r,
});

async function assertBankValid(bank: Bank): Promise<void> {
  const bad = (await bank.verify()).filter((i) => i.status !== 'ok');
  assert.deepEqual(bad, []);
}

function same(a: Candles, b: Candles): void {
  assert.equal(a.length, b.length);
  assert.deepEqual(a.openTime.subarray(0, a.length), b.openTime.subarray(0, b.length));
  assert.deepEqual(a.close.subarray(0, a.length), b.close.subarray(0, b.length));
  assert.deepEqual(a.volume.subarray(0, a.length), b.volume.subarray(0, b.length));
}

test('ingest: a list with an unknown symbol; the open candle never stored; re-run makes zero requests', async () => {
  const e = await env({ faults: [{ kind: 'openLast' }] });
  const s = await runIngest(e.deps, req({ symbols: ['BTCUSDT', 'ethusdt', 'NOPEUSDT'] }));
  assert.deepEqual(
    s.results.map((r) => [r.symbol, r.ok]),
    [
      ['BTCUSDT', true],
      ['ETHUSDT', true],
    ],
  );
  assert.equal(s.skipped[0].symbol, 'NOPEUSDT');
  assert.match(s.skipped[0].reason ?? '', /not listed/);
  const btc = await e.bank.read1m('BTCUSDT');
  const openMinute = Math.floor(NOW / 60_000) * 60_000;
  assert.equal(
    btc.openTime[btc.length - 1],
    openMinute - 60_000,
    'last stored candle is the last closed one',
  );
  assert.ok(e.bank.get('BTCUSDT', '1h') && e.bank.get('BTCUSDT', '1d'));
  await assertBankValid(e.bank);
  const before = e.server.stats.klineRequests;
  const again = await runIngest(e.deps, req({ symbols: ['BTCUSDT', 'ETHUSDT'], end: openMinute }));
  assert.equal(
    e.server.stats.klineRequests - before,
    0,
    'zero kline requests when the bank is complete',
  );
  assert.ok(again.results.every((r) => r.ok && r.rowsAdded === 0));
  await e.close();
});

test('ingest: groups report members that do not trade; user groups from the config; top N by volume', async () => {
  const e = await env({}, '[groups]\nmine = ["SOLUSDC", "BTCUSDT"]\n');
  const l2 = await runIngest(e.deps, req({ group: 'L2', start: Date.parse('2023-05-01T00:00Z') }));
  assert.deepEqual(l2.results.map((r) => r.symbol).sort(), ['ARBUSDC', 'OPUSDC']);
  assert.equal(l2.skipped[0].symbol, 'MATICUSDC');
  assert.match(l2.skipped[0].reason ?? '', /does not trade: status BREAK/);
  const mine = await runIngest(
    e.deps,
    req({ group: 'mine', start: Date.parse('2023-05-01T00:00Z') }),
  );
  assert.deepEqual(
    mine.results.map((r) => r.ok),
    [true, true],
  );
  const plan = await planIngest(e.deps, req({ top: 100, start: Date.parse('2023-05-01T00:00Z') }));
  assert.equal(plan.symbols.length, 100);
  assert.ok(plan.symbols.every((s) => s.symbol.endsWith('USDC')));
  assert.equal(plan.ranking?.kind, 'volume');
  assert.match(plan.ranking?.note ?? '', /volume only/);
  await assert.rejects(
    planIngest(e.deps, req({ group: 'nope' })),
    /unknown group "nope": known groups are L1, DeFi, L2, Stable, mine/,
  );
  await e.close();
});

test('ingest: a deleted day in the middle is the only thing fetched again', async () => {
  const e = await env();
  await runIngest(e.deps, req({ symbols: ['BTCUSDT'] }));
  const full = await e.bank.read1m('BTCUSDT');
  const day = Date.parse('2023-04-25T00:00Z');
  assert.equal(await e.bank.deleteRange('BTCUSDT', day, day + DAY), 1440);
  const plan = await planIngest(e.deps, req({ symbols: ['BTCUSDT'] }));
  assert.deepEqual(plan.symbols[0].missing, [[day, day + DAY]]);
  const before = e.server.stats.klineRequests;
  await runIngest(e.deps, req({ symbols: ['BTCUSDT'] }), { plan });
  assert.equal(e.server.stats.klineRequests - before, 2, 'one day = 1440 minutes = 2 pages');
  same(await e.bank.read1m('BTCUSDT'), full);
  await assertBankValid(e.bank);
  await e.close();
});

test('ingest: 5xx, resets, hangs, truncated, malformed, duplicate and out-of-order pages leave the same bank', async () => {
  // The same seed: it also draws the synthetic minutes after the recording ends.
  const clean = await env({ seed: 7 });
  await runIngest(clean.deps, req({ symbols: ['ETHUSDT'] }));
  const expected = await clean.bank.read1m('ETHUSDT');
  await clean.close();
  const e = await env(
    {
      seed: 7,
      faults: [
        { kind: 'http5xx', probability: 0.2 },
        { kind: 'reset', count: 2 },
        { kind: 'hang', count: 1 },
        { kind: 'truncated', count: 2 },
        { kind: 'malformed', count: 2 },
        { kind: 'duplicate', count: 2 },
        { kind: 'outOfOrder', count: 2 },
      ],
    },
    '',
    { timeoutSeconds: 1 },
  );
  const s = await runIngest(e.deps, req({ symbols: ['ETHUSDT'] }));
  assert.equal(s.results[0].ok, true, s.results[0].error?.message);
  assert.ok(Object.values(e.server.stats.faults).reduce((a, b) => a + b, 0) >= 8, 'faults fired');
  same(await e.bank.read1m('ETHUSDT'), expected);
  await assertBankValid(e.bank);
  await e.close();
});

test('ingest: eight symbols at concurrency 8 under a small weight window: no 429, no 418, never over the limit', async () => {
  const e = await env({ weightLimit: 40, windowMs: 1000, latencyMs: { min: 1, max: 5 } });
  const symbols = [
    'BTCUSDC',
    'ETHUSDC',
    'SOLUSDC',
    'ADAUSDC',
    'UNIUSDC',
    'AAVEUSDC',
    'LINKUSDC',
    'DOTUSDC',
  ];
  const s = await runIngest(
    e.deps,
    req({ symbols, start: Date.parse('2023-04-29T00:00Z'), concurrency: 8 }),
  );
  assert.ok(s.results.every((r) => r.ok));
  assert.equal(e.server.stats.count429, 0);
  assert.equal(e.server.stats.count418, 0);
  assert.ok(e.server.stats.maxUsedWeight <= 40, `max used weight ${e.server.stats.maxUsedWeight}`);
  await e.close();
});

test('ingest: cancel mid-job keeps what was fetched; the re-run finishes it and fetches only the rest', async () => {
  const e = await env();
  const ac = new AbortController();
  let pages = 0;
  const first = await runIngest(
    e.deps,
    req({ symbols: ['BTCUSDT'], start: Date.parse('2023-04-01T00:00Z') }),
    {
      signal: ac.signal,
      onProgress: (p) => {
        if (p.phase === 'fetch' && /request/.test(p.message) && ++pages === 25) ac.abort();
      },
    },
  );
  assert.equal(first.cancelled, true);
  assert.equal(first.results[0].error?.code, 'CANCELLED');
  const kept = e.bank.get('BTCUSDT', '1m')?.rows ?? 0;
  assert.ok(kept >= 20_000, `kept ${kept} candles`);
  await assertBankValid(e.bank);
  const before = e.server.stats.klineRequests;
  const second = await runIngest(
    e.deps,
    req({ symbols: ['BTCUSDT'], start: Date.parse('2023-04-01T00:00Z') }),
  );
  assert.equal(second.results[0].ok, true);
  const total = Math.ceil(
    (Math.floor(NOW / 60_000) * 60_000 - Date.parse('2023-04-01T00:00Z')) / 60_000 / 1000,
  );
  assert.ok(e.server.stats.klineRequests - before < total - 15, 'the re-run did not start over');
  await assertBankValid(e.bank);
  await e.close();
});

test('ingest: archives in ms (2024) and µs (2025) give the same candles as REST; a corrupted archive is rejected', async () => {
  const now = Date.parse('2025-03-10T12:00:00Z');
  const e = await env({ now });
  const win = { symbols: ['SOLUSDC'], intervals: ['1d' as const] };
  const a = await runIngest(
    e.deps,
    req({
      ...win,
      start: Date.parse('2024-12-30T00:00Z'),
      end: Date.parse('2025-01-03T00:00Z'),
      source: 'archive',
    }),
  );
  assert.equal(a.results[0].ok, true, a.results[0].error?.message);
  assert.equal(a.results[0].archiveFiles, 4);
  const fromArchive = await e.bank.read1m('SOLUSDC');
  assert.equal(fromArchive.length, 4 * 1440);
  for (let i = 1; i < fromArchive.length; i++)
    assert.equal(fromArchive.openTime[i] - fromArchive.openTime[i - 1], 60_000);
  const r = await env({ now });
  await runIngest(
    r.deps,
    req({
      ...win,
      start: Date.parse('2024-12-30T00:00Z'),
      end: Date.parse('2025-01-03T00:00Z'),
      source: 'rest',
    }),
  );
  same(fromArchive, await r.bank.read1m('SOLUSDC'));
  await r.close();

  e.server.setFaults([{ kind: 'corruptArchive' }]);
  const bad = await runIngest(
    e.deps,
    req({
      symbols: ['ADAUSDC'],
      intervals: ['1d'],
      start: Date.parse('2025-02-01T00:00Z'),
      end: Date.parse('2025-03-01T00:00Z'),
      source: 'archive',
    }),
  );
  assert.equal(bad.results[0].ok, false);
  assert.equal(bad.results[0].error?.code, 'CHECKSUM_MISMATCH');
  assert.equal(e.bank.get('ADAUSDC', '1m'), undefined, 'nothing stored from a corrupted archive');
  await assertBankValid(e.bank);
  await e.close();
});

test('ingest: the plan counts the kline requests the fetch makes up to the frontier, and an up-to-date bank plans and makes none', async () => {
  // The exchange's clock exactly on a minute (as in the demo): 21:02 closes at its last instant.
  const now = Date.parse('2023-05-01T21:03:00Z');
  const e = await env({ now });
  try {
    // 1 minute, exactly one page (its last row needs the row after it), and a range whose last
    // REST chunk would otherwise end 30 minutes before the frontier.
    for (const [symbol, minutes] of [
      ['BTCUSDT', 1],
      ['ETHUSDT', 1000],
      ['SOLUSDC', 20_030],
    ] as const) {
      const r = req({ symbols: [symbol], start: now - minutes * 60_000 });
      const plan = await planIngest(e.deps, r);
      const before = e.server.stats.klineRequests;
      const s = await runIngest(e.deps, r, { plan });
      assert.equal(s.results[0].rowsAdded, minutes, symbol);
      assert.equal(e.server.stats.klineRequests - before, plan.requests, `${symbol}: as planned`);
      const again = await planIngest(e.deps, r);
      assert.equal(again.requests, 0, `${symbol}: up to date`);
      assert.equal(again.symbols[0].minutes, 0);
      const after = e.server.stats.klineRequests;
      await runIngest(e.deps, r, { plan: again });
      assert.equal(e.server.stats.klineRequests - after, 0, `${symbol}: nothing to fetch`);
    }
  } finally {
    await e.close();
  }
});
