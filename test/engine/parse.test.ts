import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseKlineCsv } from '../../daemon/engine/parse.ts';
import type { Candles } from '../../schemas/candles.ts';

const COLUMNS = [
  'openTime',
  'open',
  'high',
  'low',
  'close',
  'volume',
  null,
  'quoteVolume',
  'trades',
  'takerBuyBase',
  'takerBuyQuote',
] as const;

test('parseKlineCsv over bytes gives exactly the doubles Number() gives, plain fields and odd ones', () => {
  let seed = 7;
  const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const field = (): string => {
    const v = rnd() * 10 ** Math.floor(rnd() * 9);
    // Decimals from 0 to 16: beyond 15 significant digits the string path takes over.
    return rnd() < 0.1 ? String(Math.floor(v)) : v.toFixed(Math.floor(rnd() * 17));
  };
  const odd = ['1e3', ' 12.5', '5.', '.5', '0.00000001', '0.12345678901234567890', '00012.50'];
  const lines: string[] = [];
  for (let i = 0; i < 20_000; i++) {
    const f = [String(1_600_000_000_000 + i * 60_000)];
    for (let j = 1; j < 12; j++) f.push(field());
    if (i % 50 === 3) f[1 + (i % 5)] = odd[i % odd.length];
    lines.push(f.join(','));
  }
  const text = lines.join('\r\n') + '\n';
  const fromBytes = parseKlineCsv(Buffer.from(text), 'x.csv');
  const fromText = parseKlineCsv(text, 'x.csv');
  assert.equal(fromBytes.length, lines.length);
  let checked = 0;
  for (let i = 0; i < lines.length; i++) {
    const want = lines[i].split(',').map(Number);
    COLUMNS.forEach((col, j) => {
      if (col === null) return;
      const got = (fromBytes as unknown as Record<string, Float64Array>)[col][i];
      assert.ok(Object.is(got, want[j]), `line ${i + 1} field ${j}: ${got} != ${want[j]}`);
      checked++;
    });
    for (const col of COLUMNS)
      if (col)
        assert.equal(
          (fromText as Candles)[col][i],
          (fromBytes as Candles)[col][i],
          'string and bytes agree',
        );
  }
  assert.equal(checked, lines.length * 10);
});

test('parseKlineCsv over bytes: header skipped, 6-field rows zero the rest, a bad field names its line', () => {
  const c = parseKlineCsv(
    Buffer.from(
      'open_time,open,high,low,close,volume\n1600000000000,1,2,0.5,1.5,10\n1600000060000,1.5,2,1,1.25,3\n',
    ),
  );
  assert.equal(c.length, 2);
  assert.equal(c.close[1], 1.25);
  assert.equal(c.quoteVolume[0], 0);
  assert.equal(c.trades[1], 0);
  assert.throws(
    () =>
      parseKlineCsv(
        Buffer.from(
          '1600000000000,1,2,0.5,1.5,10,1,15,3,5,7.5,0\n1600000060000,1,x,0.5,1.5,10,1,15,3,5,7.5,0\n',
        ),
        'f.csv',
      ),
    /f\.csv: line 2: high "x" is not a finite number/,
  );
  assert.throws(
    () => parseKlineCsv(Buffer.from('1600000000000,1,2,0.5,1.5,10,1,15,3,5,7.5\n'), 'f.csv', {}),
    /line 1 has 11 fields, expected 12/,
  );
});
