import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { strFromU8, unzipSync } from 'fflate';
import { startReplayServer, type ReplayServer } from '../../daemon/replay/server.ts';
import { parseFaultFlag } from '../../daemon/replay/faults.ts';
import { REQUIRED_USDC } from '../../daemon/replay/universe.ts';
import { recordedKlines } from '../helpers/fixtures.ts';

/** 2023-05-01 21:01:30 UTC: the last recorded BTCUSDT minute (21:01) is still open. */
const NOW = Date.UTC(2023, 4, 1, 21, 1, 30);
let server: ReplayServer;
const RECORDED = { BTCUSDT: recordedKlines('freqtrade_andresciancio/BTC_USDT-1m.json.gz') };

before(async () => {
  // The real 2023 BTCUSDT minutes (freqtrade capture, with the 2023-03-24 outage) as recorded data.
  server = await startReplayServer({ now: NOW, recorded: RECORDED });
});
after(async () => {
  await server.close();
});

async function get(path: string) {
  const res = await fetch(server.url + path);
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    text,
    json: () => JSON.parse(text) as unknown,
  };
}

test('every REST answer carries X-MBX-USED-WEIGHT-1M, counting documented weights', async () => {
  server.resetLimits();
  const a = await get('/api/v3/time');
  assert.deepEqual(a.json(), { serverTime: NOW });
  const base = Number(a.headers.get('x-mbx-used-weight-1m'));
  const k = await get('/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=1');
  assert.equal(Number(k.headers.get('x-mbx-used-weight-1m')), base + 2);
  const e = await get('/api/v3/exchangeInfo?symbol=BTCUSDT');
  assert.equal(Number(e.headers.get('x-mbx-used-weight-1m')), base + 22);
  const t = await get('/api/v3/ticker/24hr');
  assert.equal(Number(t.headers.get('x-mbx-used-weight-1m')), base + 102);
  const bad = await get('/api/v3/klines?symbol=NOPEUSDT&interval=1m');
  assert.equal(Number(bad.headers.get('x-mbx-used-weight-1m')), base + 104);
});

test('klines: 12 fields, numbers as strings, Binance error codes', async () => {
  const k = await get('/api/v3/klines?symbol=BTCUSDT&interval=1m&startTime=1679004900000&limit=2');
  assert.equal(k.status, 200);
  const rows = k.json() as unknown[][];
  assert.equal(rows.length, 2);
  assert.equal(rows[0].length, 12);
  assert.equal(rows[0][0], 1679004900000);
  assert.equal(rows[0][1], '24899.18000000');
  assert.equal(rows[0][6], 1679004959999);
  assert.equal(typeof rows[0][8], 'number');
  const cases: Array<[string, number, number]> = [
    ['symbol=NOPEUSDT&interval=1m', 400, -1121],
    ['symbol=BTCUSDT&interval=3h', 400, -1120],
    ['interval=1m', 400, -1102],
    ['symbol=btcusdt&interval=1m', 400, -1100],
    ['symbol=BTCUSDT&interval=1m&startTime=abc', 400, -1100],
    ['symbol=BTCUSDT&interval=1m&limit=1001', 400, -1130],
    ['symbol=BTCUSDT&interval=1m&startTime=2&endTime=1', 400, -1023],
  ];
  for (const [q, status, code] of cases) {
    const r = await get(`/api/v3/klines?${q}`);
    assert.equal(r.status, status, q);
    assert.equal((r.json() as { code: number }).code, code, q);
  }
  const inv = await get('/api/v3/klines?symbol=NOPEUSDT&interval=1m');
  assert.deepEqual(inv.json(), { code: -1121, msg: 'Invalid symbol.' });
});

