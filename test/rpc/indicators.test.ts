/**
 * `indicators/update` and `indicators/read` over the protocol: progress, registry/changed,
 * per-item status, invalid params by path, cancellation leaving the cache consistent, reads
 * served from the cache, and the after-ingest refresh.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCodes, type WorkDoneProgress } from '../../schemas/protocol.ts';
import { ResponseError } from '../../daemon/rpc/client.ts';
import { computeIndicator } from '../../daemon/engine/indicators.ts';
import { indicatorMessages } from '../../daemon/jobs/indicators.ts';
import { JAN_2024, startHarness } from '../helpers/harness.ts';

const ALL = ['sma', 'ema', 'rsi', 'macd', 'bbands', 'atr'].map((name) => ({
  name: name as 'sma',
}));

test('indicators/update: progress, per-item status, registry/changed, then all current', async () => {
  const h = await startHarness({ seed: { BTCUSDC: 3, ETHUSDC: 3 }, derive: ['1h'] });
  try {
    const changed = new Set<string>();
    h.client.onNotification('registry/changed', (p) => {
      if (p.reason === 'indicators') for (const id of p.changed) changed.add(id);
    });
    const events: WorkDoneProgress[] = [];
    const r = await h.client.request(
      'indicators/update',
      { symbols: ['BTCUSDC', 'ETHUSDC', 'NODATAUSDC'], intervals: ['1h', '4h'], indicators: ALL },
      { onProgress: (p) => events.push(p), validate: true },
    );
    assert.equal(r.items.length, 36);
    const ok = r.items.filter((i) => i.error === null);
    assert.equal(ok.length, 24);
    assert.ok(ok.every((i) => i.written));
    const bad = r.items.find((i) => i.symbol === 'NODATAUSDC')!;
    assert.equal(bad.error?.code, ErrorCodes.NotFound);
    assert.equal(bad.error?.message, indicatorMessages.noData('NODATAUSDC'));
    assert.equal(r.items[0].key, 'sma-20');
    assert.equal(events[0].kind, 'begin');
    assert.ok(events.some((e) => e.kind === 'report'));
    assert.deepEqual(events.at(-1), { kind: 'end', message: indicatorMessages.updated(24) });
    assert.ok(changed.has('BTCUSDC/1h/rsi-14'));
    assert.ok(changed.has('ETHUSDC/4h'), 'the 4h derived on the way is announced too');

    const list = await h.client.request('registry/list', { filter: { kind: 'indicator' } });
    assert.equal(list.datasets.length, 24);
    assert.deepEqual(list.datasets.find((d) => d.id === 'BTCUSDC/4h/bbands-20-2')?.indicator, {
      name: 'bbands',
      params: { period: 20, k: 2 },
    });
    const again = await h.client.request('indicators/update', {
      symbols: ['BTCUSDC', 'ETHUSDC'],
      intervals: ['1h', '4h'],
      indicators: ALL,
    });
    assert.ok(
      again.items.every((i) => !i.written && i.error === null),
      'all current',
    );
    const v = await h.client.request('registry/verify', {});
    assert.equal(v.ok, true, JSON.stringify(v.issues));
    assert.equal(v.checked, 2 + 4 + 24);

    const info = await (await h.connect(false)).initialize({ clientInfo: { name: 't' } });
    assert.equal(info.capabilities.indicators, true);
    assert.ok(info.capabilities.methods.includes('indicators/update'));
  } finally {
    await h.close();
  }
});

test('indicators/update: bad params answer InvalidParams with the path of the parameter', async () => {
  const h = await startHarness();
  try {
    await assert.rejects(
      h.client.request('indicators/update', {
        symbols: ['BTCUSDC'],
        intervals: ['1h'],
        indicators: [{ name: 'rsi' }, { name: 'macd', params: { fast: 40 } }],
      }),
      (e: unknown) =>
        e instanceof ResponseError &&
        e.rpcCode === ErrorCodes.InvalidParams &&
        JSON.stringify((e.data as { issues: unknown }).issues) ===
          JSON.stringify([
            {
              path: ['indicators', 1, 'params', 'fast'],
              message: 'fast (40) must be less than slow (26)',
            },
          ]),
    );
    const list = await h.client.request('registry/list', { filter: { kind: 'indicator' } });
    assert.equal(list.datasets.length, 0);
  } finally {
    await h.close();
  }
});

test('indicators/update cancelled: -32800, the cache verifies, a re-run finishes the rest', async () => {
  // 1m over 20 days: every item takes a few ms, so the cancel lands mid-batch.
  const h = await startHarness({ seed: { BTCUSDC: 20, ETHUSDC: 20 } });
  try {
    const params = {
      symbols: ['BTCUSDC', 'ETHUSDC'],
      intervals: ['1m' as const, '5m' as const],
      indicators: ALL,
    };
    const ac = new AbortController();
    const p = h.client.request('indicators/update', params, {
      signal: ac.signal,
      onProgress: (e) => {
        if (e.kind === 'report') ac.abort();
      },
    });
    await assert.rejects(
      p,
      (e: unknown) => e instanceof ResponseError && e.rpcCode === ErrorCodes.RequestCancelled,
    );
    const v = await h.client.request('registry/verify', {});
    assert.equal(v.ok, true, JSON.stringify(v.issues));
    const done = (await h.client.request('registry/list', { filter: { kind: 'indicator' } }))
      .datasets.length;
    assert.ok(done >= 1 && done < 24, `stopped early (${done} of 24 written)`);
    const again = await h.client.request('indicators/update', params);
    assert.equal(again.items.filter((i) => !i.written).length, done, 'kept what was done');
    assert.equal(again.items.filter((i) => i.written).length, 24 - done);
  } finally {
    await h.close();
  }
});

test('indicators/read: served from the current cache (full-series values), else computed', async () => {
  const h = await startHarness({ seed: { BTCUSDC: 10 }, derive: ['1h'] });
  try {
    const read = () =>
      h.client.request('indicators/read', {
        symbols: ['BTCUSDC'],
        intervals: ['1h'],
        indicators: [{ name: 'ema', params: { period: 50 } }, { name: 'macd' }],
        start: JAN_2024 + 5 * 86_400_000,
        maxPoints: 5000,
      });
    const computed = await read();
    await h.client.request('indicators/update', {
      symbols: ['BTCUSDC'],
      intervals: ['1h'],
      indicators: [{ name: 'ema', params: { period: 50 } }, { name: 'macd' }],
    });
    const cached = await read();
    const full = await h.daemon.bank.read('BTCUSDC', '1h');
    const n = full.length;
    const ema = computeIndicator('ema', { period: 50 }, { close: full.close.subarray(0, n) }).ema;
    const s = cached.series[0];
    assert.deepEqual(s.openTime, computed.series[0].openTime);
    const first = Array.from(full.openTime.subarray(0, n)).indexOf(s.openTime[0]);
    assert.equal(first, 5 * 24);
    assert.deepEqual(
      s.indicators[0].outputs.ema,
      Array.from(ema.subarray(first, first + s.openTime.length)),
      'exactly the full-series EMA',
    );
    // On the fly, the EMA agrees once its warm-up has converged.
    const fly = computed.series[0].indicators[0].outputs.ema;
    const last = fly.length - 1;
    assert.ok(Math.abs(fly[last]! - s.indicators[0].outputs.ema[last]!) < 1e-6);

    // New 1m data: the cache is stale, and the read falls back to computing on the new series.
    await h.daemon.bank.write1m(
      'BTCUSDC',
      (await import('../helpers/synth.ts')).synth1m(JAN_2024 + 10 * 86_400_000, 600, 7),
      'test',
    );
    const after = await read();
    assert.equal(after.series[0].interval, '1h');
    assert.equal(after.series[0].openTime.length, s.openTime.length + 10);
  } finally {
    await h.close();
  }
});

test('ingest/run with indicators.after_ingest refreshes them for the ingested symbols', async () => {
  const { startReplayServer } = await import('../../daemon/replay/server.ts');
  const now = Date.parse('2023-05-01T21:03:30Z');
  const replay = await startReplayServer({ now });
  const h = await startHarness({
    seed: {},
    config: (c) => {
      c.data.api.base_url = replay.url;
      c.data.api.archive_url = replay.archiveUrl;
      c.data.api.retry_delay = 0.01;
      c.indicators.after_ingest = ['rsi', 'macd'];
    },
  });
  try {
    const r = await h.client.request('ingest/run', {
      symbols: ['BTCUSDT'],
      intervals: ['1h'],
      start: '2023-04-29',
      end: '2023-05-01',
      source: 'rest',
    });
    assert.equal(r.symbols[0].error, null);
    const list = await h.client.request('registry/list', { filter: { kind: 'indicator' } });
    assert.deepEqual(
      list.datasets.map((d) => d.id),
      ['BTCUSDT/1h/macd-12-26-9', 'BTCUSDT/1h/rsi-14'],
    );
    assert.equal(list.datasets[0].rows, 48);
  } finally {
    await h.close();
    await replay.close();
  }
});
