import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Candles } from '../../schemas/candles.ts';
import { startReplayServer, type ReplayServer } from '../../daemon/replay/server.ts';
import type { FaultSpec } from '../../daemon/replay/faults.ts';
import {
  BinanceRestClient,
  fetchRange1m,
  parseKlinePage,
  requestsFor,
} from '../../daemon/sources/rest.ts';
import { RateGovernor } from '../../daemon/sources/governor.ts';
import { BinanceApiError, CancelledError, SourceError } from '../../daemon/sources/errors.ts';
import { loadKlines, recordedKlines } from '../helpers/fixtures.ts';

const MIN = 60_000;
/** Mid-minute, so the last kline the exchange has is open. */
const NOW = Date.UTC(2023, 4, 1, 21, 1, 30);
let server: ReplayServer;

before(async () => {
  server = await startReplayServer({
    now: NOW,
    seed: 3,
    recorded: { BTCUSDT: recordedKlines('freqtrade_andresciancio/BTC_USDT-1m.json.gz') },
  });
});
after(async () => {
  await server.close();
});

function client(extra: Partial<ConstructorParameters<typeof BinanceRestClient>[0]> = {}) {
  return new BinanceRestClient({
    baseUrl: server.url,
    governor: new RateGovernor(),
    retryDelay: 0.001,
    timeoutSeconds: 2,
    ...extra,
  });
}

function rows(c: Candles): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < c.length; i++) {
    out.push([
      c.openTime[i],
      c.open[i],
      c.high[i],
      c.low[i],
      c.close[i],
      c.volume[i],
      c.quoteVolume[i],
      c.trades[i],
      c.takerBuyBase[i],
      c.takerBuyQuote[i],
    ]);
  }
  return out;
}

test('pagination over the real 2023 BTCUSDT series is exact, and the outage is reported empty', async () => {
  server.setFaults([]);
  const ref = loadKlines('freqtrade_andresciancio/BTC_USDT-1m.json.gz');
  const start = ref.openTime[0];
  const pagesSeen: number[] = [];
  const res = await fetchRange1m(client(), 'BTCUSDT', start, Date.UTC(2023, 4, 2), {
    onPage: (p) => void pagesSeen.push(p.candles.length),
  });
  // 21:01 is open at NOW: everything else the recording holds comes back, and nothing more.
  assert.equal(res.candles.length, ref.length - 1);
  assert.equal(res.coveredEnd, Date.UTC(2023, 4, 1, 21, 1));
  for (let i = 0; i < res.candles.length; i++) {
    if (
      res.candles.openTime[i] !== ref.openTime[i] ||
      res.candles.open[i] !== ref.open[i] ||
      res.candles.high[i] !== ref.high[i] ||
      res.candles.low[i] !== ref.low[i] ||
      res.candles.close[i] !== ref.close[i] ||
      res.candles.volume[i] !== ref.volume[i]
    ) {
      assert.fail(`row ${i} differs at ${new Date(ref.openTime[i]).toISOString()}`);
    }
  }
  assert.deepEqual(res.emptyRanges, [
    { start: Date.UTC(2023, 2, 24, 12, 40), end: Date.UTC(2023, 2, 24, 14, 0) },
  ]);
  const minutes = (res.coveredEnd - start) / MIN;
  assert.equal(res.pages, Math.ceil((minutes - 80) / 1000));
  assert.equal(
    pagesSeen.reduce((a, b) => a + b, 0),
    res.candles.length,
  );
});

test('the open candle is never returned, even when the exchange sends it', async () => {
  server.setFaults([{ kind: 'openLast' }]);
  try {
    const res = await fetchRange1m(client(), 'ETHUSDT', NOW - 90 * MIN, NOW + 60 * MIN);
    const last = res.candles.openTime[res.candles.length - 1];
    assert.equal(last, Date.UTC(2023, 4, 1, 21, 0));
    assert.ok(last + MIN - 1 < res.serverTime);
    assert.deepEqual(res.emptyRanges, []);
  } finally {
    server.setFaults([]);
  }
});