test('klines: default limit 500, the last kline at now is open, the outage stays missing', async () => {
  const newest = (await get('/api/v3/klines?symbol=BTCUSDT&interval=1m')).json() as unknown[][];
  assert.equal(newest.length, 500);
  const last = newest[newest.length - 1];
  assert.equal(last[0], Date.UTC(2023, 4, 1, 21, 1));
  assert.ok((last[6] as number) >= NOW, 'close time of the open kline is after server time');
  const outage = Date.UTC(2023, 2, 24, 12, 30);
  const rows = (
    await get(
      `/api/v3/klines?symbol=BTCUSDT&interval=1m&startTime=${outage}&endTime=${outage + 3 * 3_600_000}&limit=1000`,
    )
  ).json() as unknown[][];
  const times = rows.map((r) => r[0] as number);
  assert.equal(times.includes(Date.UTC(2023, 2, 24, 12, 39)), true);
  assert.equal(times.includes(Date.UTC(2023, 2, 24, 12, 40)), false);
  assert.equal(times.includes(Date.UTC(2023, 2, 24, 13, 59)), false);
  assert.equal(times.includes(Date.UTC(2023, 2, 24, 14, 0)), true);
  assert.equal(rows.length, 181 - 80, 'endTime is inclusive');
});

test('synthetic series are deterministic and coherent, with some zero-volume minutes', async () => {
  const q = `/api/v3/klines?symbol=SOLUSDC&interval=1m&startTime=${Date.UTC(2023, 3, 1)}&limit=1000`;
  const a = (await get(q)).text;
  const b = (await get(q)).text;
  assert.equal(a, b);
  const other = await startReplayServer({ now: NOW });
  try {
    assert.equal(await (await fetch(other.url + q)).text(), a, 'same seed, same data');
  } finally {
    await other.close();
  }
  const rows = JSON.parse(a) as string[][];
  assert.equal(rows.length, 1000);
  for (const r of rows) {
    const [o, h, l, c, v, qv] = [r[1], r[2], r[3], r[4], r[5], r[7]].map(Number);
    assert.ok(h >= Math.max(o, c) && l <= Math.min(o, c) && l > 0);
    if (v === 0) assert.equal(qv, 0);
    else assert.ok(qv >= v * l * 0.999999 && qv <= v * h * 1.000001);
  }
});

test('exchangeInfo: current shape, configured limit, USDC pairs, MATIC in BREAK', async () => {
  const info = (await get('/api/v3/exchangeInfo')).json() as {
    rateLimits: Array<{
      rateLimitType: string;
      interval: string;
      intervalNum: number;
      limit: number;
    }>;
    symbols: Array<{
      symbol: string;
      status: string;
      quoteAsset: string;
      permissions: unknown[];
      permissionSets: string[][];
    }>;
  };
  const rw = info.rateLimits.find((r) => r.rateLimitType === 'REQUEST_WEIGHT');
  assert.deepEqual(rw, {
    rateLimitType: 'REQUEST_WEIGHT',
    interval: 'MINUTE',
    intervalNum: 1,
    limit: 6000,
  });
  const by = new Map(info.symbols.map((s) => [s.symbol, s]));
  for (const s of REQUIRED_USDC) {
    assert.equal(by.get(s)?.status, 'TRADING', s);
    assert.equal(by.get(s)?.quoteAsset, 'USDC', s);
  }
  assert.equal(by.get('MATICUSDC')?.status, 'BREAK');
  assert.equal(by.get('USDCUSDT')?.quoteAsset, 'USDT');
  assert.deepEqual(by.get('BTCUSDT')?.permissions, []);
  assert.ok(by.get('BTCUSDT')?.permissionSets[0].includes('SPOT'));
  const usdc = info.symbols.filter((s) => s.quoteAsset === 'USDC' && s.status === 'TRADING');
  assert.ok(usdc.length > 100, `${usdc.length} USDC pairs trading`);
});

