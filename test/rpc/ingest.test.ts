/**
 * The exchange-facing methods over the protocol, against the local replay exchange: symbols,
 * ingest with progress and registry/changed, and a cancelled ingest leaving the bank consistent.
 */
import { stat } from 'node:fs/promises';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCodes, SYMBOL_PHASES, type WorkDoneProgress } from '../../schemas/protocol.ts';
import { ResponseError } from '../../daemon/rpc/client.ts';
import { startReplayServer, type ReplayOptions } from '../../daemon/replay/server.ts';
import { nextNotification, startHarness } from '../helpers/harness.ts';

const NOW = Date.parse('2023-05-01T21:03:30Z');
const DAY = 86_400_000;

async function withReplay(
  opts: ReplayOptions,
  fn: (h: Awaited<ReturnType<typeof startHarness>>) => Promise<void>,
): Promise<void> {
  const replay = await startReplayServer({ now: NOW, ...opts });
  const h = await startHarness({
    seed: {},
    config: (c) => {
      c.data.api.base_url = replay.url;
      c.data.api.archive_url = replay.archiveUrl;
      c.data.api.retry_delay = 0.01;
    },
  });
  try {
    await fn(h);
  } finally {
    await h.close();
    await replay.close();
  }
}

test('symbols/search, symbols/top and ingest/plan against the replay exchange', async () => {
  await withReplay({}, async (h) => {
    const s = await h.client.request(
      'symbols/search',
      { query: 'btc', limit: 5 },
      { validate: true },
    );
    assert.equal(s.matches[0].symbol.startsWith('BTC'), true);
    const top = await h.client.request('symbols/top', { n: 3, quote: 'USDT' }, { validate: true });
    assert.equal(top.symbols.length, 3);
    assert.equal(top.ranking, 'volume');
    assert.deepEqual(
      top.symbols.map((x) => x.rank),
      [1, 2, 3],
    );
    const plan = await h.client.request(
      'ingest/plan',
      { symbols: ['BTCUSDT', 'NOPEUSDT'], start: NOW - 2 * DAY, source: 'rest' },
      { validate: true },
    );
    assert.deepEqual(
      plan.items.map((i) => i.symbol),
      ['BTCUSDT'],
    );
    assert.equal(plan.skipped[0].symbol, 'NOPEUSDT');
    assert.ok(plan.totals.requests >= 3);
  });
});

test('ingest/run: progress begin/report/end, per-symbol rows, registry/changed to the client', async () => {
  await withReplay({}, async (h) => {
    const changed = nextNotification(h.client, 'registry/changed', (p) => p.reason === 'ingest');
    const events: WorkDoneProgress[] = [];
    const r = await h.client.request(
      'ingest/run',
      {
        symbols: ['BTCUSDT', 'NOPEUSDT'],
        intervals: ['1h'],
        start: '2023-04-29',
        end: '2023-05-01',
        source: 'rest',
      },
      { onProgress: (p) => events.push(p), validate: true },
    );
    const btc = r.symbols.find((s) => s.symbol === 'BTCUSDT')!;
    assert.equal(btc.rows, 2 * 1440);
    assert.equal(btc.error, null);
    assert.deepEqual(btc.derived, ['1h']);
    const nope = r.symbols.find((s) => s.symbol === 'NOPEUSDT')!;
    assert.equal(nope.error?.code, ErrorCodes.InvalidSymbol);
    assert.equal(r.totals.errors, 1);
    assert.equal(events[0].kind, 'begin');
    assert.equal(events.at(-1)!.kind, 'end');
    // Structured progress: per-symbol states whose phases only move forward (a throttled report
    // carries each symbol's latest state, so an early phase may be overtaken), the last complete.
    const states = events.flatMap((e) => (e.kind === 'report' ? (e.symbols ?? []) : []));
    const mine = states.filter((s) => s.symbol === 'BTCUSDT');
    const order = mine.map((s) => SYMBOL_PHASES.indexOf(s.phase));
    assert.deepEqual(
      order,
      [...order].sort((a, b) => a - b),
      `phases in order: ${mine.map((s) => s.phase)}`,
    );
    assert.ok(mine.length >= 2, 'a state before the last');
    const last = mine.at(-1)!;
    assert.equal(last.phase, 'done');
    assert.equal(last.rows, 2 * 1440);
    assert.equal(last.requestsDone, btc.requests);
    assert.ok(last.requestsTotal >= last.requestsDone && last.requestsTotal > 0);
    assert.ok((await changed).changed.includes('BTCUSDT/1m'));
    const list = await h.client.request('registry/list', {});
    assert.deepEqual(
      list.datasets.map((d) => d.id),
      ['BTCUSDT/1h', 'BTCUSDT/1m'],
    );
    // The daemon says where each dataset lives; clients never build the path.
    const [h1, m1] = list.datasets;
    assert.ok((await stat(h1.path!)).isFile());
    assert.ok((await stat(m1.path!)).isDirectory());

    const dry = await h.client.request('ingest/run', {
      symbols: ['BTCUSDT'],
      start: '2023-04-29',
      end: '2023-05-01',
      dryRun: true,
    });
    assert.equal(dry.dryRun, true);
    assert.equal(dry.symbols[0].rows, 0, 'nothing missing any more');
  });
});

