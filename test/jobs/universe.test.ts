import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startReplayServer } from '../../daemon/replay/server.ts';
import { BinanceRestClient } from '../../daemon/sources/rest.ts';
import { RateGovernor } from '../../daemon/sources/governor.ts';
import { topSymbols, searchSymbols, listGroups } from '../../daemon/jobs/universe.ts';
import { ConfigSchema } from '../../schemas/config.ts';

test('top N: by volume alone it says so; with a market-cap source both ranks count', async () => {
  const server = await startReplayServer({ now: Date.parse('2024-03-10T03:00Z') });
  const rest = new BinanceRestClient({ baseUrl: server.url, governor: new RateGovernor() });
  const byVolume = await topSymbols(rest, 10);
  assert.equal(byVolume.ranking, 'volume');
  assert.equal(byVolume.symbols.length, 10);
  for (let i = 1; i < 10; i++)
    assert.ok(byVolume.symbols[i - 1].quoteVolume >= byVolume.symbols[i].quoteVolume);
  // A CoinGecko-shaped answer that puts the 10th by volume first by market cap.
  const tenth = byVolume.symbols[9];
  const caps = [
    { symbol: tenth.base.toLowerCase(), market_cap: 1e12 },
    { symbol: byVolume.symbols[0].base.toLowerCase(), market_cap: 1e9 },
  ];
  let asked = '';
  const fakeFetch = (async (url: string) => {
    asked = url;
    return new Response(JSON.stringify(caps), { headers: { 'content-type': 'application/json' } });
  }) as unknown as typeof fetch;
  const combined = await topSymbols(rest, 10, {
    marketCapUrl: 'http://127.0.0.1:1/coins/markets',
    fetch: fakeFetch,
  });
  assert.equal(asked, 'http://127.0.0.1:1/coins/markets');
  assert.equal(combined.ranking, 'market-cap+volume');
  assert.equal(combined.symbols[0].symbol, byVolume.symbols[0].symbol, 'volume 1st + cap 2nd');
  assert.ok(
    combined.symbols.findIndex((s) => s.symbol === tenth.symbol) < 9,
    'the market cap lifted the 10th',
  );
  assert.equal(combined.symbols.find((s) => s.symbol === tenth.symbol)?.marketCap, 1e12);
  const found = await searchSymbols(rest, 'btc', 5);
  assert.equal(found[0].symbol, 'BTC' + found[0].quote);
  await server.close();
});

test('groups: the four predefined ones against USDC, plus the config', () => {
  const groups = listGroups(ConfigSchema.parse({ groups: { mine: ['solusdc'] } }));
  assert.deepEqual(
    groups.map((g) => g.name),
    ['L1', 'DeFi', 'L2', 'Stable', 'mine'],
  );
  assert.deepEqual(groups[0].symbols, ['BTCUSDC', 'ETHUSDC', 'SOLUSDC', 'ADAUSDC']);
  assert.deepEqual(groups[3].symbols, ['EURUSDC', 'FDUSDUSDC', 'USDEUSDC']);
  assert.deepEqual(groups[4].symbols, ['SOLUSDC']);
  assert.throws(() => ConfigSchema.parse({ groups: { mine: ['../x'] } }), /invalid symbol/);
});
