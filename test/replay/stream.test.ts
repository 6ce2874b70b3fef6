import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { WebSocket } from 'ws';
import { startReplayServer, type ReplayServer } from '../../daemon/replay/server.ts';
import type { FaultSpec } from '../../daemon/replay/faults.ts';

/** A synthetic minute well inside the replay's universe; the clock is moved by hand. */
const T0 = Date.UTC(2024, 2, 5, 12, 0, 30);
const MIN = 60_000;
let clock = T0;
let server: ReplayServer;

before(async () => {
  server = await startReplayServer({
    now: () => clock,
    stream: { tickMs: 20, updateMs: 2000, pingMs: 100 },
  });
});
after(async () => {
  await server.close();
});

interface Event {
  stream?: string;
  e: string;
  s: string;
  k: {
    t: number;
    T: number;
    s: string;
    i: string;
    o: string;
    c: string;
    h: string;
    l: string;
    v: string;
    n: number;
    x: boolean;
    q: string;
  };
}

/** A client that keeps every message and lets a test await the next one matching a test. */
function client(path: string) {
  const ws = new WebSocket(server.wsUrl + path);
  const got: Event[] = [];
  let pings = 0;
  const waiters: Array<{ ok: (e: Event) => boolean; resolve: (e: Event) => void }> = [];
  ws.on('ping', () => pings++);
  ws.on('message', (buf) => {
    const raw = JSON.parse(String(buf)) as Event & { data?: Event };
    const ev = raw.data ? { ...raw.data, stream: raw.stream } : raw;
    got.push(ev);
    for (const w of waiters.splice(0)) {
      if (w.ok(ev)) w.resolve(ev);
      else waiters.push(w);
    }
  });
  return {
    ws,
    got,
    pings: () => pings,
    next(ok: (e: Event) => boolean): Promise<Event> {
      const seen = got.find(ok);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve) => waiters.push({ ok, resolve }));
    },
    open: once(ws, 'open'),
  };
}

async function restKline(symbol: string, t: number): Promise<unknown[]> {
  const res = await fetch(
    `${server.url}/api/v3/klines?symbol=${symbol}&interval=1m&startTime=${t}&limit=1`,
  );
  return ((await res.json()) as unknown[][])[0];
}

function withFaults(f: FaultSpec[]) {
  server.setFaults(f);
}

test('combined streams: a final per minute at its close, equal to REST, and running updates', async () => {
  withFaults([]);
  clock = T0;
  const c = client('/stream?streams=btcusdc@kline_1m/ethusdc@kline_1m');
  await c.open;
  const running = await c.next((e) => !e.k.x && e.s === 'BTCUSDC');
  assert.equal(running.stream, 'btcusdc@kline_1m');
  assert.equal(running.k.t, Date.UTC(2024, 2, 5, 12, 0));
  assert.equal(running.k.i, '1m');
  // The minute closes on the market clock: its final arrives for both streams.
  const t = Date.UTC(2024, 2, 5, 12, 0);
  clock = t + MIN + 1000;
  const [btc, eth] = await Promise.all([
    c.next((e) => e.k.x && e.s === 'BTCUSDC'),
    c.next((e) => e.k.x && e.s === 'ETHUSDC'),
  ]);
  for (const [ev, sym] of [
    [btc, 'BTCUSDC'],
    [eth, 'ETHUSDC'],
  ] as const) {
    const rest = await restKline(sym, t);
    assert.equal(ev.k.t, t);
    assert.equal(ev.k.T, t + MIN - 1);
    assert.deepEqual(
      [ev.k.o, ev.k.h, ev.k.l, ev.k.c, ev.k.v, ev.k.n, ev.k.q],
      [rest[1], rest[2], rest[3], rest[4], rest[5], rest[8], rest[7]],
    );
  }
  // No minute closed before the connection is sent (a stream carries no history).
  assert.equal(c.got.filter((e) => e.k.x && e.k.t < t).length, 0);
  c.ws.close();
});

