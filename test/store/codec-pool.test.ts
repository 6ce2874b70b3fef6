import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CodecPool } from '../../daemon/store/codec-pool.ts';
import { encodeCandles } from '../../daemon/store/parquet.ts';
import { sliceCandles, FLOAT_COLUMNS } from '../../schemas/candles.ts';
import { synth1m } from '../helpers/synth.ts';

test('codec pool: worker threads encode the same bytes as inline code and decode them back', async () => {
  const pool = new CodecPool(2);
  assert.equal(pool.parallel, true);
  const c = synth1m(Date.UTC(2024, 0, 1), 3 * 44_640, 5);
  const months = [0, 1, 2].map((m) => sliceCandles(c, m * 44_640, (m + 1) * 44_640));
  const meta = { symbol: 'BTCUSDT', interval: '1m' };
  const bytes = await Promise.all(months.map((m) => pool.encode(m, meta)));
  for (const [i, m] of months.entries()) assert.deepEqual(bytes[i], encodeCandles(m, meta));
  // The views handed to the pool are still usable: only copies travelled.
  assert.equal(months[1].close.length, 44_640);
  const back = await Promise.all(bytes.map((b, i) => pool.decode(b, `m${i}`)));
  for (const [i, m] of months.entries()) {
    assert.deepEqual(back[i].candles.openTime, m.openTime.slice());
    for (const k of FLOAT_COLUMNS) assert.deepEqual(back[i].candles[k], m[k].slice(), k);
  }
  await assert.rejects(
    pool.decode(new Uint8Array([1, 2, 3]), 'junk.parquet'),
    /junk\.parquet is not a readable Parquet file/,
  );
  await pool.close();
});
