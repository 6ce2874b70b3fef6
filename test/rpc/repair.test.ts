/**
 * Repair through the daemon that holds the bank: a read refused for a damaged 1m month names the
 * repairs that run beside this daemon (never only "threadx repair", which its lock refuses) and
 * the symbol to repair; `registry/repair` fetches the month again from the exchange, tells every
 * client, and the read answers the same candles as before the damage.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { truncate } from 'node:fs/promises';
import path from 'node:path';
import { ErrorCodes, type WorkDoneProgress } from '../../schemas/protocol.ts';
import { ResponseError } from '../../daemon/rpc/client.ts';
import { startReplayServer } from '../../daemon/replay/server.ts';
import { nextNotification, startHarness } from '../helpers/harness.ts';

const NOW = Date.parse('2023-05-01T21:03:30Z');

test('a damaged 1m month: data/read names the repair that runs in this daemon; registry/repair fetches it again', async () => {
  const replay = await startReplayServer({ now: NOW });
  const h = await startHarness({
    seed: {},
    config: (c) => {
      c.data.api.base_url = replay.url;
      c.data.api.archive_url = replay.archiveUrl;
      c.data.api.retry_delay = 0.01;
    },
  });
  try {
    const ingest = await h.client.request('ingest/run', {
      symbols: ['BTCUSDT'],
      intervals: ['1h'],
      start: '2023-04-28',
      end: '2023-04-30',
      source: 'rest',
    });
    assert.equal(ingest.symbols[0].error, null, JSON.stringify(ingest.symbols[0]));
    const read = { symbol: 'BTCUSDT', interval: '1m', exact: true, maxPoints: 10_000 } as const;
    const before = await h.client.request('data/read', read);
    assert.equal(before.length, 2 * 1440);

    // Damaged after any verify: the registry still says nothing is wrong, the size says it is.
    await truncate(path.join(h.dir, 'processed', 'BTCUSDT', '1m', '2023-04.parquet'), 200);

    await assert.rejects(h.client.request('data/read', read), (e: unknown) => {
      assert.ok(e instanceof ResponseError);
      assert.equal(e.rpcCode, ErrorCodes.StorageError);
      assert.equal(e.data?.reason, 'CORRUPT');
      assert.equal(e.data?.dataset, 'BTCUSDT/1m');
      assert.equal(e.data?.symbol, 'BTCUSDT', 'the symbol whose repair fixes it');
      assert.match(e.message, /1m\/2023-04\.parquet is damaged/);
      // The fix that works while this daemon holds the bank, not only the one its lock refuses.
      assert.match(e.data?.hint ?? '', /threadx repair --symbol BTCUSDT --join/);
      assert.match(e.data?.hint ?? '', /registry\/repair/);
      return true;
    });

    // Another client (a second window, the CLI's --join) hears about the repair.
    const other = await h.connect();
    const changed = nextNotification(other, 'registry/changed', (p) =>
      p.changed.includes('BTCUSDT/1m'),
    );
    const progress: WorkDoneProgress[] = [];
    const r = await h.client.request(
      'registry/repair',
      { symbols: ['BTCUSDT'] },
      { onProgress: (p) => progress.push(p), validate: true },
    );
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.equal(r.results[0].symbol, 'BTCUSDT');
    assert.ok(r.results[0].found.length > 0, 'the damage was found');
    assert.ok(r.results[0].refetched.length > 0, 'the month was fetched again');
    assert.deepEqual(r.results[0].remaining, []);
    assert.equal(progress[0]?.kind, 'begin');
    assert.equal(progress.at(-1)?.kind, 'end');
    await changed;

    const after = await h.client.request('data/read', read);
    assert.deepEqual(after.columns, before.columns, 'the same candles as before the damage');
  } finally {
    await h.close();
    await replay.close();
  }
});
