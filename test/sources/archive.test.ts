import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startReplayServer, type ReplayServer } from '../../daemon/replay/server.ts';
import {
  archiveUrl,
  downloadArchive,
  parseArchiveZip,
  parseKlineCsv,
  planArchive,
} from '../../daemon/sources/archive.ts';
import { ChecksumMismatchError, SourceError } from '../../daemon/sources/errors.ts';
import { BinanceRestClient, fetchRange1m } from '../../daemon/sources/rest.ts';
import { RateGovernor } from '../../daemon/sources/governor.ts';
import { KLINES } from '../helpers/fixtures.ts';

const DAY = 86_400_000;
const NOW = Date.UTC(2025, 1, 3, 12, 0, 30);
let server: ReplayServer;

before(async () => {
  server = await startReplayServer({ now: NOW });
});
after(async () => {
  await server.close();
});

test('archiveUrl builds data.binance.vision paths', () => {
  assert.equal(
    archiveUrl('BTCUSDT', 'monthly', '2024-01'),
    'https://data.binance.vision/data/spot/monthly/klines/BTCUSDT/1m/BTCUSDT-1m-2024-01.zip',
  );
  assert.equal(
    archiveUrl('ETHUSDC', 'daily', '2025-02-01', { baseUrl: 'http://127.0.0.1:9/' }),
    'http://127.0.0.1:9/data/spot/daily/klines/ETHUSDC/1m/ETHUSDC-1m-2025-02-01.zip',
  );
});

test('planArchive: complete months, then complete days, then a REST tail', () => {
  const start = Date.UTC(2024, 10, 20, 6);
  const plan = planArchive(start, NOW, NOW);
  assert.deepEqual(
    plan.months.map((m) => m.key),
    ['2024-12', '2025-01'],
  );
  assert.equal(plan.days[0].key, '2024-11-20');
  assert.equal(plan.days[0].start, start, 'a partly wanted day is clipped');
  assert.equal(plan.days.length, 11 + 2);
  assert.deepEqual(
    plan.days.slice(-2).map((d) => d.key),
    ['2025-02-01', '2025-02-02'],
  );
  assert.deepEqual(plan.rest, { start: Date.UTC(2025, 1, 3), end: NOW });
  // Everything in the past and whole: months only.
  const past = planArchive(Date.UTC(2023, 0, 1), Date.UTC(2023, 3, 1), NOW);
  assert.deepEqual(
    past.months.map((m) => m.key),
    ['2023-01', '2023-02', '2023-03'],
  );
  assert.equal(past.days.length, 0);
  assert.equal(past.rest, null);
  // The month that just ended but is still to come: days.
  const fresh = planArchive(Date.UTC(2025, 0, 1), Date.UTC(2025, 1, 1), Date.UTC(2025, 0, 31, 23));
  assert.equal(fresh.months.length, 0);
  assert.equal(fresh.days.length, 30);
  assert.deepEqual(fresh.rest, { start: Date.UTC(2025, 0, 31), end: Date.UTC(2025, 1, 1) });
  assert.deepEqual(planArchive(5, 5, NOW), { months: [], days: [], rest: null });
});

test('parseKlineCsv: ms and µs by magnitude per row, header tolerated, 12 columns required', () => {
  const ms = '1735689540000,1,2,0.5,1.5,10,1735689599999,15,3,5,7.5,0';
  const us = '1735689600000000,1,2,0.5,1.5,10,1735689659999999,15,3,5,7.5,0';
  const c = parseKlineCsv(`${ms}\n${us}\n`);
  assert.deepEqual(Array.from(c.openTime), [1735689540000, 1735689600000]);
  assert.equal(c.trades[1], 3);
  const h = parseKlineCsv(
    `open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore\r\n${ms}\r\n`,
  );
  assert.equal(h.length, 1);
  assert.throws(
    () => parseKlineCsv('1735689540000,1,2,0.5,1.5,10'),
    /line 1 has 6 fields, expected 12/,
  );
  assert.throws(
    () => parseKlineCsv(`${ms}\n1735689600000,1,x,0.5,1.5,10,1,15,3,5,7.5,0`),
    /line 2: high "x"/,
  );
});

