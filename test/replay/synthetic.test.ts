/**
 * The replay exchange's synthetic series behave like Binance's: a minute without trades is flat
 * at the last traded price, days join without a jump, and every timeframe derived from them meets
 * the data contract.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeriesStore } from '../../daemon/replay/data.ts';
import { buildUniverse } from '../../daemon/replay/universe.ts';
import { parseKlineRows } from '../../daemon/engine/parse.ts';
import { resample } from '../../daemon/engine/resample.ts';
import { validateCandles } from '../../daemon/engine/validate.ts';

const universe = buildUniverse();
const store = new SeriesStore((s) => universe.get(s)?.spec);
const DAY = 86_400_000;

test('synthetic minutes without trades are flat at the previous close, across days too', () => {
  for (const symbol of ['ETHUSDT', 'BTCUSDC', 'SOLUSDC']) {
    const from = Date.UTC(2023, 3, 10);
    const rows = store.range(symbol, from, from + 20 * DAY - 1, Number.MAX_SAFE_INTEGER);
    assert.equal(rows.length, 20 * 1440, symbol);
    let flat = 0;
    for (let i = 1; i < rows.length; i++) {
      if (Number(rows[i][5]) !== 0) continue;
      flat++;
      const [, o, h, l, c] = rows[i];
      assert.ok(o === h && h === l && l === c, `${symbol} row ${i} is flat`);
      assert.equal(o, rows[i - 1][4], `${symbol} ${new Date(rows[i][0]).toISOString()}`);
    }
    assert.ok(flat > 20, `${symbol}: ${flat} minutes without trades`);
    for (let d = 1; d < 20; d++) {
      const i = d * 1440;
      assert.equal(rows[i][1], rows[i - 1][4], `${symbol}: day ${d} opens at the last close`);
    }
  }
});

test('every timeframe derived from a synthetic series meets the data contract', () => {
  const from = Date.UTC(2023, 3, 1);
  const rows = store.range('ETHUSDT', from, from + 30 * DAY - 1, Number.MAX_SAFE_INTEGER);
  const m1 = parseKlineRows(rows, 'ETHUSDT');
  for (const iv of ['5m', '15m', '1h', '4h', '1d'] as const) {
    const r = validateCandles(resample(m1, iv), iv);
    assert.equal(r.ok, true, `${iv}: ${JSON.stringify(r.violations?.slice(0, 2))}`);
  }
});
