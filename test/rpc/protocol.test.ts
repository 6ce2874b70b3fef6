/**
 * Protocol tests: a client and the daemon in one process over paired streams, on a temporary bank
 * seeded with synthetic candles. No sleeps: every wait is on a message or an event.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  ErrorCodes,
  PROTOCOL_VERSION,
  REQUESTS,
  type WorkDoneProgress,
} from '../../schemas/protocol.ts';
import { ResponseError } from '../../daemon/rpc/client.ts';
import { messages } from '../../daemon/app/messages.ts';
import { messages as rpcMessages } from '../../daemon/rpc/messages.ts';
import { DAY, JAN_2024, nextNotification, startHarness } from '../helpers/harness.ts';

async function rejects(p: Promise<unknown>, code: number): Promise<ResponseError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ResponseError, `expected a ResponseError, got ${String(e)}`);
    assert.equal(e.rpcCode, code, `${e.rpcCode} ${e.code}: ${e.message}`);
    return e;
  }
  assert.fail(`expected error ${code}`);
}

test('initialize: handshake answers the protocol version, data dir and capabilities', async () => {
  const h = await startHarness({ initialize: false });
  try {
    await rejects(h.client.request('registry/list', {}), ErrorCodes.ServerNotInitialized);
    const r = await h.client.initialize({ clientInfo: { name: 'test', version: '1' } });
    assert.equal(r.protocolVersion, PROTOCOL_VERSION);
    assert.equal(r.dataDir, h.dir);
    assert.equal(r.serverInfo.name, 'threadx-data');
    assert.ok(r.capabilities.methods.includes('data/read'));
    assert.equal(r.capabilities.cancellation, true);
    await rejects(h.client.request('initialize', {}), ErrorCodes.InvalidRequest);
  } finally {
    await h.close();
  }
});

test('config/get and symbols/groups answer the configuration', async () => {
  const h = await startHarness({
    config: (c) => {
      c.groups = { Mine: ['BTCUSDC', 'ETHUSDC'] };
    },
  });
  try {
    const cfg = await h.client.request('config/get', undefined, { validate: true });
    assert.equal(cfg.dataDir, h.dir);
    assert.equal(cfg.config.data.api.concurrency, 4);
    const { groups } = await h.client.request('symbols/groups', {}, { validate: true });
    assert.deepEqual(
      groups.map((g) => [g.name, g.source]),
      [
        ['L1', 'builtin'],
        ['DeFi', 'builtin'],
        ['L2', 'builtin'],
        ['Stable', 'builtin'],
        ['Mine', 'config'],
      ],
    );
    assert.deepEqual(groups[0].symbols, ['BTCUSDC', 'ETHUSDC', 'SOLUSDC', 'ADAUSDC']);
  } finally {
    await h.close();
  }
});

test('registry/list, data/read with maxPoints, registry/delete', async () => {
  const h = await startHarness({ seed: { BTCUSDC: 3, ETHUSDC: 2 }, derive: ['1h'] });
  try {
    const list = await h.client.request('registry/list', {}, { validate: true });
    assert.deepEqual(
      list.datasets.map((d) => d.id),
      ['BTCUSDC/1h', 'BTCUSDC/1m', 'ETHUSDC/1h', 'ETHUSDC/1m'],
    );
    const btc = list.datasets.find((d) => d.id === 'BTCUSDC/1m')!;
    assert.equal(btc.rows, 3 * 1440);
    assert.equal(btc.first, JAN_2024);
    const filtered = await h.client.request('registry/list', { filter: { symbol: 'ethusdc' } });
    assert.equal(filtered.datasets.length, 2);

    // 1 day of 1m is 1440 points: served as is under 5000.
    const r1 = await h.client.request(
      'data/read',
      { symbol: 'BTCUSDC', interval: '1m', start: JAN_2024, end: JAN_2024 + DAY },
      { validate: true },
    );
    assert.equal(r1.interval, '1m');
    assert.equal(r1.length, 1440);
    assert.equal(r1.columns.openTime[0], JAN_2024);
    assert.equal(r1.columns.close.length, 1440);

    // 3 days of 1m in 500 points: 1m does not fit; 1h is the finest stored timeframe that does.
    const r2 = await h.client.request('data/read', {
      symbol: 'BTCUSDC',
      interval: '1m',
      maxPoints: 500,
    });
    assert.equal(r2.interval, '1h');
    assert.equal(r2.length, 72);
    assert.equal(r2.resampled, false);
    // 5m is not stored but fits: resampled from 1m on the fly.
    const r5 = await h.client.request('data/read', {
      symbol: 'BTCUSDC',
      interval: '5m',
      start: JAN_2024,
      end: JAN_2024 + DAY,
    });
    assert.equal(r5.interval, '5m');
    assert.equal(r5.resampled, true);
    assert.equal(r5.length, 288);
    // Only 1h is stored; 4 points over 3 days: 1d (3) is resampled, 1h (72) does not fit.
    const r4 = await h.client.request('data/read', {
      symbol: 'BTCUSDC',
      interval: '1m',
      maxPoints: 4,
    });
    assert.equal(r4.interval, '1d');
    assert.equal(r4.resampled, true);
    assert.equal(r4.length, 3);
    // exact: the interval asked for, always; past maxPoints the latest candles, marked truncated.
    const rx = await h.client.request(
      'data/read',
      { symbol: 'BTCUSDC', interval: '1m', maxPoints: 500, exact: true },
      { validate: true },
    );
    assert.equal(rx.interval, '1m');
    assert.equal(rx.length, 500);
    assert.equal(rx.truncated, true);
    assert.equal(rx.columns.openTime[499], JAN_2024 + 3 * DAY - 60_000);
    const ry = await h.client.request('data/read', {
      symbol: 'BTCUSDC',
      interval: '5m',
      start: JAN_2024,
      end: JAN_2024 + DAY,
      maxPoints: 300,
      exact: true,
    });
    assert.equal(ry.interval, '5m');
    assert.equal(ry.length, 288);
    assert.equal(ry.truncated, false);
    const r3 = await h.client.request('data/read', {
      symbol: 'BTCUSDC',
      interval: '1m',
      start: '2024-01-01',
      end: '2024-01-04',
      maxPoints: 100,
    });
    assert.equal(r3.interval, '1h');
    assert.equal(r3.resampled, false);
    assert.equal(r3.length, 72);
    // The hourly close is the close of the hour's last minute.
    assert.equal(r3.columns.close[0], r1.columns.close[59]);

    await rejects(
      h.client.request('data/read', { symbol: 'XRPUSDC', interval: '1m' }),
      ErrorCodes.NotFound,
    );

    const changed = nextNotification(h.client, 'registry/changed');
    const del = await h.client.request('registry/delete', { symbol: 'ETHUSDC', interval: '1m' });
    assert.deepEqual(del.datasets, ['ETHUSDC/1h', 'ETHUSDC/1m']);
    assert.deepEqual(await changed, {
      changed: [],
      removed: ['ETHUSDC/1h', 'ETHUSDC/1m'],
      reason: 'delete',
    });
    await rejects(
      h.client.request('registry/delete', { symbol: 'ETHUSDC', interval: '1m' }),
      ErrorCodes.NotFound,
    );
    const v = await h.client.request('registry/verify', {}, { validate: true });
    assert.equal(v.ok, true, JSON.stringify(v.issues));
  } finally {
    await h.close();
  }
});

test('invalid params: -32602 with every issue path by path', async () => {
  const h = await startHarness();
  try {
    const e = await rejects(
      h.client.request('data/read', {
        symbol: '../../etc/passwd',
        interval: '7m' as '1m',
        maxPoints: -1,
      }),
      ErrorCodes.InvalidParams,
    );
    const paths = e.data!.issues!.map((i) => i.path.join('.')).sort();
    assert.deepEqual(paths, ['interval', 'maxPoints', 'symbol']);
    assert.match(e.message, /Invalid params for data\/read/);
    const e2 = await rejects(
      h.client.request('ingest/run', { start: '2024-01-01T00:00' } as never),
      ErrorCodes.InvalidParams,
    );
    assert.ok(e2.data!.issues!.some((i) => /naive datetime/.test(i.message)));
    const e3 = await rejects(
      h.client.request('indicators/read', {
        symbols: ['BTCUSDC'],
        intervals: ['1h'],
        indicators: [{ name: 'macd', params: { fast: 30, slow: 10 } }],
      }),
      ErrorCodes.InvalidParams,
    );
    assert.deepEqual(e3.data!.issues![0].path, ['indicators', 0, 'params', 'fast']);
  } finally {
    await h.close();
  }
});

test('unknown method: -32601 naming it', async () => {
  const h = await startHarness();
  try {
    const e = await rejects(
      h.client.request('no/such' as 'config/get', undefined),
      ErrorCodes.MethodNotFound,
    );
    assert.equal(e.message, rpcMessages.methodNotFound('no/such'));
  } finally {
    await h.close();
  }
});

test('progress: begin, report(s) and end for registry/verify', async () => {
  const h = await startHarness({ seed: { BTCUSDC: 40, ETHUSDC: 40 }, derive: ['1h', '1d'] });
  try {
    const events: WorkDoneProgress[] = [];
    const r = await h.client.request('registry/verify', {}, { onProgress: (p) => events.push(p) });
    assert.equal(r.ok, true);
    assert.equal(events[0].kind, 'begin');
    assert.equal(events.at(-1)!.kind, 'end');
    assert.ok(
      events.some((e) => e.kind === 'report'),
      JSON.stringify(events),
    );
    const pct = events
      .filter((e) => e.kind === 'report')
      .map((e) => (e as { percentage: number }).percentage);
    assert.deepEqual(
      pct,
      [...pct].sort((a, b) => a - b),
    );
  } finally {
    await h.close();
  }
});

test('cancellation: a cancelled verify answers -32800 and the bank stays consistent', async () => {
  const h = await startHarness({ seed: { BTCUSDC: 62, ETHUSDC: 62 }, derive: ['1h'] });
  try {
    const ac = new AbortController();
    let begun!: () => void;
    const began = new Promise<void>((r) => (begun = r));
    const p = h.client.request(
      'registry/verify',
      {},
      {
        signal: ac.signal,
        onProgress: (e) => {
          if (e.kind === 'begin') begun();
        },
      },
    );
    await began;
    ac.abort();
    await rejects(p, ErrorCodes.RequestCancelled);
    const v = await h.client.request('registry/verify', {});
    assert.equal(v.ok, true);
  } finally {
    await h.close();
  }
});

test('registry/changed reaches every connected client', async () => {
  const h = await startHarness({ seed: { BTCUSDC: 1, ETHUSDC: 1 } });
  try {
    const second = await h.connect();
    const a = nextNotification(h.client, 'registry/changed');
    const b = nextNotification(second, 'registry/changed');
    await second.request('registry/delete', { symbol: 'BTCUSDC', interval: '1m' });
    assert.deepEqual((await a).removed, ['BTCUSDC/1m']);
    assert.deepEqual((await b).removed, ['BTCUSDC/1m']);
  } finally {
    await h.close();
  }
});

test('data/export: absolute path in an existing folder, never overwriting by default', async () => {
  const h = await startHarness({ seed: { BTCUSDC: 2 } });
  const out = await mkdtemp(path.join(tmpdir(), 'threadx-export-'));
  try {
    const file = path.join(out, 'btc-1h.csv');
    const r = await h.client.request(
      'data/export',
      { symbol: 'BTCUSDC', interval: '1h', out: file },
      { validate: true },
    );
    assert.equal(r.rows, 48);
    assert.equal((await stat(file)).size, r.bytes);
    const text = await readFile(file, 'utf8');
    assert.equal(text.split('\n')[1].slice(0, 20), '2024-01-01T00:00:00.');
    for (const [bad, why] of [
      ['relative/out.csv', messages.exportNotAbsolute()],
      [path.join(out, 'missing', 'x.csv'), messages.exportNoFolder(path.join(out, 'missing'))],
      [file, messages.exportExists(file)],
      [path.join(out, 'x.txt'), messages.exportExtension()],
      [path.join(h.dir, 'processed', 'BTCUSDC', 'x.csv'), messages.exportInsideBank()],
    ]) {
      const e = await rejects(
        h.client.request('data/export', { symbol: 'BTCUSDC', interval: '1h', out: bad }),
        ErrorCodes.InvalidParams,
      );
      assert.deepEqual(e.data!.issues, [{ path: ['out'], message: why }]);
    }
    const again = await h.client.request('data/export', {
      symbol: 'BTCUSDC',
      interval: '1h',
      out: file,
      overwrite: true,
    });
    assert.equal(again.rows, 48);
  } finally {
    await h.close();
    await rm(out, { recursive: true, force: true });
  }
});

test('indicators/read: values aligned on open times, null before the lookback', async () => {
  const h = await startHarness({ seed: { BTCUSDC: 3 } });
  try {
    const r = await h.client.request(
      'indicators/read',
      {
        symbols: ['BTCUSDC'],
        intervals: ['1h'],
        indicators: [{ name: 'sma', params: { period: 3 } }, { name: 'macd' }],
      },
      { validate: true },
    );
    const s = r.series[0];
    assert.equal(s.interval, '1h');
    assert.equal(s.openTime.length, 72);
    const sma = s.indicators[0].outputs.sma;
    assert.equal(sma[0], null);
    assert.equal(sma[1], null);
    const candles = await h.client.request('data/read', { symbol: 'BTCUSDC', interval: '1h' });
    const c = candles.columns.close;
    assert.ok(Math.abs(sma[2]! - (c[0] + c[1] + c[2]) / 3) < 1e-9);
    assert.equal(s.indicators[1].key, 'macd-12-26-9');
    assert.deepEqual(Object.keys(s.indicators[1].outputs), ['macd', 'signal', 'hist']);
  } finally {
    await h.close();
  }
});

test('logs/subscribe: log lines arrive as log/message', async () => {
  const h = await startHarness();
  try {
    const r = await h.client.request('logs/subscribe', { level: 'info' });
    assert.equal(r.subscribed, true);
    const got = nextNotification(h.client, 'log/message', (m) =>
      /hello from the test/.test(m.message),
    );
    h.daemon.logger.info('hello from the test');
    assert.equal((await got).level, 'info');
  } finally {
    await h.close();
  }
});

test('shutdown then exit: the server answers null, then refuses new requests', async () => {
  const h = await startHarness();
  try {
    const exited = new Promise<number>((resolve) => h.daemon.server.once('exit', resolve));
    assert.equal(await h.client.request('shutdown', undefined), null);
    await rejects(h.client.request('registry/list', {}), ErrorCodes.InvalidRequest);
    h.client.notify('exit');
    assert.equal(await exited, 0);
  } finally {
    await h.close();
  }
});

test('every request method has a handler', async () => {
  const h = await startHarness();
  try {
    const r = await h.client.request('initialize', {}).catch((e: ResponseError) => e);
    assert.ok(r instanceof ResponseError);
    const methods = h.daemon.server.methods();
    for (const m of Object.keys(REQUESTS)) assert.ok(methods.includes(m), m);
  } finally {
    await h.close();
  }
});
