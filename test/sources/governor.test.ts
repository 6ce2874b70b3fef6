import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RateGovernor, usedWeightHeader, type Permit } from '../../daemon/sources/governor.ts';
import { CancelledError } from '../../daemon/sources/errors.ts';
import { BinanceRestClient } from '../../daemon/sources/rest.ts';
import { startReplayServer } from '../../daemon/replay/server.ts';
import { FakeTime, flush } from '../helpers/fake-time.ts';

function hdr(used: number, unit = '1S'): Record<string, string> {
  return { [`x-mbx-used-weight-${unit.toLowerCase()}`]: String(used) };
}

test('reads X-MBX-USED-WEIGHT-<n><unit> for any window', () => {
  assert.deepEqual(usedWeightHeader(new Headers({ 'X-MBX-USED-WEIGHT-1M': '42' })), {
    used: 42,
    windowMs: 60_000,
  });
  assert.deepEqual(usedWeightHeader({ 'x-mbx-used-weight-10s': '7' }), {
    used: 7,
    windowMs: 10_000,
  });
  assert.equal(usedWeightHeader({ 'content-type': 'x' }), undefined);
});

test('configures from exchangeInfo.rateLimits', () => {
  const g = new RateGovernor();
  assert.equal(g.isConfigured, false);
  g.configure([
    { rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: 6000 },
    { rateLimitType: 'RAW_REQUESTS', interval: 'MINUTE', intervalNum: 5, limit: 61000 },
  ]);
  assert.equal(g.isConfigured, true);
  assert.deepEqual(g.limits, { limit: 6000, windowMs: 60_000 });
  assert.equal(g.budget, 5400);
});

test('grants up to the budget, then waits for the window to roll (confirmed by a probe)', async () => {
  const time = new FakeTime(10_000);
  const g = new RateGovernor({
    limit: 20,
    windowMs: 1000,
    clock: time.clock,
    sleep: time.sleep,
    boundaryGuardMs: 0,
  });
  assert.equal(g.budget, 18);
  const granted: Permit[] = [];
  const all = Array.from({ length: 20 }, () => g.acquire(2).then((p) => (granted.push(p), p)));
  await flush();
  assert.equal(granted.length, 9, 'nine weight-2 requests fit in 18');
  for (const p of granted) p.settle({ status: 200, headers: hdr(18) });
  await flush();
  assert.equal(granted.length, 9, 'settling does not free weight inside the window');
  await time.advance(999);
  assert.equal(granted.length, 9);
  await time.advance(1);
  assert.equal(granted.length, 10, 'at the expected reset, one probe asks whether it happened');
  granted[9].settle({ status: 200, headers: hdr(2) });
  await flush();
  assert.equal(granted.length, 18, 'the header shows the drop: the next window admits nine');
  for (const p of granted.slice(10)) p.settle({ status: 200, headers: hdr(18) });
  await time.advance(1000);
  granted[18]?.settle({ status: 200, headers: hdr(2) });
  await flush();
  assert.equal(granted.length, 20);
  await Promise.all(all);
});

test('unaligned windows: a header still showing the old weight after the expected reset holds the pace', async () => {
  const time = new FakeTime(0);
  const g = new RateGovernor({
    limit: 100,
    windowMs: 3000,
    clock: time.clock,
    sleep: time.sleep,
    boundaryGuardMs: 0,
  });
  const first = await Promise.all(Array.from({ length: 45 }, () => g.acquire(2)));
  for (const p of first) p.settle({ status: 200, headers: hdr(90) });
  const granted: Permit[] = [];
  const rest = Array.from({ length: 12 }, () => g.acquire(2).then((p) => (granted.push(p), p)));
  await flush();
  assert.equal(granted.length, 4, 'the window fills up to the budget (98)');
  for (const p of granted) p.settle({ status: 200, headers: hdr(98) });
  await time.advance(3000);
  assert.equal(granted.length, 5, 'at the expected reset, one probe');
  // The exchange's window rolls 1 s later than our clock says: the probe still sees 100.
  granted[4].settle({ status: 200, headers: hdr(100) });
  await time.advance(100);
  assert.equal(granted.length, 5, 'no burst into a window that has not rolled');
  await time.advance(900);
  assert.equal(granted.length, 6, 'the next probe');
  granted[5].settle({ status: 200, headers: hdr(2) });
  await flush();
  assert.equal(granted.length, 12, 'rolled: the rest go');
  for (const p of granted.slice(6)) p.settle({ status: 200, headers: hdr(14) });
  await Promise.all(rest);
});