test('/ws/<stream> sends bare events; SUBSCRIBE adds a stream; a bad name is refused', async () => {
  withFaults([]);
  clock = T0;
  const c = client('/ws/btcusdc@kline_1m');
  await c.open;
  const ev = await c.next((e) => e.s === 'BTCUSDC');
  assert.equal(ev.stream, undefined);
  assert.equal(ev.e, 'kline');
  c.ws.send(JSON.stringify({ method: 'SUBSCRIBE', params: ['solusdc@kline_1m'], id: 7 }));
  const sol = await c.next((e) => e.s === 'SOLUSDC');
  assert.equal(sol.k.s, 'SOLUSDC');
  c.ws.close();

  const bad = new WebSocket(`${server.wsUrl}/stream?streams=btcusdc@depth`);
  const [, res] = (await once(bad, 'unexpected-response')) as [unknown, { statusCode: number }];
  assert.equal(res.statusCode, 400);
  bad.on('error', () => undefined); // aborting the refused handshake reports it as an error
  bad.terminate();
});

test('faults: a final dropped, one duplicated, one late, and one falsified', async () => {
  clock = T0;
  const t1 = Date.UTC(2024, 2, 5, 12, 0);
  withFaults([
    { kind: 'wsDropFinal', symbol: 'BTCUSDC', count: 1 },
    { kind: 'wsDuplicateFinal', symbol: 'ETHUSDC', count: 1 },
    { kind: 'wsLateFinal', symbol: 'SOLUSDC', count: 1, delayMs: 300 },
    { kind: 'wsWrongFinal', symbol: 'XRPUSDC', count: 1 },
  ]);
  const c = client(
    '/stream?streams=btcusdc@kline_1m/ethusdc@kline_1m/solusdc@kline_1m/xrpusdc@kline_1m',
  );
  await c.open;
  clock = t1 + MIN + 500;
  const sol = c.next((e) => e.k.x && e.s === 'SOLUSDC');
  await c.next((e) => e.k.x && e.s === 'XRPUSDC');
  // The late final is not there when the others are.
  assert.equal(c.got.filter((e) => e.k.x && e.s === 'SOLUSDC').length, 0);
  await sol;
  // The next minute: BTCUSDC's final comes again (the drop fired once).
  clock = t1 + 2 * MIN + 500;
  await c.next((e) => e.k.x && e.s === 'BTCUSDC' && e.k.t === t1 + MIN);
  const finals = (s: string, t: number) => c.got.filter((e) => e.k.x && e.s === s && e.k.t === t);
  assert.equal(finals('BTCUSDC', t1).length, 0);
  assert.equal(finals('ETHUSDC', t1).length, 2);
  assert.equal(finals('SOLUSDC', t1).length, 1);
  const xrp = finals('XRPUSDC', t1)[0];
  const rest = await restKline('XRPUSDC', t1);
  assert.notEqual(xrp.k.c, rest[4]);
  assert.equal(server.stats.faults.wsDropFinal, 1);
  c.ws.close();
});

test('faults: a socket cut at a close, and a silent socket that sends not even a ping', async () => {
  clock = T0;
  const t1 = Date.UTC(2024, 2, 5, 12, 0);
  withFaults([{ kind: 'wsCut', count: 1 }]);
  const c = client('/ws/btcusdc@kline_1m');
  await c.open;
  clock = t1 + MIN + 500;
  const [code] = (await once(c.ws, 'close')) as [number];
  assert.equal(code, 1006); // no close frame: the TCP connection was destroyed
  assert.equal(c.got.filter((e) => e.k.x).length, 0);

  clock = T0;
  withFaults([{ kind: 'wsSilent', count: 1 }]);
  const s = client('/ws/btcusdc@kline_1m');
  await s.open;
  await once(s.ws, 'ping');
  clock = t1 + MIN + 500;
  // The normal socket beside it keeps receiving; the silent one gets nothing more.
  const other = client('/ws/btcusdc@kline_1m');
  await other.open;
  clock = t1 + 2 * MIN + 500;
  await other.next((e) => e.k.x);
  const pingsBefore = s.pings();
  await once(other.ws, 'ping');
  await once(other.ws, 'ping');
  assert.equal(s.pings(), pingsBefore);
  assert.equal(s.got.filter((e) => e.k.x).length, 0);
  s.ws.terminate();
  other.ws.close();
});