test('ticker/24hr: quoteVolume for every symbol, more than 100 USDC pairs with volume', async () => {
  const all = (await get('/api/v3/ticker/24hr')).json() as Array<{
    symbol: string;
    quoteVolume: string;
  }>;
  const usdc = all.filter((t) => t.symbol.endsWith('USDC') && Number(t.quoteVolume) > 0);
  assert.ok(usdc.length > 100, `${usdc.length}`);
  const one = (await get('/api/v3/ticker/24hr?symbol=BTCUSDT')).json() as { quoteVolume: string };
  const usdt = all.filter((t) => t.symbol.endsWith('USDT') && t.symbol !== 'USDCUSDT');
  const top = usdt.reduce((a, b) => (Number(b.quoteVolume) > Number(a.quoteVolume) ? b : a));
  assert.equal(top.symbol, 'BTCUSDT', 'the most traded USDT pair');
  assert.equal(one.quoteVolume, top.quoteVolume);
});

test('429 with Retry-After past the limit, then 418 for a client that keeps sending', async () => {
  let clock = 5_000;
  const s = await startReplayServer({
    now: NOW,
    weightLimit: 10,
    windowMs: 2000,
    rateClock: () => clock,
  });
  try {
    for (let i = 0; i < 5; i++) {
      const r = await fetch(`${s.url}/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=1`);
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('x-mbx-used-weight-2s'), String(2 * (i + 1)));
      await r.arrayBuffer();
    }
    const r429 = await fetch(`${s.url}/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=1`);
    assert.equal(r429.status, 429);
    assert.equal(r429.headers.get('retry-after'), '1');
    const body = (await r429.json()) as { code: number; msg: string };
    assert.equal(body.code, -1003);
    assert.match(
      body.msg,
      /^Too much request weight used; current limit is 10 request weight per 2 SECOND/,
    );
    const r418 = await fetch(`${s.url}/api/v3/time`);
    assert.equal(r418.status, 418);
    assert.equal(r418.headers.get('retry-after'), '4');
    assert.match(((await r418.json()) as { msg: string }).msg, /IP banned until/);
    assert.equal(s.stats.count429, 1);
    assert.equal(s.stats.count418, 1);
    clock += 4000;
    const ok = await fetch(`${s.url}/api/v3/time`);
    assert.equal(ok.status, 200);
    await ok.arrayBuffer();
  } finally {
    await s.close();
  }
});

test('a client that waits out Retry-After is not banned', async () => {
  let clock = 0;
  const s = await startReplayServer({
    now: NOW,
    weightLimit: 4,
    windowMs: 1000,
    rateClock: () => clock,
  });
  try {
    for (let i = 0; i < 3; i++)
      await (
        await fetch(`${s.url}/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=1`)
      ).arrayBuffer();
    assert.equal(s.stats.count429, 1);
    clock += 1000;
    const r = await fetch(`${s.url}/api/v3/time`);
    assert.equal(r.status, 200);
    await r.arrayBuffer();
    assert.equal(s.stats.count418, 0);
  } finally {
    await s.close();
  }
});

function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

async function archive(s: ReplayServer, path: string) {
  const z = await fetch(s.archiveUrl + path);
  const zip = new Uint8Array(await z.arrayBuffer());
  const c = await fetch(s.archiveUrl + path + '.CHECKSUM');
  return { status: z.status, zip, checksum: await c.text(), checksumStatus: c.status };
}

test('archive: monthly zip with a matching CHECKSUM, ms timestamps before 2025', async () => {
  const a = await archive(server, '/data/spot/monthly/klines/BTCUSDT/1m/BTCUSDT-1m-2023-04.zip');
  assert.equal(a.status, 200);
  assert.equal(a.checksum, `${sha256(a.zip)}  BTCUSDT-1m-2023-04.zip\n`);
  const entries = unzipSync(a.zip);
  assert.deepEqual(Object.keys(entries), ['BTCUSDT-1m-2023-04.csv']);
  const lines = strFromU8(entries['BTCUSDT-1m-2023-04.csv']).trim().split('\n');
  assert.equal(lines.length, 30 * 1440);
  assert.match(lines[0], /^1680307200000,[0-9.]+,/);
  assert.equal(lines[0].split(',').length, 12);
});

