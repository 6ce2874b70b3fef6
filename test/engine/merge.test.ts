/** engine/merge.ts: dedupe by open time; a real candle always beats a filled one. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sliceCandles } from '../../schemas/candles.ts';
import { mergeCandles, sortUnique } from '../../daemon/engine/merge.ts';
import { synth1m } from '../helpers/synth.ts';

const T0 = Date.UTC(2024, 0, 1);

test('mergeCandles: union by open time, sorted, overlaps once', () => {
  const c = synth1m(T0, 100, 3);
  const m = mergeCandles(sliceCandles(c, 0, 60), sliceCandles(c, 40, 100));
  assert.equal(m.length, 100);
  assert.deepEqual(Array.from(m.openTime.subarray(0, m.length)), Array.from(c.openTime));
  assert.deepEqual(Array.from(m.close.subarray(0, m.length)), Array.from(c.close));
});

test('mergeCandles: a real candle replaces a filled one, never the reverse', () => {
  const real = synth1m(T0, 3, 4);
  const filled = synth1m(T0, 3, 5);
  filled.filled.fill(1);
  for (const m of [mergeCandles(filled, real), mergeCandles(real, filled)]) {
    assert.equal(m.length, 3);
    assert.deepEqual(Array.from(m.close.subarray(0, 3)), Array.from(real.close));
    assert.deepEqual(Array.from(m.filled.subarray(0, 3)), [0, 0, 0]);
  }
});

test('sortUnique: out of order with duplicates becomes sorted and unique', () => {
  const c = synth1m(T0, 4, 6);
  const shuffled = synth1m(T0, 6, 6);
  const order = [3, 1, 0, 1, 2, 3];
  for (const [i, j] of order.entries()) {
    shuffled.openTime[i] = c.openTime[j];
    shuffled.close[i] = c.close[j];
  }
  const u = sortUnique(shuffled);
  assert.equal(u.length, 4);
  assert.deepEqual(Array.from(u.openTime.subarray(0, 4)), Array.from(c.openTime));
});