test('klines lagging the clock: the open minute is kept back and nothing past it is empty', async () => {
  // The exchange's clock says 21:01:30; its klines stop at 20:59, still open (partial).
  server.setKlineLag(2 * MIN);
  try {
    const res = await fetchRange1m(client(), 'ETHUSDT', NOW - 90 * MIN, NOW + 60 * MIN);
    assert.equal(res.candles.openTime[res.candles.length - 1], Date.UTC(2023, 4, 1, 20, 58));
    assert.equal(res.coveredEnd, Date.UTC(2023, 4, 1, 20, 59));
    assert.deepEqual(res.emptyRanges, [], 'the frontier is not an outage');
  } finally {
    server.setKlineLag(0);
  }
  // Caught up: 20:59 comes back with the exchange's full values, 21:00 proven by the open 21:01.
  const res = await fetchRange1m(client(), 'ETHUSDT', Date.UTC(2023, 4, 1, 20, 59), NOW);
  assert.deepEqual(Array.from(res.candles.openTime.subarray(0, res.candles.length)), [
    Date.UTC(2023, 4, 1, 20, 59),
    Date.UTC(2023, 4, 1, 21, 0),
  ]);
});

test('a recent newest row is final only once a later row is seen: requestsFor counts the request that shows it', async () => {
  const end = Date.UTC(2023, 4, 1, 21, 1);
  for (const minutes of [1, 999, 1000, 1001, 2000]) {
    const start = end - minutes * MIN;
    const res = await fetchRange1m(client(), 'ETHUSDT', start, end);
    assert.equal(res.candles.length, minutes, `${minutes}`);
    assert.equal(res.pages, requestsFor(start, end, NOW), `${minutes} minute(s)`);
  }
  assert.equal(requestsFor(end - 1000 * MIN, end, NOW), 2);
  // History closed long ago is final by the clock: 1000 minutes, one request.
  const old = Date.UTC(2023, 3, 20);
  const res = await fetchRange1m(client(), 'ETHUSDT', old - 1000 * MIN, old);
  assert.equal(res.candles.length, 1000);
  assert.equal(res.pages, 1);
  assert.equal(requestsFor(old - 1000 * MIN, old, NOW), 1);
});

