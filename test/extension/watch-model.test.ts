import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { WatchStatusResult } from '../../schemas/protocol.ts';
import { lagText, parseWatchSymbols, watchView } from '../../extension/watch-model.ts';

const base: WatchStatusResult = {
  state: 'following',
  symbols: ['BTCUSDC', 'ETHUSDC'],
  intervals: ['5m'],
  connections: 1,
  connected: 1,
  lastStored: Date.UTC(2024, 2, 5, 12, 4),
  lagMs: 2400,
  stored: 10,
  backfilled: 2,
  corrected: 1,
  restWeight: 9,
  reconnects: 0,
};

describe('watch status bar', () => {
  it('shows the symbols, the last stored minute and the lag while following', () => {
    const v = watchView(base);
    assert.equal(v.visible, true);
    assert.equal(v.text, '$(pulse) Watch 2 · 12:04 · lag 2 s');
    assert.match(v.tooltip, /Watching BTCUSDC, ETHUSDC/);
    assert.match(v.tooltip, /10 minute\(s\) stored, 2 by REST, 1 corrected/);
  });
  it('says when a stream is down, when catching up, failed, and hides when idle', () => {
    assert.match(watchView({ ...base, connected: 0 }).text, /debug-disconnect/);
    assert.match(watchView({ ...base, state: 'catching-up' }).text, /catching up/);
    const f = watchView({ ...base, state: 'failed', error: 'no network' });
    assert.equal(f.error, true);
    assert.match(f.tooltip, /no network/);
    assert.equal(watchView({ ...base, state: 'idle', symbols: [] }).visible, false);
  });
  it('writes the lag in seconds, then minutes', () => {
    assert.equal(lagText(59_400), '59 s');
    assert.equal(lagText(600_000), '10 min');
  });
  it('parses the typed symbols and names a bad one', () => {
    assert.deepEqual(parseWatchSymbols('btcusdc, ethusdc btcusdc'), {
      symbols: ['BTCUSDC', 'ETHUSDC'],
    });
    assert.match(
      (parseWatchSymbols('BTC-USDC') as { error: string }).error,
      /BTC-USDC is not a symbol/,
    );
    assert.match((parseWatchSymbols(' , ') as { error: string }).error, /at least one symbol/);
  });
});
