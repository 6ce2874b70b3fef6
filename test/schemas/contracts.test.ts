/**
 * schemas/contracts.ts: the numbers and names declared once, against every place that uses
 * them (a copy that drifts fails here).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  INDICATOR_DEFAULTS,
  INDICATOR_NAMES,
  KLINES,
  SELECTION,
  estimateSeconds,
} from '../../schemas/contracts.ts';
import { METHODS } from '../../schemas/protocol.ts';
import {
  DEFAULT_PARAMS,
  INDICATOR_NAMES as ENGINE_NAMES,
  parseIndicatorParams,
} from '../../daemon/engine/indicators.ts';
import { INDICATOR_PRESETS } from '../../webviews/messages.ts';

test("contracts: indicator names and defaults are the engine's", () => {
  assert.equal(ENGINE_NAMES, INDICATOR_NAMES);
  assert.deepEqual(DEFAULT_PARAMS, INDICATOR_DEFAULTS);
  for (const name of INDICATOR_NAMES)
    assert.deepEqual(parseIndicatorParams(name, {}), INDICATOR_DEFAULTS[name], name);
  // Every preset the views offer is valid as the engine checks it.
  for (const p of INDICATOR_PRESETS)
    assert.doesNotThrow(() => parseIndicatorParams(p.choice.name, p.choice.params as never));
});

test('contracts: the protocol accepts exactly the selection limits', () => {
  const run = METHODS['ingest/run'].params;
  const base = { start: '2024-01-01' };
  assert.ok(run.safeParse({ ...base, top: { n: SELECTION.maxTop, quote: 'USDC' } }).success);
  assert.ok(!run.safeParse({ ...base, top: { n: SELECTION.maxTop + 1, quote: 'USDC' } }).success);
  const many = Array.from({ length: SELECTION.maxSymbols + 1 }, (_, i) => `S${i}USDC`);
  assert.ok(!run.safeParse({ ...base, symbols: many }).success);
  assert.ok(run.safeParse({ ...base, symbols: many.slice(1) }).success);
});

test('contracts: a plan takes the slower of the weight budget and the round trips', () => {
  const latency = estimateSeconds({
    requests: 100,
    archives: 0,
    weight: 100 * KLINES.weight,
    concurrency: 1,
    weightPerSecond: 1e9,
  });
  assert.equal(latency, Math.round(100 * KLINES.secondsPerRequest * 10) / 10);
  const budget = estimateSeconds({
    requests: 1,
    archives: 0,
    weight: 1000,
    concurrency: 4,
    weightPerSecond: 10,
  });
  assert.equal(budget, 100);
});