test('parseArchiveZip reads the original data.binance.vision files (spot and futures)', () => {
  const spot = parseArchiveZip(readFileSync(`${KLINES}/hal9000cc/ETHUSDT-1m-2022-08-14.zip`));
  assert.equal(spot.length, 1440);
  assert.equal(spot.openTime[0], 1660435200000);
  assert.equal(spot.quoteVolume[0], 406814.92308);
  assert.equal(spot.trades[0], 288);
  const fut = parseArchiveZip(readFileSync(`${KLINES}/hal9000cc/BTCUSDT-1m-2022-09-05.zip`));
  assert.equal(fut.length, 1440, 'futures header row skipped');
});

test('download: checksum verified, µs archive equals REST data', async () => {
  const day = {
    kind: 'daily' as const,
    key: '2025-01-15',
    start: Date.UTC(2025, 0, 15),
    end: Date.UTC(2025, 0, 16),
  };
  const file = await downloadArchive('ETHUSDC', day, { baseUrl: server.archiveUrl });
  assert.equal(file.candles.length, 1440);
  assert.match(file.sha256, /^[0-9a-f]{64}$/);
  const rest = await fetchRange1m(
    new BinanceRestClient({ baseUrl: server.url, governor: new RateGovernor() }),
    'ETHUSDC',
    day.start,
    day.end,
  );
  assert.deepEqual(Array.from(file.candles.openTime), Array.from(rest.candles.openTime));
  assert.deepEqual(Array.from(file.candles.close), Array.from(rest.candles.close));
  assert.deepEqual(Array.from(file.candles.takerBuyQuote), Array.from(rest.candles.takerBuyQuote));
});

test('download: a monthly file is clipped to the piece', async () => {
  const piece = {
    kind: 'monthly' as const,
    key: '2024-12',
    start: Date.UTC(2024, 11, 31),
    end: Date.UTC(2025, 0, 1),
  };
  const file = await downloadArchive('BTCUSDT', piece, { baseUrl: server.archiveUrl });
  assert.equal(file.candles.length, 1440);
  assert.equal(file.candles.openTime[0], piece.start);
});

test('download: a corrupted archive is rejected with CHECKSUM_MISMATCH, never parsed', async () => {
  server.setFaults([{ kind: 'corruptArchive' }]);
  try {
    const piece = {
      kind: 'daily' as const,
      key: '2025-01-20',
      start: Date.UTC(2025, 0, 20),
      end: Date.UTC(2025, 0, 21),
    };
    await assert.rejects(
      downloadArchive('BTCUSDT', piece, {
        baseUrl: server.archiveUrl,
        retryDelay: 0.001,
        maxRetries: 2,
      }),
      (e: unknown) => {
        assert.ok(e instanceof SourceError);
        assert.equal(e.code, 'CHECKSUM_MISMATCH');
        assert.ok((e as { cause?: unknown }).cause instanceof ChecksumMismatchError);
        assert.match(e.message, /Checksum mismatch for BTCUSDT-1m-2025-01-20\.zip/);
        return true;
      },
    );
    // A one-off corruption (a republish racing the download) is retried and then verified.
    server.setFaults([{ kind: 'corruptArchive', count: 1 }]);
    const ok = await downloadArchive('BTCUSDT', piece, {
      baseUrl: server.archiveUrl,
      retryDelay: 0.001,
    });
    assert.equal(ok.candles.length, 1440);
    assert.equal(server.stats.faults.corruptArchive, 4);
  } finally {
    server.setFaults([]);
  }
});

test('download: unpublished periods are NOT_FOUND without retries; 5xx is retried', async () => {
  server.resetStats();
  const today = {
    kind: 'daily' as const,
    key: '2025-02-03',
    start: Date.UTC(2025, 1, 3),
    end: Date.UTC(2025, 1, 3) + DAY,
  };
  await assert.rejects(
    downloadArchive('BTCUSDT', today, { baseUrl: server.archiveUrl }),
    (e: unknown) => e instanceof SourceError && e.code === 'NOT_FOUND',
  );
  assert.equal(server.stats.archiveRequests, 2, 'zip and checksum asked once each');
  server.setFaults([{ kind: 'http5xx', path: '/data/', count: 2 }]);
  try {
    const day = {
      kind: 'daily' as const,
      key: '2025-02-01',
      start: Date.UTC(2025, 1, 1),
      end: Date.UTC(2025, 1, 2),
    };
    const file = await downloadArchive('BTCUSDT', day, {
      baseUrl: server.archiveUrl,
      retryDelay: 0.001,
    });
    assert.equal(file.candles.length, 1440);
  } finally {
    server.setFaults([]);
  }
});
