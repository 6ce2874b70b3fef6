import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sentence } from '../../extension/format.ts';
import { messages } from '../../extension/messages.ts';
import { registryCsv } from '../../webviews/registry-table.ts';
import type { DatasetSummary } from '../../schemas/protocol.ts';

const ds = (id: string, extra: Partial<DatasetSummary> = {}): DatasetSummary => {
  const [symbol, interval] = id.split('/');
  return {
    id,
    symbol,
    interval: interval as DatasetSummary['interval'],
    kind: id.split('/').length > 2 ? 'indicator' : 'candles',
    rows: 10,
    first: Date.UTC(2024, 0, 1),
    last: Date.UTC(2024, 0, 1, 0, 9),
    gaps: 0,
    missing: 0,
    filled: 0,
    files: 1,
    bytes: 100,
    updated: 0,
    derived: false,
    ...extra,
  };
};

describe('registry table CSV', () => {
  it('writes one line per dataset shown, indicator caches in the last column', () => {
    const all = [
      ds('BTCUSDC/1m'),
      ds('BTCUSDC/1m/rsi-14'),
      ds('BTCUSDC/1m/sma-20'),
      ds('ETH,X/1h'),
    ];
    const csv = registryCsv([all[0], all[3]], all);
    const lines = csv.trimEnd().split('\n');
    assert.equal(lines.length, 3);
    assert.match(lines[0], /^dataset,symbol,interval,rows,first_utc,last_utc,/);
    assert.equal(
      lines[1],
      'BTCUSDC/1m,BTCUSDC,1m,10,2024-01-01T00:00:00.000Z,2024-01-01T00:09:00.000Z,0,0,0,1,100,rsi-14 sma-20',
    );
    assert.ok(lines[2].startsWith('"ETH,X/1h","ETH,X",1h,'), 'commas are quoted');
  });
});

describe('messages as sentences', () => {
  it('capitalises, ends with a full stop and drops codicon syntax', () => {
    assert.equal(sentence('$(error) not a symbol: FOO'), 'Not a symbol: FOO.');
    assert.equal(sentence('Already one.'), 'Already one.');
    assert.equal(messages.badDate('expected YYYY-MM-DD'), 'Expected YYYY-MM-DD.');
  });
});
