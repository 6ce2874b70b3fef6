/** engine/gaps.ts: gap detection, flagged filling, range arithmetic. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sliceCandles, concatCandles } from '../../schemas/candles.ts';
import {
  detectGaps,
  fillGaps,
  isFillable,
  mergeRanges,
  subtractRanges,
} from '../../daemon/engine/gaps.ts';
import { synth1m } from '../helpers/synth.ts';

const T0 = Date.UTC(2024, 0, 1);
const M = 60_000;

/** 60 minutes with minutes [10, 13) and [30, 50) missing. */
function holed() {
  const c = synth1m(T0, 60, 7);
  return concatCandles([sliceCandles(c, 0, 10), sliceCandles(c, 13, 30), sliceCandles(c, 50, 60)]);
}

test('detectGaps: every hole with its first missing minute and count', () => {
  assert.deepEqual(detectGaps(synth1m(T0, 100, 1)), []);
  assert.deepEqual(detectGaps(holed()), [
    { start: T0 + 10 * M, end: T0 + 13 * M, missing: 3, filled: false },
    { start: T0 + 30 * M, end: T0 + 50 * M, missing: 20, filled: false },
  ]);
});

test('fillGaps: short gaps get flagged flat candles at the previous close, long ones stay', () => {
  const c = holed();
  const r = fillGaps(c, 5);
  assert.equal(r.filledCount, 3);
  assert.equal(r.candles.length, c.length + 3);
  const i = r.candles.openTime.indexOf(T0 + 10 * M);
  assert.equal(r.candles.filled[i], 1);
  assert.equal(r.candles.volume[i], 0);
  assert.equal(r.candles.open[i], r.candles.close[i - 1]);
  assert.equal(r.candles.high[i], r.candles.low[i]);
  assert.deepEqual(
    r.gaps.map((g) => [g.missing, g.filled]),
    [
      [3, true],
      [20, false],
    ],
  );
  // Filled rows are not real data: ignoring them shows the hole again.
  assert.equal(detectGaps(r.candles, M, true).length, 2);
});

test('fillGaps with confirmed ranges fills only gaps wholly inside one, never toward the edges', () => {
  const c = holed();
  // [10, 13) confirmed, [30, 50) only partly: only the first is filled.
  const confirmed: [number, number][] = [
    [T0 + 9 * M, T0 + 13 * M],
    [T0 + 30 * M, T0 + 40 * M],
    [T0 + 60 * M, T0 + 90 * M],
  ];
  const r = fillGaps(c, 30, confirmed);
  assert.equal(r.filledCount, 3);
  assert.deepEqual(
    r.gaps.map((g) => [g.missing, g.filled]),
    [
      [3, true],
      [20, false],
    ],
  );
  // Nothing past the last row, even where it is confirmed.
  assert.equal(r.candles.openTime[r.candles.length - 1], T0 + 59 * M);
  assert.equal(fillGaps(c, 30, []).filledCount, 0);
  assert.equal(fillGaps(c, 30).filledCount, 23, 'without confirmed ranges: by length only');
  assert.ok(isFillable(T0 + 30 * M, T0 + 50 * M, 20, 30, [[T0 + 20 * M, T0 + 50 * M]]));
  assert.ok(!isFillable(T0 + 30 * M, T0 + 50 * M, 20, 10, [[T0 + 20 * M, T0 + 50 * M]]));
  assert.ok(!isFillable(T0 + 30 * M, T0 + 50 * M, 20, 30, [[T0 + 31 * M, T0 + 50 * M]]));
});

test('mergeRanges and subtractRanges', () => {
  assert.deepEqual(
    mergeRanges([
      [5, 10],
      [0, 3],
      [3, 4],
      [9, 12],
    ]),
    [
      [0, 4],
      [5, 12],
    ],
  );
  assert.deepEqual(
    subtractRanges(
      [[0, 100]],
      [
        [10, 20],
        [50, 120],
      ],
    ),
    [
      [0, 10],
      [20, 50],
    ],
  );
  assert.deepEqual(subtractRanges([[0, 10]], [[0, 10]]), []);
});
