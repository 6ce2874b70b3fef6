/**
 * Futures markets end to end against the replay exchange and Binance's own USD-M archives:
 * archive and REST ingest of trade and mark klines, the futures weight (499 a page), one rate
 * budget per market, COIN-M's 200-day window, index klines by pair, import of futures files into
 * their market, and a spot and a futures BTCUSDT side by side in one bank, never mixed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startReplayServer, type ReplayServer } from '../../daemon/replay/server.ts';
import { DELIVERED_CM } from '../../daemon/replay/futures.ts';
import { BinanceRestClient, fetchRange1m } from '../../daemon/sources/rest.ts';
import { RateGovernor } from '../../daemon/sources/governor.ts';
import { Bank } from '../../daemon/store/bank.ts';
import { runIngest, planIngest, type IngestRequest } from '../../daemon/jobs/ingest.ts';
import { importFiles } from '../../daemon/jobs/import.ts';
import { parseConfigText } from '../../daemon/store/config.ts';
import { resample } from '../../daemon/engine/resample.ts';
import { candlesCsv, exportFile } from '../../daemon/app/export-file.ts';
import type { Market } from '../../schemas/markets.ts';
import { sliceCandles } from '../../schemas/candles.ts';
import { KLINES, loadKlines } from '../helpers/fixtures.ts';

const NOW = Date.parse('2026-03-10T12:00:30Z');
const DAY = 86_400_000;
const SEP5 = Date.parse('2022-09-05T00:00Z');

async function env() {
  const server = await startReplayServer({ now: NOW });
  const dir = await mkdtemp(path.join(tmpdir(), 'threadx-futures-'));
  const config = parseConfigText('[data.api]\nretry_delay = 0.01\n', path.join(dir, 't.toml'));
  const bank = await Bank.open(path.join(dir, 'data'));
  const client = (market: Market) =>
    new BinanceRestClient({
      market,
      baseUrl: server.url,
      governor: new RateGovernor(),
      retryDelay: 0.01,
      timeoutSeconds: 5,
    });
  const deps = (market: Market) => ({
    bank,
    config,
    rest: client(market),
    archiveBaseUrl: server.archiveUrl,
  });
  return {
    server,
    dir,
    bank,
    client,
    deps,
    close: async () => {
      await server.close();
      await rm(dir, { recursive: true });
    },
  };
}

const req = (r: Partial<IngestRequest>): IngestRequest => ({
  intervals: ['1h', '1d'],
  start: SEP5,
  end: SEP5 + 2 * DAY,
  ...r,
});

async function clean(bank: Bank): Promise<void> {
  assert.deepEqual(
    (await bank.verify()).filter((i) => i.status !== 'ok'),
    [],
  );
}

function kinds(server: ReplayServer): Record<string, number> {
  return server.stats.requests;
}

test('futures: USD-M trade klines from the archive are Binance own rows, beside spot BTCUSDT, never mixed', async () => {
  const e = await env();
  try {
    const fut = await runIngest(e.deps('um'), req({ symbols: ['BTCUSDT'], market: 'um' }));
    assert.equal(fut.results[0].ok, true, JSON.stringify(fut.results[0].error));
    assert.equal(fut.results[0].symbol, 'BTCUSDT@um');
    assert.equal(fut.results[0].archiveFiles, 2);
    const spot = await runIngest(e.deps('spot'), req({ symbols: ['BTCUSDT'] }));
    assert.equal(spot.results[0].ok, true);
    // The futures 1m rows are the archive's, column for column.
    const real = [
      loadKlines('hal9000cc/BTCUSDT-1m-2022-09-05.zip'),
      loadKlines('hal9000cc/BTCUSDT-1m-2022-09-06.zip'),
    ];
    const got = await e.bank.read('BTCUSDT@um', '1m', SEP5, SEP5 + 2 * DAY);
    assert.equal(got.length, 2880);
    for (const [d, file] of real.entries())
      for (let i = 0; i < file.length; i += 97) {
        const k = d * 1440 + i;
        assert.equal(got.openTime[k], file.openTime[i]);
        for (const col of ['open', 'high', 'low', 'close', 'volume', 'trades'] as const)
          assert.equal(got[col][k], file[col][i], `${col} at ${k}`);
      }
    // Spot BTCUSDT is the spot series: other prices, its own files.
    const s = await e.bank.read('BTCUSDT', '1m', SEP5, SEP5 + 2 * DAY);
    assert.equal(s.length, 2880);
    assert.notEqual(s.close[0], got.close[0]);
    const fEntry = e.bank.get('BTCUSDT@um', '1m')!;
    const sEntry = e.bank.get('BTCUSDT', '1m')!;
    assert.equal(fEntry.market, 'um');
    assert.equal(sEntry.market, undefined);
    assert.match(fEntry.files[0].path, /^processed\/futures-um\/klines\/BTCUSDT\/1m\//);
    assert.match(sEntry.files[0].path, /^processed\/BTCUSDT\/1m\//);
    assert.notEqual(fEntry.files[0].sha256, sEntry.files[0].sha256);
    // The derived hour is the exact resample of the futures minutes.
    const h = await e.bank.read('BTCUSDT@um', '1h', SEP5, SEP5 + 2 * DAY);
    const want = resample(got, '1h');
    assert.equal(h.length, 48);
    assert.deepEqual(Array.from(h.close), Array.from(want.close.subarray(0, want.length)));
    assert.deepEqual(Array.from(h.volume), Array.from(want.volume.subarray(0, want.length)));
    // The spot archive was asked on the spot path, the futures one on the futures path.
    assert.equal(
      kinds(e.server)['/data/futures/um/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2022-09-05.zip'],
      1,
    );
    assert.equal(
      kinds(e.server)['/data/spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2022-09-05.zip'],
      1,
    );
    await clean(e.bank);
  } finally {
    await e.close();
  }
});

test('futures: REST pages of 499 at weight 2 on the USD-M budget, mark klines, a re-run fetches nothing', async () => {
  const e = await env();
  try {
    const r = req({ symbols: ['BTCUSDT'], market: 'um', kind: 'mark', source: 'rest' });
    const plan = await planIngest(e.deps('um'), r);
    // 2880 minutes in pages of 499: 6 requests of weight 2.
    assert.equal(plan.requests, 6);
    assert.equal(plan.weight, 12);
    const res = await runIngest(e.deps('um'), r, { plan });
    assert.equal(res.results[0].ok, true, JSON.stringify(res.results[0].error));
    assert.equal(res.results[0].requests, 6);
    const st = e.server.stats;
    assert.equal(st.requests['/fapi/v1/markPriceKlines'], 6);
    // exchangeInfo (1) + time (1 or more) + 6 pages of weight 2, all on USD-M's budget.
    const other = (st.requests['/fapi/v1/exchangeInfo'] ?? 0) + (st.requests['/fapi/v1/time'] ?? 0);
    assert.equal(st.futures.um.totalWeight, 12 + other);
    assert.equal(st.totalWeight, 0, 'the spot budget is untouched');
    const mark = await e.bank.read('BTCUSDT@um.mark', '1m', SEP5, SEP5 + 2 * DAY);
    assert.equal(mark.length, 2880);
    const trade = loadKlines('hal9000cc/BTCUSDT-1m-2022-09-05.zip');
    // Mark prices follow the trade price within a few basis points, with no volume.
    assert.ok(Math.abs(mark.close[0] / trade.close[0] - 1) < 0.001);
    assert.equal(mark.volume[0], 0);
    assert.equal(e.bank.get('BTCUSDT@um.mark', '1m')?.klineKind, 'mark');
    assert.equal((await e.bank.read('BTCUSDT@um.mark', '1d', SEP5, SEP5 + 2 * DAY)).length, 2);
    e.server.resetStats();
    const again = await runIngest(e.deps('um'), r);
    assert.equal(again.plan.requests, 0);
    assert.equal(e.server.stats.futures.um.klineRequests, 0);
    await clean(e.bank);
  } finally {
    await e.close();
  }
});

test('futures: COIN-M mark and index klines stay within 200 days a request; index by pair', async () => {
  const e = await env();
  try {
    // The exchange refuses a wider span...
    const wide = await fetch(
      `${e.server.url}/dapi/v1/markPriceKlines?symbol=BTCUSD_PERP&interval=1m&startTime=${SEP5}&endTime=${SEP5 + 201 * DAY}&limit=499`,
    );
    assert.equal(wide.status, 400);
    assert.equal(((await wide.json()) as { code: number }).code, -1127);
    // ...and the client never sends one: each page's end is within 200 days of its start.
    const client = e.client('cm');
    const sent: URL[] = [];
    const spy = new BinanceRestClient({
      market: 'cm',
      baseUrl: e.server.url,
      governor: new RateGovernor(),
      fetch: (u, init) => {
        sent.push(new URL(String(u)));
        return fetch(u, init);
      },
    });
    const got = await fetchRange1m(spy, 'BTCUSD_PERP', SEP5, SEP5 + DAY, { kind: 'mark' });
    assert.equal(got.candles.length, 1440);
    const pages = sent.filter((u) => u.pathname === '/dapi/v1/markPriceKlines');
    assert.equal(pages.length, Math.ceil(1441 / 499));
    for (const u of pages) {
      const span = Number(u.searchParams.get('endTime')) - Number(u.searchParams.get('startTime'));
      assert.ok(span > 0 && span <= 200 * DAY, `span ${span}`);
      assert.equal(u.searchParams.get('limit'), '499');
    }
    // Index klines are asked for by pair and stored under it.
    const res = await runIngest(
      { ...e.deps('cm'), rest: client },
      req({ symbols: ['BTCUSD'], market: 'cm', kind: 'index', source: 'rest' }),
    );
    assert.equal(res.results[0].ok, true, JSON.stringify(res.results[0].error ?? res.skipped));
    assert.equal(res.results[0].symbol, 'BTCUSD@cm.index');
    assert.ok(e.server.stats.requests['/dapi/v1/indexPriceKlines'] > 0);
    assert.equal(e.bank.get('BTCUSD@cm.index', '1m')?.rows, 2880);
    await clean(e.bank);
  } finally {
    await e.close();
  }
});

test('futures: a kind the market lacks, and a client of another market, are refused with the fix', async () => {
  const e = await env();
  try {
    await assert.rejects(
      planIngest(e.deps('spot'), req({ symbols: ['BTCUSDT'], kind: 'mark' })),
      /Spot has no mark klines/,
    );
    await assert.rejects(
      planIngest(e.deps('spot'), req({ symbols: ['BTCUSDT'], market: 'um' })),
      /client is for Spot, not USD-M/,
    );
  } finally {
    await e.close();
  }
});

test('futures: premium index klines keep their signed prices: ingest, import, derive, export, verify', async () => {
  const e = await env();
  try {
    // Two whole days from the premiumIndexKlines archive, then the exchange's own minutes.
    const r = await runIngest(
      e.deps('um'),
      req({ symbols: ['BTCUSDT'], market: 'um', kind: 'premium' }),
    );
    assert.equal(r.results[0].ok, true, JSON.stringify(r.results[0].error));
    assert.equal(r.results[0].symbol, 'BTCUSDT@um.premium');
    assert.equal(r.results[0].archiveFiles, 2);
    assert.equal(
      kinds(e.server)[
        '/data/futures/um/daily/premiumIndexKlines/BTCUSDT/1m/BTCUSDT-1m-2022-09-05.zip'
      ],
      1,
    );
    const want = (
      await fetchRange1m(e.client('um'), 'BTCUSDT', SEP5, SEP5 + 2 * DAY, {
        kind: 'premium',
      })
    ).candles;
    const got = await e.bank.read('BTCUSDT@um.premium', '1m', SEP5, SEP5 + 2 * DAY);
    assert.equal(got.length, 2880);
    assert.equal(want.length, 2880);
    for (const col of ['openTime', 'open', 'high', 'low', 'close', 'trades'] as const)
      assert.deepEqual(Array.from(got[col]), Array.from(want[col].subarray(0, 2880)), col);
    // A signed spread: negative prices stored as they are.
    assert.ok(got.close.some((v) => v < 0));
    assert.ok(got.low.some((v) => v < 0));
    // The derived hour is the exchange's minutes resampled, and export writes it.
    const h = resample(want, '1h');
    assert.ok(h.close.subarray(0, h.length).some((v) => v < 0));
    const out = path.join(e.dir, 'premium-1h.csv');
    const x = await exportFile(e.bank, {
      symbol: 'BTCUSDT@um.premium',
      interval: '1h',
      start: SEP5,
      end: SEP5 + 2 * DAY,
      out,
      format: 'csv',
    });
    assert.equal(x.rows, 48);
    assert.equal(await readFile(out, 'utf8'), candlesCsv(h));
    // A Binance premiumIndexKlines archive imports into the same series.
    const rel = 'data/futures/um/daily/premiumIndexKlines/BTCUSDT/1m/BTCUSDT-1m-2022-09-07.zip';
    const file = path.join(e.dir, rel);
    await mkdir(path.dirname(file), { recursive: true });
    for (const suffix of ['', '.CHECKSUM']) {
      const res = await fetch(`${e.server.archiveUrl}/${rel}${suffix}`);
      assert.equal(res.status, 200);
      await writeFile(`${file}${suffix}`, new Uint8Array(await res.arrayBuffer()));
    }
    const imp = await importFiles(e.bank, [file], { intervals: ['1h'] });
    assert.deepEqual(
      imp.items.map((i) => [i.symbol, i.ok, i.rows, i.series?.kind]),
      [['BTCUSDT@um.premium', true, 1440, 'premium']],
    );
    assert.equal(e.bank.get('BTCUSDT@um.premium', '1m')?.rows, 3 * 1440);
    assert.equal(e.bank.get('BTCUSDT@um.premium', '1m')?.klineKind, 'premium');
    await clean(e.bank);
    // Every other series keeps its positive prices: a negative one is refused, nothing written.
    const bad = sliceCandles(want, 0, 1);
    for (const key of ['BTCUSDT', 'BTCUSDT@um', 'BTCUSDT@um.mark']) {
      bad.close[0] = -1;
      bad.low[0] = -2;
      await assert.rejects(e.bank.write1m(key, bad, 'test'), /prices must be positive|negative/);
      assert.equal(e.bank.get(key, '1m'), undefined);
    }
  } finally {
    await e.close();
  }
});

test('futures: a delivered quarterly contract ends at delivery; the minutes after are "after delivery", not missing', async () => {
  const e = await env();
  try {
    const { symbol, deliveryDate } = DELIVERED_CM;
    const day = Date.UTC(2024, 5, 27);
    const r = req({
      symbols: [symbol],
      market: 'cm',
      start: day,
      end: day + 2 * DAY,
      intervals: ['1h', '1d'],
    });
    const plan = await planIngest(e.deps('cm'), r);
    assert.deepEqual(plan.skipped, []);
    const sp = plan.symbols[0];
    assert.equal(sp.symbol, `${symbol}@cm`);
    // Planned up to the delivery only: 24 + 8 hours; the 16 hours after are their own class.
    assert.equal(sp.minutes, 32 * 60);
    assert.deepEqual(sp.afterDelivery, { deliveredAt: deliveryDate, minutes: 16 * 60 });
    const res = await runIngest(e.deps('cm'), r, { plan });
    const got = res.results[0];
    assert.equal(got.ok, true, JSON.stringify(got.error));
    assert.equal(got.gaps, 0);
    assert.deepEqual(got.afterDelivery, { deliveredAt: deliveryDate, minutes: 16 * 60 });
    assert.match(
      res.notes.join('\n'),
      /BTCUSD_240628@cm was delivered at 2024-06-28T08:00:00\.000Z: its last candle is final.*960 minute\(s\).*after delivery, not missing/,
    );
    const m1 = await e.bank.read(`${symbol}@cm`, '1m', day, day + 2 * DAY);
    assert.equal(m1.length, 32 * 60);
    assert.equal(m1.openTime[m1.length - 1], deliveryDate - 60_000);
    // The delivery day's candle is whole at delivery: the resample of its eight hours.
    const d1 = await e.bank.read(`${symbol}@cm`, '1d', day, day + 2 * DAY);
    assert.equal(d1.length, 2);
    const want = resample(m1, '1d');
    for (const col of ['open', 'high', 'low', 'close'] as const)
      assert.deepEqual(Array.from(d1[col]), Array.from(want[col].subarray(0, 2)), col);
    assert.equal((await e.bank.read(`${symbol}@cm`, '1h', day, day + 2 * DAY)).length, 32);
    await clean(e.bank);
    // Again: nothing to fetch, the same report, still no error.
    e.server.resetStats();
    const again = await runIngest(e.deps('cm'), r);
    assert.equal(again.plan.requests, 0);
    assert.equal(again.results[0].ok, true);
    assert.equal(again.results[0].afterDelivery?.minutes, 16 * 60);
    assert.equal(e.server.stats.futures.cm.klineRequests, 0);
    // A window wholly after delivery fetches nothing and fails nothing.
    const late = await runIngest(
      e.deps('cm'),
      req({ symbols: [symbol], market: 'cm', start: day + 3 * DAY, end: day + 4 * DAY }),
    );
    assert.equal(late.results[0].ok, true);
    assert.equal(late.plan.symbols[0].minutes, 0);
    assert.deepEqual(late.results[0].afterDelivery, { deliveredAt: deliveryDate, minutes: 1440 });
    assert.equal(e.bank.get(`${symbol}@cm`, '1m')?.rows, 32 * 60);
  } finally {
    await e.close();
  }
});

test('futures: import stores Binance futures archives in their market (header, ms, a whole month)', async () => {
  const e = await env();
  try {
    const day = path.join(KLINES, 'hal9000cc', 'BTCUSDT-1m-2022-09-05.zip');
    // Told spot, a futures file is refused and nothing is written.
    const refused = await importFiles(e.bank, [day], { market: 'spot' });
    assert.equal(refused.items[0].ok, false);
    assert.equal(refused.items[0].code, 'WRONG_MARKET');
    assert.equal(Object.keys(e.bank.registry().datasets).length, 0);
    // Its header row tells it is futures: it goes to USD-M BTCUSDT.
    const month = path.join(KLINES, 'isda_futures_um', 'AVAXUSDT-1m-2026-02.csv.gz');
    const s = await importFiles(e.bank, [day, month], { intervals: ['1h', '1d'] });
    assert.deepEqual(
      s.items.map((i) => [i.symbol, i.ok, i.rows, i.series?.market]),
      [
        ['BTCUSDT@um', true, 1440, 'um'],
        ['AVAXUSDT@um', true, 40320, 'um'],
      ],
    );
    const avax = loadKlines('isda_futures_um/AVAXUSDT-1m-2026-02.csv.gz');
    const feb = Date.parse('2026-02-01T00:00Z');
    const d1 = await e.bank.read('AVAXUSDT@um', '1d', feb, feb + 28 * DAY);
    const want = resample(avax, '1d');
    assert.equal(d1.length, 28);
    assert.deepEqual(Array.from(d1.high), Array.from(want.high.subarray(0, want.length)));
    assert.deepEqual(Array.from(d1.low), Array.from(want.low.subarray(0, want.length)));
    // Sums are derived through the finer timeframes: equal up to the float rounding of the sum.
    for (let i = 0; i < 28; i++)
      assert.ok(Math.abs(d1.quoteVolume[i] / want.quoteVolume[i] - 1) < 1e-12, `day ${i}`);
    assert.deepEqual(Array.from(d1.close), Array.from(want.close.subarray(0, 28)));
    assert.equal(e.bank.get('AVAXUSDT@um', '1m')?.gaps.length, 0);
    assert.equal(e.bank.get('AVAXUSDT', '1m'), undefined, 'nothing went to spot');
    await clean(e.bank);
  } finally {
    await e.close();
  }
});

test('futures: top N ranks the market own perpetuals by 24h quote volume', async () => {
  const e = await env();
  try {
    const plan = await planIngest(
      e.deps('um'),
      req({ top: 5, market: 'um', start: NOW - DAY, end: NOW - DAY + 60_000 }),
    );
    assert.equal(plan.symbols.length, 5);
    assert.ok(
      plan.symbols.every((s) => /^[A-Z0-9]+USDT@um$/.test(s.symbol)),
      JSON.stringify(plan.symbols.map((s) => s.symbol)),
    );
    assert.equal(plan.symbols[0].exchangeSymbol, 'BTCUSDT');
    assert.ok(e.server.stats.requests['/fapi/v1/ticker/24hr'] >= 1);
    assert.equal(e.server.stats.requests['/api/v3/ticker/24hr'], undefined);
    const cm = await planIngest(
      e.deps('cm'),
      req({ top: 3, market: 'cm', start: NOW - DAY, end: NOW - DAY + 60_000 }),
    );
    // Perpetuals only: the delivered quarterly contract is never in a top N.
    assert.ok(cm.symbols.every((s) => /_PERP@cm$/.test(s.symbol)));
  } finally {
    await e.close();
  }
});

test('futures: funding rates, their interval in hours derived from the timestamps (8 h, 4 h, 1 h)', async () => {
  const e = await env();
  try {
    const { buildContracts, fundingIntervalAt } = await import('../../daemon/replay/futures.ts');
    const { buildUniverse } = await import('../../daemon/replay/universe.ts');
    const contracts = buildContracts(buildUniverse(), 'um');
    const switch1h = Date.UTC(2024, 5, 1);
    // A contract that moves from 4 h to 1 h settlements on 2024-06-01.
    const mixed = [...contracts.keys()].find(
      (s) =>
        fundingIntervalAt(s, switch1h) === 3_600_000 &&
        contracts.get(s)!.spec.listedAt < switch1h - 9 * DAY,
    )!;
    assert.ok(mixed);
    const { ingestFunding } = await import('../../daemon/jobs/funding.ts');
    const window = { start: switch1h - 2 * DAY, end: switch1h + DAY };
    const r = await ingestFunding(e.deps('um'), { symbols: ['BTCUSDT', mixed], ...window });
    assert.deepEqual(r.skipped, []);
    assert.deepEqual(
      r.results.map((x) => [x.symbol, x.ok, x.added]),
      [
        ['BTCUSDT', true, 9],
        [mixed, true, 12 + 24],
      ],
    );
    const { readFunding } = await import('../../daemon/store/funding.ts');
    const { fundingIntervalHours, fundingCsv } = await import('../../daemon/engine/funding.ts');
    const ev = await readFunding(e.bank.layout, 'um', mixed);
    const hours = fundingIntervalHours(ev);
    // The settlement at 2024-06-01 00:00 closes the last 4 h interval; hourly ones follow.
    assert.deepEqual(hours.slice(0, 13), Array(13).fill(4));
    assert.deepEqual(hours.slice(13), Array(23).fill(1));
    // Settlements land a few ms after the hour; the interval is still whole hours.
    assert.ok(ev.some((x) => x.fundingTime % 3_600_000 !== 0));
    const btc = fundingIntervalHours(await readFunding(e.bank.layout, 'um', 'BTCUSDT'));
    assert.deepEqual(btc, Array(9).fill(8));
    assert.match(
      fundingCsv(ev).split('\n')[0],
      /^fundingTime,fundingRate,markPrice,intervalHours$/,
    );
    // A re-run asks only after the newest stored event, and adds nothing.
    e.server.resetStats();
    const again = await ingestFunding(e.deps('um'), { symbols: [mixed], ...window });
    assert.equal(again.results[0].added, 0);
    assert.equal(e.server.stats.requests['/fapi/v1/fundingRate'], 1);
    // A delivery contract pays no funding: reported, not fetched.
    const cm = await ingestFunding(e.deps('cm'), { symbols: ['BTCUSD_240628'], ...window });
    assert.match(cm.skipped[0].reason ?? '', /delivery contract|does not trade/);
  } finally {
    await e.close();
  }
});

test('futures: REST pages of Binance own AVAXUSDT month served by the replay equal the archive', async () => {
  const { readFileSync } = await import('node:fs');
  const { gunzipSync, strFromU8 } = await import('fflate');
  const text = strFromU8(
    gunzipSync(readFileSync(path.join(KLINES, 'isda_futures_um', 'AVAXUSDT-1m-2026-02.csv.gz'))),
  );
  const rows = text
    .split('\n')
    .filter((l) => /^\d/.test(l))
    .map((l) => {
      const f = l.split(',');
      return [+f[0], f[1], f[2], f[3], f[4], f[5], +f[6], f[7], +f[8], f[9], f[10], f[11]] as const;
    });
  const server = await startReplayServer({
    now: NOW,
    recorded: { 'um:AVAXUSDT': rows as unknown as never },
  });
  const dir = await mkdtemp(path.join(tmpdir(), 'threadx-futures-avax-'));
  try {
    const bank = await Bank.open(path.join(dir, 'data'));
    const config = parseConfigText('[data.api]\nretry_delay = 0.01\n', path.join(dir, 't.toml'));
    const rest = new BinanceRestClient({
      market: 'um',
      baseUrl: server.url,
      governor: new RateGovernor(),
    });
    const feb = Date.parse('2026-02-01T00:00Z');
    const res = await runIngest(
      { bank, config, rest, archiveBaseUrl: server.archiveUrl },
      {
        symbols: ['AVAXUSDT'],
        market: 'um',
        intervals: ['4h'],
        start: feb,
        end: feb + 3 * DAY,
        source: 'rest',
      },
    );
    assert.equal(res.results[0].ok, true, JSON.stringify(res.results[0].error));
    assert.equal(res.results[0].requests, Math.ceil((3 * 1440 + 0) / 499));
    const got = await bank.read('AVAXUSDT@um', '1m', feb, feb + 3 * DAY);
    const want = loadKlines('isda_futures_um/AVAXUSDT-1m-2026-02.csv.gz');
    assert.equal(got.length, 3 * 1440);
    for (const col of ['open', 'high', 'low', 'close', 'volume', 'quoteVolume', 'trades'] as const)
      assert.deepEqual(Array.from(got[col]), Array.from(want[col].subarray(0, 3 * 1440)), col);
    assert.equal((await bank.read('AVAXUSDT@um', '4h', feb, feb + 3 * DAY)).length, 18);
  } finally {
    await server.close();
    await rm(dir, { recursive: true });
  }
});
