/**
 * The kline stream client against the replay's streams: symbols split over connections, a
 * connection replaced before its maximum age, and one the server closes or cuts reconnected, each
 * reported with the moment it was lost.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startReplayServer } from '../../daemon/replay/server.ts';
import { KlineStream, type StreamKline, type StreamState } from '../../daemon/sources/stream.ts';

test('stream client: split over connections, replaced at its age, reconnected after a cut', async () => {
  const server = await startReplayServer({ stream: { tickMs: 20, updateMs: 100 } });
  const states: StreamState[] = [];
  const klines: StreamKline[] = [];
  let waiter: (() => void) | undefined;
  const until = (ok: () => boolean): Promise<void> =>
    new Promise((resolve) => {
      waiter = () => ok() && resolve();
      waiter();
    });
  const stream = new KlineStream({
    wsUrl: server.wsUrl,
    symbols: ['BTCUSDC', 'ETHUSDC', 'SOLUSDC'],
    maxStreams: 2,
    maxAgeMs: 1500,
    retryMs: 50,
    onKline: (k) => {
      klines.push(k);
      waiter?.();
    },
    onState: (s) => {
      states.push(s);
      waiter?.();
    },
  });
  assert.equal(stream.connections, 2);
  stream.start();
  const connected = () => states.filter((s) => s.state === 'connected').length;
  await until(() => connected() >= 2 && new Set(klines.map((k) => k.symbol)).size === 3);
  assert.ok(klines.every((k) => !k.final && k.candle.length === 1));
  // Replaced before the age limit: reason "age", then connected again.
  await until(
    () =>
      states.filter((s) => s.state === 'reconnecting' && s.reason === 'age').length >= 2 &&
      connected() >= 4,
  );
  // A cut (no close frame) is a drop: reconnected, with the moment it was lost.
  const before = connected();
  const t = Date.now();
  server.streams.cutAll();
  const drops = (): Array<Extract<StreamState, { state: 'reconnecting' }>> =>
    states.filter(
      (s): s is Extract<StreamState, { state: 'reconnecting' }> =>
        s.state === 'reconnecting' && s.reason === 'dropped',
    );
  await until(() => drops().length >= 2 && connected() >= before + 2);
  assert.ok(drops().every((d) => d.since <= t + 50));
  await stream.stop();
  await server.close();
});
