/**
 * The watcher against the replay exchange on a fast market clock (one market minute every two
 * real seconds), with stream faults on: finals dropped, late, duplicated and falsified, a socket cut, a
 * socket gone silent, and an outage. At the end every minute the exchange holds is in the bank
 * and equal to the exchange's, the outage is recorded as confirmed empty, the falsified finals
 * were reported and replaced by REST's values, the tail was folded, and verify is clean.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startReplayServer } from '../../daemon/replay/server.ts';
import { BinanceRestClient } from '../../daemon/sources/rest.ts';
import { RateGovernor } from '../../daemon/sources/governor.ts';
import { Bank } from '../../daemon/store/bank.ts';
import { acquireBankLock } from '../../daemon/store/lock.ts';
import { defaultConfig } from '../../schemas/config.ts';
import { Watcher, type WatchEvent } from '../../daemon/jobs/watch.ts';

const MIN = 60_000;
/** The market clock starts here and runs 30 times faster than the real one. */
const T0 = Date.UTC(2024, 2, 5, 12, 0, 30);
const SPEED = 30;
const SYMBOLS = ['BTCUSDC', 'ETHUSDC', 'SOLUSDC'];
/** ETHUSDC has no klines for these two minutes: an exchange outage. */
const OUTAGE: [number, number] = [Date.UTC(2024, 2, 5, 12, 4), Date.UTC(2024, 2, 5, 12, 6)];

test(
  'watch: caught up, then every minute stored from the stream or REST despite stream faults',
  { timeout: 300_000 },
  async () => {
    const r0 = Date.now();
    const now = (): number => T0 + (Date.now() - r0) * SPEED;
    const server = await startReplayServer({
      now,
      stream: { tickMs: 10, pingMs: 150 },
      faults: [
        { kind: 'wsDropFinal', probability: 0.2 },
        { kind: 'wsLateFinal', probability: 0.1, delayMs: 300 },
        { kind: 'wsDuplicateFinal', probability: 0.2 },
        { kind: 'wsWrongFinal', symbol: 'BTCUSDC', count: 2, after: 2 },
        { kind: 'wsCut', after: 8, count: 1 },
        { kind: 'wsSilent', after: 20, count: 1 },
        { kind: 'missing', symbol: 'ETHUSDC', ranges: [OUTAGE] },
      ],
    });
    const dir = await mkdtemp(path.join(tmpdir(), 'threadx-watch-'));
    const got = await acquireBankLock(dir, 'test');
    assert.ok(got.acquired);
    const bank = await Bank.open(dir, { lock: got.lock });
    const rest = new BinanceRestClient({
      baseUrl: server.url,
      governor: new RateGovernor(),
      retryDelay: 0.01,
      timeoutSeconds: 5,
    });
    const events: WatchEvent[] = [];
    let waiter: { ok: () => boolean; resolve: () => void } | undefined;
    const until = (ok: () => boolean): Promise<void> =>
      ok() ? Promise.resolve() : new Promise((resolve) => (waiter = { ok, resolve }));
    const watcher = new Watcher(
      { bank, config: defaultConfig(), rest, archiveBaseUrl: server.archiveUrl },
      {
        symbols: SYMBOLS,
        intervals: ['5m'],
        start: T0 - 20 * MIN,
        wsUrl: server.wsUrl,
        now,
        graceMs: 5000,
        tickMs: 20,
        foldMs: 4000,
        reconcileMs: 2500,
        silenceMs: 1000,
        onEvent: (e) => {
          events.push(e);
          if (waiter?.ok()) {
            waiter.resolve();
            waiter = undefined;
          }
        },
      },
    );
    try {
      await watcher.start();
      const kinds = (k: string) => events.filter((e) => e.event === k);
      assert.equal(kinds('caught-up').length, 1);
      // Let 25 market minutes close, and the socket faults (cut, silent) happen and be recovered.
      const target = Math.floor(T0 / MIN) * MIN + 25 * MIN;
      await until(
        () =>
          (watcher.status.lastStored ?? 0) >= target &&
          kinds('reconnecting').some((e) => e.event === 'reconnecting' && e.reason === 'silent') &&
          kinds('reconciled').length >= 2,
      );
      await watcher.stop();
      const last = watcher.status.lastStored!;

      // The stream did deliver (most minutes came from it), and REST filled what it did not.
      const stored = events.filter((e) => e.event === 'stored');
      assert.ok(stored.filter((e) => e.event === 'stored' && e.source === 'stream').length > 10);
      assert.ok(kinds('backfilled').length > 0, 'dropped finals fetched by REST');
      assert.ok(watcher.status.duplicates > 0, 'duplicated and late finals ignored');
      assert.ok(
        kinds('reconnecting').some((e) => e.event === 'reconnecting' && e.reason === 'dropped'),
      );
      assert.ok(kinds('disagree').some((e) => e.event === 'disagree' && e.symbol === 'BTCUSDC'));
      assert.ok(
        kinds('outage').some(
          (e) =>
            e.event === 'outage' &&
            e.symbol === 'ETHUSDC' &&
            e.start === OUTAGE[0] &&
            e.end === OUTAGE[1],
        ),
      );

      // Every minute the exchange holds is in the bank, equal to the exchange's REST kline.
      for (const symbol of SYMBOLS) {
        const res = await fetch(
          `${server.url}/api/v3/klines?symbol=${symbol}&interval=1m&startTime=${T0 - 20 * MIN}&endTime=${last}&limit=1000`,
        );
        const want = (await res.json()) as unknown[][];
        const c = await bank.read1m(symbol, T0 - 20 * MIN, last + MIN);
        const have = new Map<number, number>();
        for (let i = 0; i < c.length; i++) have.set(c.openTime[i], i);
        for (const k of want) {
          const i = have.get(k[0] as number);
          assert.ok(i !== undefined, `${symbol} ${new Date(k[0] as number).toISOString()} stored`);
          assert.deepEqual(
            [c.open[i], c.high[i], c.low[i], c.close[i], c.volume[i], c.trades[i]],
            [Number(k[1]), Number(k[2]), Number(k[3]), Number(k[4]), Number(k[5]), k[8]],
            `${symbol} ${new Date(k[0] as number).toISOString()} equals the exchange`,
          );
        }
        const real = Array.from(c.filled.subarray(0, c.length)).filter((f) => f === 0).length;
        assert.equal(real, want.length, `${symbol}: nothing the exchange does not hold`);
      }
      assert.deepEqual(bank.confirmedEmpty('ETHUSDC'), [OUTAGE]);
      // Folded at stop: the tail is empty, the partitions and the 5m timeframe hold the minutes.
      assert.deepEqual(await readdir(path.join(dir, 'tail')), []);
      assert.ok((bank.get('BTCUSDC', '5m')?.rows ?? 0) >= 8);
      assert.deepEqual(
        (await bank.verify()).filter((v) => v.status !== 'ok'),
        [],
      );
    } finally {
      // A failed assertion must not leave the exchange or the watcher running.
      await watcher.stop();
      await got.lock.release();
      await server.close();
      await rm(dir, { recursive: true, force: true });
    }
  },
);
