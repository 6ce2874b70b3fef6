/** app/read.ts: read planning (which timeframe serves a chart) and loading the plan. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Bank } from '../../daemon/store/bank.ts';
import { bucketCount, loadPlan, planRead } from '../../daemon/app/read.ts';
import { ThreadxError } from '../../schemas/errors.ts';
import { synth1m } from '../helpers/synth.ts';

const T0 = Date.UTC(2024, 0, 1);
const DAY = 86_400_000;

async function withBank(fn: (bank: Bank) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'threadx-read-'));
  try {
    const bank = await Bank.open(dir);
    await bank.write1m('BTCUSDC', synth1m(T0, 3 * 1440, 1), 'test');
    await bank.derive('BTCUSDC', ['1h']);
    await fn(bank);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('bucketCount: buckets touched by [start, end)', () => {
  assert.equal(bucketCount(T0, T0 + DAY, '1h'), 24);
  assert.equal(bucketCount(T0 + 1, T0 + DAY, '1h'), 24);
  assert.equal(bucketCount(T0, T0, '1h'), 0);
  assert.equal(bucketCount(T0, T0 + 40 * DAY, '1M'), 2);
});

test('planRead: the interval asked for when it fits, else the finest that does', async () => {
  await withBank(async (bank) => {
    const asked = planRead(bank, 'BTCUSDC', '1m', undefined, undefined, 10_000);
    assert.equal(asked.interval, '1m');
    assert.equal(asked.stored, true);
    assert.equal(asked.start, T0);
    assert.equal(asked.end, T0 + 3 * DAY);
    // 4320 minutes do not fit in 100 points: 1h (72 buckets) is stored and current.
    const coarse = planRead(bank, 'BTCUSDC', '1m', undefined, undefined, 100);
    assert.equal(coarse.interval, '1h');
    assert.equal(coarse.stored, true);
    // 15m is not stored: served resampled from 1m.
    const derived = planRead(bank, 'BTCUSDC', '15m', T0, T0 + DAY, 1000);
    assert.equal(derived.interval, '15m');
    assert.equal(derived.stored, false);
    const c = await loadPlan(bank, derived, 1000);
    assert.equal(c.length, 96);
    // Three days fit in one month bucket; nothing fits in none: the coarsest, truncated.
    assert.equal(planRead(bank, 'BTCUSDC', '1m', undefined, undefined, 1).interval, '1w');
    const none = planRead(bank, 'BTCUSDC', '1m', undefined, undefined, 0);
    assert.equal(none.interval, '1M');
    assert.equal(none.truncate, true);
  });
});

test('planRead: no data is NOT_FOUND with the dataset in its details', async () => {
  await withBank(async (bank) => {
    assert.throws(
      () => planRead(bank, 'ETHUSDC', '1h', undefined, undefined, 100),
      (e: unknown) =>
        e instanceof ThreadxError && e.code === 'NOT_FOUND' && e.details.dataset === 'ETHUSDC/1h',
    );
  });
});