test('an invalid symbol fails at once with a typed, clear error', async () => {
  server.resetStats();
  const c = client();
  await c.exchangeInfo();
  const before = server.stats.klineRequests;
  const err = await c.klines('NOPEUSDC', NOW - 10 * MIN, NOW).then(
    () => assert.fail('expected an error'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof BinanceApiError);
  assert.equal(err.code, 'INVALID_SYMBOL');
  assert.equal(err.apiCode, -1121);
  assert.equal(err.status, 400);
  assert.equal(err.msg, 'Invalid symbol.');
  assert.match(err.message, /Binance does not know the symbol NOPEUSDC/);
  assert.equal(server.stats.klineRequests - before, 1, 'not retried');
});

const RANGE_START = Date.UTC(2023, 3, 10, 3, 17);
const RANGE_END = RANGE_START + 3500 * MIN;

async function reference() {
  server.setFaults([]);
  return fetchRange1m(client(), 'LINKUSDC', RANGE_START, RANGE_END);
}

const CASES: Array<
  [string, FaultSpec[], Partial<ConstructorParameters<typeof BinanceRestClient>[0]>]
> = [
  [
    'HTTP 5xx',
    [
      { kind: 'http5xx', count: 2 },
      { kind: 'http5xx', status: 502, count: 1, after: 3 },
    ],
    {},
  ],
  ['connection reset', [{ kind: 'reset', count: 2 }], {}],
  ['hang (timeout)', [{ kind: 'hang', count: 1, after: 1 }], { timeoutSeconds: 0.3 }],
  ['truncated JSON', [{ kind: 'truncated', count: 2 }], {}],
  ['malformed rows', [{ kind: 'malformed', count: 3 }], {}],
  ['duplicate rows', [{ kind: 'duplicate', count: 2 }], {}],
  ['out-of-order rows', [{ kind: 'outOfOrder', count: 2 }], {}],
  [
    'random mix',
    [
      { kind: 'http5xx', probability: 0.3 },
      { kind: 'malformed', probability: 0.2 },
      { kind: 'duplicate', probability: 0.3 },
    ],
    {},
  ],
];

for (const [name, faults, extra] of CASES) {
  test(`fault: ${name} is retried or repaired and the data is exact`, async () => {
    const ref = await reference();
    server.setFaults(faults);
    try {
      const res = await fetchRange1m(
        client({ maxRetries: 8, ...extra }),
        'LINKUSDC',
        RANGE_START,
        RANGE_END,
      );
      assert.deepEqual(rows(res.candles), rows(ref.candles));
      assert.deepEqual(res.emptyRanges, ref.emptyRanges);
    } finally {
      server.setFaults([]);
    }
  });
}

test('fault: missing minutes are reported as confirmed-empty ranges', async () => {
  const ref = await reference();
  const gap: [number, number] = [RANGE_START + 1500 * MIN, RANGE_START + 1620 * MIN];
  server.setFaults([{ kind: 'missing', symbol: 'LINKUSDC', ranges: [gap] }]);
  try {
    const res = await fetchRange1m(client(), 'LINKUSDC', RANGE_START, RANGE_END);
    assert.equal(res.candles.length, ref.candles.length - 120);
    assert.deepEqual(res.emptyRanges, [{ start: gap[0], end: gap[1] }]);
  } finally {
    server.setFaults([]);
  }
});

test('persistent 5xx gives up after max_retries with the last error', async () => {
  server.setFaults([{ kind: 'http5xx' }]);
  try {
    const c = client({ maxRetries: 2 });
    await c.exchangeInfo();
    server.resetStats();
    await assert.rejects(c.klines('BTCUSDT', NOW - 10 * MIN, NOW), (e: unknown) => {
      assert.ok(e instanceof SourceError);
      assert.equal(e.code, 'SERVER_ERROR');
      assert.match(e.message, /failed after 3 attempts/);
      return true;
    });
    assert.equal(server.stats.klineRequests, 0, 'faults answer before the handler');
    assert.equal(server.stats.requests['/api/v3/klines'], 3);
  } finally {
    server.setFaults([]);
  }
});

test('cancellation: an AbortSignal stops a hanging request and a paginated fetch', async () => {
  const c = client({ timeoutSeconds: 30 });
  await c.exchangeInfo();
  server.setFaults([{ kind: 'hang', path: '/api/v3/klines' }]);
  try {
    const ac = new AbortController();
    const sent = server.stats.requests['/api/v3/klines'] ?? 0;
    const p = fetchRange1m(c, 'BTCUSDT', NOW - 5000 * MIN, NOW, { signal: ac.signal });
    // Abort once the request is parked at the server.
    while ((server.stats.requests['/api/v3/klines'] ?? 0) === sent)
      await new Promise((r) => setImmediate(r));
    ac.abort();
    await assert.rejects(p, CancelledError);
  } finally {
    server.setFaults([]);
  }
  const ac = new AbortController();
  let pages = 0;
  const p = fetchRange1m(c, 'BTCUSDT', NOW - 20_000 * MIN, NOW, {
    signal: ac.signal,
    onPage: () => {
      if (++pages === 2) ac.abort();
    },
  });
  await assert.rejects(p, (e: unknown) => e instanceof CancelledError && e.code === 'CANCELLED');
  assert.equal(pages, 2);
  const pre = new AbortController();
  pre.abort();
  await assert.rejects(c.klines('BTCUSDT', 0, 1, { signal: pre.signal }), CancelledError);
});

test('serverTime, exchangeInfo (cached, configures the governor), ticker24h', async () => {
  server.resetStats();
  const c = client();
  assert.equal(await c.serverTime(), NOW, 'reads exchangeInfo first, to learn the limit');
  const a = await c.exchangeInfo();
  const b = await c.exchangeInfo();
  assert.equal(a, b);
  assert.equal(server.stats.requests['/api/v3/exchangeInfo'], 1);
  assert.equal(c.governor.limits.limit, 6000);
  const t = await c.ticker24h();
  const btc = t.find((x) => x.symbol === 'BTCUSDT');
  assert.ok(btc && btc.quoteVolume > 1e9);
});

test('parseKlinePage validates rows', () => {
  const row = (t: number) => [
    t,
    '1.0',
    '2.0',
    '0.5',
    '1.5',
    '10',
    t + MIN - 1,
    '15',
    3,
    '5',
    '7.5',
    '0',
  ];
  const ok = parseKlinePage([row(2 * MIN), row(MIN), row(MIN)], 0, 10 * MIN);
  assert.deepEqual(Array.from(ok.candles.openTime.subarray(0, ok.candles.length)), [MIN, 2 * MIN]);
  assert.equal(ok.rawCount, 3);
  const bad = [
    [row(MIN).slice(0, 11)],
    [[MIN + 5, ...row(MIN).slice(1, 6), MIN + 5 + MIN - 1, ...row(MIN).slice(7)]],
    [[MIN, '1', '0.9', '0.5', '1.5', '10', 2 * MIN - 1, '15', 3, '5', '7.5', '0']],
    [[MIN, 'x', '2', '0.5', '1.5', '10', 2 * MIN - 1, '15', 3, '5', '7.5', '0']],
    [row(MIN), [MIN, '1.0', '2.0', '0.5', '1.6', '10', 2 * MIN - 1, '15', 3, '5', '7.5', '0']],
  ];
  for (const b of bad) {
    assert.throws(
      () => parseKlinePage(b, 0, 10 * MIN),
      (e: unknown) => e instanceof SourceError && e.code === 'INVALID_RESPONSE',
    );
  }
});