test('archive: microsecond timestamps from 2025-01-01; 404 for incomplete or future periods', async () => {
  const s = await startReplayServer({ now: Date.UTC(2025, 1, 3, 12) });
  try {
    const dec = await archive(s, '/data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2024-12-31.zip');
    const decLines = strFromU8(Object.values(unzipSync(dec.zip))[0])
      .trim()
      .split('\n');
    assert.equal(decLines[decLines.length - 1].split(',')[6], '1735689599999');
    const jan = await archive(s, '/data/spot/monthly/klines/BTCUSDT/1m/BTCUSDT-1m-2025-01.zip');
    assert.equal(jan.checksum.split(' ')[0], sha256(jan.zip));
    const first = strFromU8(Object.values(unzipSync(jan.zip))[0])
      .split('\n')[0]
      .split(',');
    assert.equal(first[0], '1735689600000000');
    assert.equal(first[6], '1735689659999999');
    const day = await archive(s, '/data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2025-02-02.zip');
    assert.equal(day.status, 200);
    for (const p of [
      '/data/spot/monthly/klines/BTCUSDT/1m/BTCUSDT-1m-2025-02.zip',
      '/data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2025-02-03.zip',
      '/data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2025-03-01.zip',
      '/data/spot/daily/klines/NOPEUSDT/1m/NOPEUSDT-1m-2025-01-01.zip',
      '/data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2016-01-01.zip',
    ]) {
      const r = await fetch(s.archiveUrl + p);
      assert.equal(r.status, 404, p);
      assert.match(await r.text(), /NoSuchKey/);
    }
  } finally {
    await s.close();
  }
});

test('archive: the recorded data.binance.vision day is served with the original rows', async () => {
  const a = await archive(server, '/data/spot/daily/klines/ETHUSDT/1m/ETHUSDT-1m-2022-08-14.zip');
  const lines = strFromU8(Object.values(unzipSync(a.zip))[0])
    .trim()
    .split('\n');
  assert.equal(lines.length, 1440);
  assert.equal(
    lines[0],
    '1660435200000,1983.55000000,1983.90000000,1982.14000000,1982.29000000,205.13100000,1660435259999,406814.92308000,288,105.29930000,208854.93067400,0',
  );
});

test('fault flags parse from the command line form', () => {
  assert.deepEqual(parseFaultFlag('http5xx:probability=0.1,count=5,status=502'), {
    kind: 'http5xx',
    probability: 0.1,
    count: 5,
    status: 502,
  });
  assert.deepEqual(
    parseFaultFlag('missing:symbol=BTCUSDT,range=2024-01-01T00:00Z..2024-01-01T02:00Z'),
    {
      kind: 'missing',
      symbol: 'BTCUSDT',
      ranges: [[Date.UTC(2024, 0, 1), Date.UTC(2024, 0, 1, 2)]],
    },
  );
  assert.throws(() => parseFaultFlag('explode'), /unknown fault "explode"/);
});

test('transport faults: 5xx, truncated JSON, reset', async () => {
  const s = await startReplayServer({ now: NOW, seed: 7 });
  try {
    s.setFaults([
      { kind: 'http5xx', count: 1 },
      { kind: 'truncated', count: 1, after: 1 },
    ]);
    const q = `${s.url}/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=10`;
    const r1 = await fetch(q);
    assert.equal(r1.status, 503);
    assert.equal(((await r1.json()) as { code: number }).code, -1007);
    const r2 = await fetch(q);
    assert.equal(r2.status, 200);
    await assert.rejects(r2.json(), SyntaxError);
    s.setFaults([{ kind: 'reset', count: 1 }]);
    await assert.rejects(fetch(q));
    const r3 = await fetch(q);
    assert.equal(r3.status, 200);
    await r3.arrayBuffer();
    assert.deepEqual(s.stats.faults, { http5xx: 1, truncated: 1, reset: 1 });
  } finally {
    await s.close();
  }
});
