/**
 * Integrity over the protocol: verify findings in registry/list (and after a daemon restart),
 * data/read refusing a damaged file with the fix, registry/repair rebuilding it without network,
 * and pending edge buckets in registry/list and data/read.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { appendFile, unlink, writeFile } from 'node:fs/promises';
import { ResponseError } from '../../daemon/rpc/client.ts';
import { startHarness } from '../helpers/harness.ts';
import { synth1m } from '../helpers/synth.ts';
import { concatCandles, sliceCandles } from '../../schemas/candles.ts';
import { buildTree, detailRows } from '../../extension/tree-model.ts';
import { gapRows } from '../../webviews/chart/spec.ts';
import type { ChartData } from '../../webviews/messages.ts';
import { ensureBuilt, runCli } from '../faults/harness.ts';

test('registry/verify findings persist and show in registry/list; data/read refuses; registry/repair fixes without network', async () => {
  // 3 days of 1m from 2024-01-01 00:00 and the 1w: the first week (Mon 2024-01-01) is not whole.
  const h = await startHarness({ seed: { BTCUSDC: 3 }, derive: ['1h', '1w'] });
  try {
    let list = await h.client.request('registry/list', {});
    const w = list.datasets.find((d) => d.id === 'BTCUSDC/1w')!;
    assert.equal(w.rows, 0);
    assert.equal(w.pending, 1);
    assert.equal(
      list.datasets.find((d) => d.id === 'BTCUSDC/1h')!.integrity?.state,
      'not-verified',
    );
    const read1w = await h.client.request('data/read', { symbol: 'BTCUSDC', interval: '1w' });
    assert.equal(read1w.length, 0, 'a week of three days is not a 1w candle');
    assert.equal(read1w.pending, 1);

    assert.equal((await h.client.request('registry/verify', {})).ok, true);
    list = await h.client.request('registry/list', {});
    assert.equal(list.datasets.find((d) => d.id === 'BTCUSDC/1h')!.integrity?.state, 'verified');

    const file = path.join(h.dir, 'processed', 'BTCUSDC', '1h.parquet');
    await writeFile(file, 'not parquet at all');
    const v = await h.client.request('registry/verify', {});
    assert.equal(v.ok, false);
    list = await h.client.request('registry/list', {});
    const integ = list.datasets.find((d) => d.id === 'BTCUSDC/1h')!.integrity!;
    assert.equal(integ.state, 'corrupt');
    assert.match(integ.reason ?? '', /truncated|damaged/);

    await assert.rejects(
      h.client.request('data/read', { symbol: 'BTCUSDC', interval: '1h' }),
      (e: unknown) => {
        assert.ok(e instanceof ResponseError);
        assert.match(e.message, /processed\/BTCUSDC\/1h\.parquet is damaged/);
        assert.match(JSON.stringify(e.data ?? {}) + e.message, /threadx repair --symbol BTCUSDC/);
        return true;
      },
    );

    // The harness daemon has no exchange: a damaged derived file needs none.
    const r = await h.client.request('registry/repair', { symbols: ['BTCUSDC'] });
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.deepEqual(r.results[0].rebuilt, ['BTCUSDC/1h']);
    assert.deepEqual(r.results[0].refetched, []);
    const back = await h.client.request('data/read', { symbol: 'BTCUSDC', interval: '1h' });
    assert.equal(back.length, 72);
    list = await h.client.request('registry/list', {});
    assert.equal(list.datasets.find((d) => d.id === 'BTCUSDC/1h')!.integrity?.state, 'verified');
  } finally {
    await h.close();
  }
});

test('registry/list says "changed" for a file damaged after its verify, cached or filtered, before any read', async () => {
  const h = await startHarness({ seed: { BTCUSDC: 3, ETHUSDC: 3 }, derive: ['1h', '1d'] });
  try {
    assert.equal((await h.client.request('registry/verify', {})).ok, true);
    const state = (l: { datasets: { id: string; integrity?: { state: string } }[] }, id: string) =>
      l.datasets.find((d) => d.id === id)?.integrity?.state;
    // Served twice: the second answer comes from the cached serialisation.
    let list = await h.client.request('registry/list', {});
    list = await h.client.request('registry/list', {});
    assert.equal(state(list, 'BTCUSDC/1h'), 'verified');

    // Damaged behind the daemon's back, after its last verify: no verify, no read, no event.
    const file = path.join(h.dir, 'processed', 'BTCUSDC', '1h.parquet');
    await appendFile(file, 'tail');
    list = await h.client.request('registry/list', {});
    const integ = list.datasets.find((d) => d.id === 'BTCUSDC/1h')!.integrity!;
    assert.equal(integ.state, 'changed');
    assert.match(integ.reason ?? '', /bytes where the registry recorded/);
    assert.equal(state(list, 'ETHUSDC/1h'), 'verified', 'the other symbol is untouched');
    // A symbol's own listing (what the extension asks after registry/changed) agrees.
    const one = await h.client.request('registry/list', { filter: { symbol: 'BTCUSDC' } });
    assert.equal(state(one, 'BTCUSDC/1h'), 'changed');
    // A file removed: missing, at once.
    await unlink(path.join(h.dir, 'processed', 'ETHUSDC', '1d.parquet'));
    list = await h.client.request('registry/list', {});
    assert.equal(state(list, 'ETHUSDC/1d'), 'missing');
    // The read beside it refuses the same file: the views and the read error agree.
    await assert.rejects(
      h.client.request('data/read', { symbol: 'BTCUSDC', interval: '1h' }),
      /processed\/BTCUSDC\/1h\.parquet is damaged/,
    );
  } finally {
    await h.close();
  }
});

test('a fully filled 2-hour hole: list, tree, data/read and the chart say "filled" at 1m and 1h, never gap or outage', async () => {
  ensureBuilt();
  const h = await startHarness({ seed: {} });
  try {
    const bank = h.daemon.bank;
    const day = Date.UTC(2024, 0, 1);
    const HOUR = 3_600_000;
    const c = synth1m(day, 3 * 1440, 3);
    // 10:00..11:59 of the first day missing; the exchange confirmed them empty (an outage).
    await bank.addConfirmedEmpty('BTCUSDC', [[day + 10 * HOUR, day + 12 * HOUR]]);
    await bank.write1m(
      'BTCUSDC',
      concatCandles([sliceCandles(c, 0, 600), sliceCandles(c, 720, c.length)]),
      'test',
    );
    await bank.derive('BTCUSDC', ['1h', '1d']);
    h.daemon.services.registry.diff();

    // `registry/list` (the tree and the data manager's table): filled, no gap, at both.
    const list = await h.client.request('registry/list', {});
    const get = (id: string) => list.datasets.find((d) => d.id === id)!;
    assert.deepEqual(
      ['BTCUSDC/1m', 'BTCUSDC/1h'].map((id) => [id, get(id).gaps, get(id).missing, get(id).filled]),
      [
        ['BTCUSDC/1m', 0, 0, 120],
        ['BTCUSDC/1h', 0, 0, 2],
      ],
    );
    assert.equal(get('BTCUSDC/1h').rows, 72, 'every hour is a candle');
    const tf = buildTree(list.datasets, undefined)[0].timeframes.find((t) => t.interval === '1h')!;
    const rows = Object.fromEntries(detailRows(tf).map((r) => [r.label, r.description]));
    assert.equal(rows.Gaps, 'none');
    assert.equal(rows.Filled, '2 candles');

    // `data/read` (the chart): the two hours are flagged candles; no gap or outage is drawn.
    const r = await h.client.request('data/read', {
      symbol: 'BTCUSDC',
      interval: '1h',
      exact: true,
    });
    assert.equal(r.length, 72);
    const at = (t: number) => r.columns.openTime.indexOf(t);
    assert.deepEqual(
      [10, 11].map((hh) => r.columns.filled[at(day + hh * HOUR)]),
      [1, 1],
    );
    const chart = { interval: '1h', openTime: r.columns.openTime, outages: r.outages };
    assert.deepEqual(gapRows(chart as unknown as ChartData), []);

    // `threadx list` (read-only, beside the daemon): the same numbers.
    const cli = await runCli(['list', '--data-dir', h.dir, '--json'], h.dir);
    assert.equal(cli.code, 0, cli.stderr);
    const j = JSON.parse(cli.stdout) as {
      datasets: { id: string; gaps: { filled: boolean }[]; filledCount: number }[];
    };
    const h1 = j.datasets.find((d) => d.id === 'BTCUSDC/1h')!;
    assert.deepEqual([h1.gaps.filter((g) => !g.filled).length, h1.filledCount], [0, 2]);
  } finally {
    await h.close();
  }
});

test('indicators/update computes exactly the datasets asked for, not every symbol x interval', async () => {
  const h = await startHarness({ seed: { BTCUSDC: 3, ETHUSDC: 3 }, derive: ['1h', '4h'] });
  try {
    const r = await h.client.request('indicators/update', {
      symbols: ['BTCUSDC', 'ETHUSDC'],
      intervals: ['1h', '4h'],
      indicators: [{ name: 'rsi' }, { name: 'sma' }],
      datasets: [
        { symbol: 'BTCUSDC', interval: '1h' },
        { symbol: 'ETHUSDC', interval: '4h' },
      ],
    });
    assert.deepEqual(r.items.map((i) => `${i.symbol}/${i.interval}/${i.key}`).sort(), [
      'BTCUSDC/1h/rsi-14',
      'BTCUSDC/1h/sma-20',
      'ETHUSDC/4h/rsi-14',
      'ETHUSDC/4h/sma-20',
    ]);
    const list = await h.client.request('registry/list', { filter: { kind: 'indicator' } });
    assert.equal(list.datasets.length, 4);
  } finally {
    await h.close();
  }
});
