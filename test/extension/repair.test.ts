/**
 * The Repair actions' logic under plain Node: a damaged read in words with Repair as the fix (not
 * the shell command the daemon's lock refuses), which symbols the palette and the data manager
 * offer, and the row that gets a Repair button.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ResponseError } from '../../daemon/rpc/client.ts';
import { toRpcError } from '../../daemon/rpc/errors.ts';
import { ThreadxError } from '../../schemas/errors.ts';
import type { DatasetSummary } from '../../schemas/protocol.ts';
import { damageOf, describeError } from '../../extension/errors.ts';
import { repairChoices, symbolsNeedingRepair } from '../../extension/repair-model.ts';
import { needsRepair } from '../../webviews/registry-table.ts';

/** A CORRUPT answer as the client receives it from the daemon (the bank's own error). */
function corruptAnswer(): ResponseError {
  const thrown = new ThreadxError(
    'CORRUPT',
    'BTCUSDT/1m cannot be read: processed/BTCUSDT/1m/2023-04.parquet is damaged (it has 200 bytes, the registry says 61234). Run "threadx repair --symbol BTCUSDT".',
    undefined,
    {
      dataset: 'BTCUSDT/1m',
      file: 'processed/BTCUSDT/1m/2023-04.parquet',
      reason: 'it has 200 bytes, the registry says 61234',
    },
  );
  const wire = toRpcError(thrown, 'data/read');
  return new ResponseError(wire.code, wire.message, wire.data);
}

const ds = (
  id: string,
  integrity?: DatasetSummary['integrity'],
  kind: DatasetSummary['kind'] = 'candles',
): DatasetSummary =>
  ({
    id,
    symbol: id.split('/')[0],
    interval: id.split('/')[1],
    kind,
    rows: 1,
    first: 0,
    last: 0,
    gaps: 0,
    missing: 0,
    filled: 0,
    files: 1,
    bytes: 1,
    ...(integrity ? { integrity } : {}),
  }) as DatasetSummary;

describe('Repair in VS Code', () => {
  it('reads a CORRUPT answer from its data: the dataset, the file and the symbol to repair', () => {
    const e = corruptAnswer();
    assert.deepEqual(damageOf(e), {
      symbol: 'BTCUSDT',
      dataset: 'BTCUSDT/1m',
      file: 'processed/BTCUSDT/1m/2023-04.parquet',
      reason: 'it has 200 bytes, the registry says 61234',
    });
    // The raw error object of the protocol too (another client's shape).
    const raw = toRpcError(new ThreadxError('CORRUPT', 'x', undefined, { dataset: 'ETHUSDT/1h' }));
    assert.equal(damageOf(raw)?.symbol, 'ETHUSDT');
    assert.equal(damageOf(new ThreadxError('NETWORK', 'down')), undefined);
    assert.equal(damageOf({ code: -32001, message: 'x' }), undefined);
  });

  it('says what is damaged and offers Repair, never the shell command the daemon refuses', () => {
    const text = describeError(corruptAnswer());
    assert.equal(
      text,
      'BTCUSDT/1m cannot be read: processed/BTCUSDT/1m/2023-04.parquet is damaged (it has 200 bytes, the registry says 61234). Repair BTCUSDT to fetch it again or rebuild it from 1m.',
    );
    assert.doesNotMatch(text, /threadx repair/);
  });

  it('offers Repair on damaged, changed and missing files, not on sound or unverified ones', () => {
    assert.equal(needsRepair(undefined), false);
    assert.equal(needsRepair({ state: 'verified', at: 1 }), false);
    assert.equal(needsRepair({ state: 'not-verified' }), false);
    assert.equal(needsRepair({ state: 'changed', since: 1 }), true);
    assert.equal(needsRepair({ state: 'corrupt', reason: 'x' }), true);
    assert.equal(needsRepair({ state: 'missing' }), true);
  });

  it('lists every symbol for "Repair Symbol...", those with a problem first', () => {
    const rows = [
      ds('AAAUSDT/1m', { state: 'verified', at: 0 }),
      ds('ETHUSDT/1m', { state: 'verified', at: 0 }),
      ds('ETHUSDT/1h', { state: 'corrupt', reason: 'the file is truncated' }),
      ds('BTCUSDT/1m', { state: 'changed', since: 0 }),
      ds('BTCUSDT/1h', { state: 'not-verified' }),
    ];
    const time = (): string => 'T';
    assert.deepEqual(repairChoices(rows, time), [
      { symbol: 'BTCUSDT', problem: 'BTCUSDT/1m changed since T' },
      { symbol: 'ETHUSDT', problem: 'ETHUSDT/1h corrupt: the file is truncated' },
      { symbol: 'AAAUSDT' },
    ]);
    assert.deepEqual(symbolsNeedingRepair(rows).sort(), ['BTCUSDT', 'ETHUSDT']);
  });
});
