/**
 * The daemon's watch over the protocol, against the replay exchange: watch/add catches up and
 * follows the stream, a fold is announced as registry/changed (reason watch), data/read serves the
 * minutes stored, watch/status tells the last stored minute and the lag, watch/remove stops it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startReplayServer } from '../../daemon/replay/server.ts';
import { nextNotification, startHarness } from '../helpers/harness.ts';

const MIN = 60_000;

test(
  'watch/add, watch/list, watch/status, registry/changed after a fold, watch/remove',
  { timeout: 180_000 },
  async () => {
    // The exchange's next minute closes about six seconds from now (its clock runs ahead).
    const real = Date.now();
    let offset = Math.ceil(real / MIN) * MIN - real - 6000;
    if (offset < 0) offset += MIN;
    const replay = await startReplayServer({ now: () => Date.now() + offset });
    const h = await startHarness({
      seed: {},
      config: (c) => {
        c.data.api.base_url = replay.url;
        c.data.api.archive_url = replay.archiveUrl;
        c.data.api.ws_url = replay.wsUrl;
        c.data.api.retry_delay = 0.01;
        c.watch.fold_seconds = 5;
      },
    });
    try {
      const idle = await h.client.request('watch/status', undefined, { validate: true });
      assert.equal(idle.state, 'idle');
      const start = Math.floor(replay.now() / MIN) * MIN - 20 * MIN;
      // The catch-up is announced first, then each fold of the streamed minutes.
      let watchChanges = 0;
      const folded = nextNotification(
        h.client,
        'registry/changed',
        (p) => p.reason === 'watch' && ++watchChanges === 2,
      );
      const added = await h.client.request(
        'watch/add',
        { symbols: ['BTCUSDC'], intervals: ['5m'], start },
        { validate: true },
      );
      assert.deepEqual(added.symbols, ['BTCUSDC']);
      assert.ok(['catching-up', 'following'].includes(added.state), added.state);
      assert.deepEqual(await h.client.request('watch/list', undefined, { validate: true }), {
        symbols: ['BTCUSDC'],
      });
      const changed = await folded;
      assert.ok(changed.changed.includes('BTCUSDC/1m'), JSON.stringify(changed));
      const st = await h.client.request('watch/status', undefined, { validate: true });
      assert.equal(st.state, 'following');
      assert.equal(st.connected, 1);
      assert.ok(st.lastStored !== null && st.lastStored >= start + 19 * MIN, JSON.stringify(st));
      assert.ok(st.stored >= 1);
      const read = await h.client.request(
        'data/read',
        { symbol: 'BTCUSDC', interval: '1m', start, end: st.lastStored + MIN, exact: true },
        { validate: true },
      );
      assert.equal(read.columns.openTime.at(-1), st.lastStored);
      assert.equal(read.columns.openTime[0], start);
      const removed = await h.client.request('watch/remove', {}, { validate: true });
      assert.equal(removed.state, 'idle');
      assert.deepEqual(removed.symbols, []);
    } finally {
      await h.close();
      await replay.close();
    }
  },
);