test('in-flight weight is carried into the next window', async () => {
  const time = new FakeTime(0);
  const g = new RateGovernor({
    limit: 10,
    windowMs: 1000,
    clock: time.clock,
    sleep: time.sleep,
    boundaryGuardMs: 0,
  });
  const first = await Promise.all([g.acquire(3), g.acquire(3), g.acquire(3)]);
  await time.advance(1000);
  // The three requests may land after the boundary: only 0 more weight fits (9 of 9).
  let got = false;
  const p = g.acquire(1).then((x) => ((got = true), x));
  await flush();
  assert.equal(got, false);
  for (const f of first) f.settle({ status: 200, headers: hdr(3) });
  await flush();
  // Reported 3 for the new window (plausible: no more than dispatched there): 3 + 1 <= 9.
  assert.equal(got, true);
  (await p).settle();
});

test('a stale header from the previous window does not block the new one', async () => {
  const time = new FakeTime(0);
  const g = new RateGovernor({
    limit: 100,
    windowMs: 1000,
    clock: time.clock,
    sleep: time.sleep,
    boundaryGuardMs: 0,
  });
  const a = await g.acquire(2);
  await time.advance(1000);
  a.settle({ status: 200, headers: hdr(88) });
  const b = await g.acquire(80);
  b.settle({ status: 200, headers: hdr(80) });
  assert.equal(g.stats.windowWaits, 0);
});

test('429 pauses every request for Retry-After plus a small jitter, not for the rest of the window', async () => {
  const time = new FakeTime(0);
  const g = new RateGovernor({
    limit: 1000,
    windowMs: 60_000,
    clock: time.clock,
    sleep: time.sleep,
    random: () => 0.5,
  });
  const a = await g.acquire(2);
  a.settle({ status: 429, headers: { 'retry-after': '7', ...hdr(1001, '1M') } });
  let n = 0;
  const waiting = [g.acquire(2), g.acquire(2)].map((p) => p.then((x) => (n++, x)));
  await time.advance(6_999);
  assert.equal(n, 0);
  await time.advance(1_000);
  assert.equal(n, 2, 'going again within a second of Retry-After');
  for (const p of await Promise.all(waiting)) p.settle({ status: 200, headers: hdr(4, '1M') });
  assert.equal(g.stats.count429, 1);
  assert.ok(g.budget < 900, 'a slower pace after a 429');
});

test('a waiting acquire is cancelled by its AbortSignal', async () => {
  const time = new FakeTime(0);
  const g = new RateGovernor({
    limit: 4,
    windowMs: 1000,
    clock: time.clock,
    sleep: time.sleep,
    safetyMargin: 0,
  });
  await g.acquire(4);
  const ac = new AbortController();
  const p = g.acquire(2, ac.signal);
  ac.abort();
  await assert.rejects(p, CancelledError);
});

test('concurrency 8 against a small window: never over the limit, never a 429 or 418', async () => {
  const limit = 100;
  const server = await startReplayServer({
    now: Date.UTC(2024, 0, 10),
    weightLimit: limit,
    windowMs: 1000,
    latencyMs: { min: 2, max: 20 },
  });
  try {
    const client = new BinanceRestClient({ baseUrl: server.url, governor: new RateGovernor() });
    const start = Date.UTC(2024, 0, 1);
    let next = 0;
    const total = 150;
    const worker = async () => {
      while (next < total) {
        const i = next++;
        const t = start + i * 1000 * 60_000;
        await client.klines('BTCUSDC', t, t + 999 * 60_000);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    const s = server.stats;
    assert.equal(s.count429, 0);
    assert.equal(s.count418, 0);
    assert.ok(s.maxUsedWeight <= limit, `max used ${s.maxUsedWeight} > ${limit}`);
    assert.equal(s.klineRequests, total);
    assert.equal(client.governor.limits.limit, limit, 'limit read from exchangeInfo');
  } finally {
    await server.close();
  }
});

test('the margin shrinks when no one else uses the IP and returns when someone does', async () => {
  const time = new FakeTime(0);
  const g = new RateGovernor({
    limit: 100,
    windowMs: 1000,
    clock: time.clock,
    sleep: time.sleep,
    boundaryGuardMs: 0,
  });
  assert.equal(g.budget, 90, 'nothing known yet: full margin');
  const a = await g.acquire(2);
  a.settle({ status: 200, headers: hdr(2) });
  assert.equal(g.budget, 98, 'the exchange counts only our weight');
  const b = await g.acquire(2);
  b.settle({ status: 200, headers: hdr(40) });
  assert.equal(g.budget, 90, 'foreign weight seen');
  await time.advance(2000);
  const c = await g.acquire(2);
  c.settle({ status: 200, headers: hdr(2) });
  assert.equal(g.budget, 98, 'two windows later, clean again');
});