test('ingest/run with a start after the exchange now: InvalidParams with its reason', async () => {
  await withReplay({}, async (h) => {
    await assert.rejects(
      h.client.request('ingest/run', { symbols: ['BTCUSDT'], start: NOW + 10 * DAY }),
      (e: unknown) =>
        e instanceof ResponseError &&
        e.rpcCode === ErrorCodes.InvalidParams &&
        e.data?.reason === 'INVALID_RANGE' &&
        e.code === 'INVALID_RANGE',
    );
  });
});

test('ingest/run cancelled mid-way: -32800, bank verifies clean, a re-run completes it', async () => {
  await withReplay({ latencyMs: 15 }, async (h) => {
    const ac = new AbortController();
    const params = {
      symbols: ['BTCUSDT'],
      intervals: ['1h' as const],
      start: NOW - 30 * DAY,
      end: Math.floor(NOW / DAY) * DAY,
      source: 'rest' as const,
    };
    const p = h.client.request('ingest/run', params, {
      signal: ac.signal,
      onProgress: (e) => {
        if (e.kind === 'report' && (e.percentage ?? 0) >= 10) ac.abort();
      },
    });
    await assert.rejects(
      p,
      (e: unknown) => e instanceof ResponseError && e.rpcCode === ErrorCodes.RequestCancelled,
    );
    const v = await h.client.request('registry/verify', {});
    assert.equal(v.ok, true, JSON.stringify(v.issues));
    const partial = (
      await h.client.request('registry/list', { filter: { symbol: 'BTCUSDT', interval: '1m' } })
    ).datasets[0];
    const again = await h.client.request('ingest/run', params);
    const total = (
      await h.client.request('registry/list', { filter: { symbol: 'BTCUSDT', interval: '1m' } })
    ).datasets[0];
    const start = Math.floor(params.start / 60_000) * 60_000;
    assert.equal(total.rows, (params.end - start) / 60_000, 'complete after the re-run');
    assert.ok((partial?.rows ?? 0) < total.rows, 'the cancelled run stopped early');
    assert.equal(
      again.symbols[0].rows,
      total.rows - (partial?.rows ?? 0),
      'the re-run fetched only what was missing',
    );
    assert.equal((await h.client.request('registry/verify', {})).ok, true);
  });
});

test('ingest/run with verify: every file without a finding is verified, then none is checked again', async () => {
  await withReplay({}, async (h) => {
    const run = (end: string, verify: boolean) =>
      h.client.request(
        'ingest/run',
        {
          symbols: ['BTCUSDT'],
          intervals: ['1h'],
          start: '2023-04-29',
          end,
          source: 'rest',
          verify,
        },
        { validate: true },
      );
    const plain = await run('2023-04-30', false);
    assert.equal(plain.verified, undefined, 'no verify unless asked');
    let list = await h.client.request('registry/list', {});
    assert.ok(list.datasets.every((d) => d.integrity?.state === 'not-verified'));

    const r = await run('2023-05-01', true);
    assert.ok(r.verified, 'verify answered');
    assert.deepEqual(r.verified.issues, []);
    // The first run's files and the second's: every file of BTCUSDT had no finding yet.
    const files = list.datasets.reduce((a, d) => a + d.files, 0);
    assert.ok(r.verified.checked >= files, `${r.verified.checked} >= ${files}`);
    list = await h.client.request('registry/list', {});
    for (const d of list.datasets) assert.equal(d.integrity?.state, 'verified', d.id);

    // A run that writes nothing new checks nothing: every file already has its finding.
    const again = await run('2023-05-01', true);
    assert.equal(again.verified?.checked, 0);
  });
});
