/** engine/validate.ts: the UDFI data contract, every violation with its row and value. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateCandles, describeViolations } from '../../daemon/engine/validate.ts';
import { synth1m } from '../helpers/synth.ts';

const T0 = Date.UTC(2024, 0, 1);

test('validateCandles: a clean series passes', () => {
  const r = validateCandles(synth1m(T0, 500, 2), '1m');
  assert.equal(r.ok, true);
  assert.equal(r.total, 0);
  assert.equal(r.rows, 500);
});

test('validateCandles: broken OHLC, negative volume and disorder are named by row', () => {
  const c = synth1m(T0, 50, 2);
  c.high[5] = c.low[5] - 1; // high below low
  c.volume[7] = -1;
  c.openTime[20] = c.openTime[19]; // duplicate open time
  c.close[30] = Number.NaN;
  const r = validateCandles(c, '1m');
  assert.equal(r.ok, false);
  const rows = new Set(r.violations.map((v) => v.row));
  for (const row of [5, 7, 20, 30]) assert.ok(rows.has(row), `row ${row} reported`);
  assert.ok(r.total >= 4);
  assert.match(describeViolations(r), /row/);
});

test('validateCandles: an open time off the interval grid is a violation', () => {
  const c = synth1m(T0, 10, 2);
  c.openTime[3] += 1_000;
  const r = validateCandles(c, '1m');
  assert.equal(r.ok, false);
  assert.ok(r.violations.some((v) => v.row === 3));
});

test('validateCandles: signed prices (the premium index) may be zero or negative, nothing else changes', () => {
  const c = synth1m(T0, 60, 2);
  // Shift every price below zero, keeping the candles' shape; a zero open too.
  for (const col of ['open', 'high', 'low', 'close'] as const)
    for (let i = 0; i < c.length; i++) c[col][i] -= 1_000_000;
  c.open[9] = 0;
  c.high[9] = Math.max(0, c.close[9], c.high[9]);
  assert.equal(validateCandles(c, '1m', { prices: 'signed' }).ok, true);
  const positive = validateCandles(c, '1m');
  assert.equal(positive.ok, false);
  assert.match(describeViolations(positive), /negative|positive/);
  // Still finite, still bounded, volumes still non-negative.
  c.high[3] = Math.min(c.open[3], c.close[3]) - 1;
  c.low[4] = Number.NaN;
  c.volume[5] = -1;
  const r = validateCandles(c, '1m', { prices: 'signed' });
  assert.deepEqual(
    [...new Set(r.violations.map((v) => v.row))].sort((a, b) => a - b),
    [3, 4, 5],
  );
});
