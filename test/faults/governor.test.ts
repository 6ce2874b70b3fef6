/**
 * The rate governor under a hostile exchange: weight windows not aligned to the clock minute under
 * a tight limit, a storm of 429s and a 418 with short Retry-After, and a hanging exchange. Every
 * kline still arrives, no ban is earned, and the waits are what the exchange asked for.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startReplayServer, type ReplayOptions } from '../../daemon/replay/server.ts';
import { BinanceRestClient, fetchRange1m } from '../../daemon/sources/rest.ts';
import { RateGovernor } from '../../daemon/sources/governor.ts';

const NOW = Date.UTC(2024, 2, 1);
const START = Date.UTC(2024, 0, 1);

async function run(opts: ReplayOptions, pages: number, timeoutSeconds = 30) {
  const server = await startReplayServer({ now: NOW, latencyMs: { min: 1, max: 5 }, ...opts });
  try {
    const client = new BinanceRestClient({
      baseUrl: server.url,
      governor: new RateGovernor(),
      retryDelay: 0.05,
      maxRetries: 8,
      timeoutSeconds,
    });
    const t0 = Date.now();
    const r = await fetchRange1m(client, 'BTCUSDC', START, START + pages * 1000 * 60_000);
    return { rows: r.candles.length, seconds: (Date.now() - t0) / 1000, stats: server.stats };
  } finally {
    await server.close();
  }
}

test('windows not aligned to the clock, a tight limit: no 429, no 418, every kline', async () => {
  // The exchange's 1 s windows roll 0.7 s away from ours; 40 weight per window; four fetches at
  // once, as the ingest runs them.
  const server = await startReplayServer({
    now: NOW,
    latencyMs: { min: 20, max: 60 },
    weightLimit: 40,
    windowMs: 1000,
    rateClock: () => Date.now() + 700,
  });
  try {
    const client = new BinanceRestClient({
      baseUrl: server.url,
      governor: new RateGovernor(),
      retryDelay: 0.05,
      maxRetries: 8,
    });
    const got = await Promise.all(
      Array.from({ length: 4 }, (_, i) => {
        const from = START + i * 8 * 1000 * 60_000;
        return fetchRange1m(client, 'BTCUSDC', from, from + 8 * 1000 * 60_000);
      }),
    );
    assert.equal(
      got.reduce((a, r) => a + r.candles.length, 0),
      32_000,
    );
    const { count429, count418, maxUsedWeight } = server.stats;
    assert.deepEqual({ count429, count418 }, { count429: 0, count418: 0 }, `max ${maxUsedWeight}`);
  } finally {
    await server.close();
  }
});

test('a 429 storm and a 418 with short Retry-After: waits what the exchange says, not a minute', async () => {
  const r = await run(
    {
      faults: [
        { kind: 'rateLimit', retryAfter: 1, count: 2, after: 2 },
        { kind: 'rateLimit', status: 418, retryAfter: 1, count: 1, after: 8 },
      ],
    },
    12,
  );
  assert.equal(r.rows, 12_000);
  assert.equal(r.stats.faults.rateLimit, 3);
  assert.ok(r.seconds < 3 * 1.3 + 3, `took ${r.seconds} s`);
});

test('a hanging exchange: time-outs are retried within seconds', async () => {
  // Three requests hang (the 6th, 9th and 12th); with a 30 s time-out that was 90 s and more.
  const hangs = [5, 8, 11].map((after) => ({ kind: 'hang' as const, count: 1, after }));
  const r = await run({ faults: hangs }, 10, 30);
  assert.equal(r.rows, 10_000);
  assert.equal(r.stats.faults.hang, 3);
  assert.ok(r.seconds < 3 * 2.5 + 4, `took ${r.seconds} s`);
});
