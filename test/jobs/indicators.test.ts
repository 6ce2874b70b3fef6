/**
 * The indicator cache and batch job over a real bank in a temporary folder: cache hits, staleness
 * after new 1m data, values equal to the engine on the full series, verify, bad parameters,
 * cancellation, the after-ingest refresh, and the CLI's output.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultConfig } from '../../schemas/config.ts';
import { Bank } from '../../daemon/store/bank.ts';
import { decodeColumns } from '../../daemon/store/parquet.ts';
import { sha256 } from '../../daemon/store/registry.ts';
import {
  INDICATOR_NAMES,
  IndicatorParamsError,
  OUTPUT_NAMES,
  computeIndicator,
} from '../../daemon/engine/indicators.ts';
import {
  afterIngestChoices,
  indicatorMessages,
  parseIndicatorArgs,
  refreshAfterIngest,
  updateIndicators,
} from '../../daemon/jobs/indicators.ts';
import { synth1m } from '../helpers/synth.ts';

const JAN_2024 = Date.UTC(2024, 0, 1);
const DAY = 86_400_000;
const ALL = INDICATOR_NAMES.map((name) => ({ name }));

async function withBank(
  seed: Record<string, number>,
  fn: (bank: Bank, dir: string) => Promise<void>,
): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'threadx-ind-'));
  try {
    const bank = await Bank.open(dir);
    let i = 0;
    for (const [symbol, days] of Object.entries(seed))
      await bank.write1m(symbol, synth1m(JAN_2024, days * 1440, ++i), 'test');
    await fn(bank, dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function mtimes(bank: Bank): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const d of bank.list().filter((x) => x.kind === 'indicator'))
    out.set(d.id, (await stat(bank.layout.abs(d.files[0].path))).mtimeMs);
  return out;
}

test('first update computes and registers; a second recomputes nothing', async () => {
  await withBank({ BTCUSDT: 3 }, async (bank) => {
    const req = { symbols: ['btcusdt'], intervals: ['1h', '4h'] as const, indicators: ALL };
    const first = await updateIndicators(bank, { ...req, intervals: [...req.intervals] });
    assert.equal(first.items.length, 12);
    assert.equal(first.updated, 12);
    assert.deepEqual(first.derived, ['BTCUSDT/1h', 'BTCUSDT/4h'], 'derived from 1m first');
    const rsi = bank.getIndicator('BTCUSDT', '1h', 'rsi-14')!;
    assert.equal(rsi.id, 'BTCUSDT/1h/rsi-14');
    assert.equal(rsi.kind, 'indicator');
    assert.deepEqual(rsi.indicator, { name: 'rsi', params: { period: 14 } });
    assert.equal(rsi.sourceChecksum, bank.datasetChecksum('BTCUSDT', '1h'));
    assert.equal(rsi.files[0].path, 'indicators_cache/BTCUSDT/1h/rsi-14.parquet');
    assert.equal(rsi.rows, 72);

    const before = await mtimes(bank);
    const sums = bank.list().map((d) => `${d.id}:${d.files[0]?.sha256}:${d.sourceChecksum}`);
    const second = await updateIndicators(bank, { ...req, intervals: [...req.intervals] });
    assert.equal(second.updated, 0);
    assert.equal(second.current, 12);
    assert.deepEqual(second.derived, []);
    assert.deepEqual(await mtimes(bank), before, 'no file rewritten');
    assert.deepEqual(
      bank.list().map((d) => `${d.id}:${d.files[0]?.sha256}:${d.sourceChecksum}`),
      sums,
    );
  });
});

test('cached values equal the engine on the full series, with the source checksum in metadata', async () => {
  await withBank({ ETHUSDT: 4 }, async (bank) => {
    await updateIndicators(bank, {
      symbols: ['ETHUSDT'],
      intervals: ['1m', '15m'],
      indicators: [...ALL, { name: 'bbands', params: { period: 10, k: 1.5 } }],
    });
    for (const interval of ['1m', '15m'] as const) {
      const c = await bank.read('ETHUSDT', interval);
      const n = c.length;
      const series = {
        close: c.close.subarray(0, n),
        high: c.high.subarray(0, n),
        low: c.low.subarray(0, n),
      };
      for (const [name, params, key] of [
        ['sma', {}, 'sma-20'],
        ['ema', {}, 'ema-20'],
        ['rsi', {}, 'rsi-14'],
        ['macd', {}, 'macd-12-26-9'],
        ['bbands', {}, 'bbands-20-2'],
        ['bbands', { period: 10, k: 1.5 }, 'bbands-10-1.5'],
        ['atr', {}, 'atr-14'],
      ] as const) {
        const want = computeIndicator(name, params as never, series) as unknown as Record<
          string,
          Float64Array
        >;
        const entry = bank.getIndicator('ETHUSDT', interval, key)!;
        const file = decodeColumns(await readFile(bank.layout.abs(entry.files[0].path)));
        assert.deepEqual(Object.keys(file.columns), [...OUTPUT_NAMES[name]], key);
        assert.deepEqual(file.timestamp, c.openTime.subarray(0, n), `${key} timestamps`);
        for (const col of OUTPUT_NAMES[name] as readonly string[])
          assert.deepEqual(file.columns[col], want[col], `${interval} ${key}.${col}`);
        assert.equal(file.meta.source_checksum, entry.sourceChecksum);
        assert.equal(file.meta.key, key);
      }
    }
  });
});

test('new 1m data makes the cache stale: re-derived and recomputed', async () => {
  await withBank({ BTCUSDT: 2 }, async (bank) => {
    const req = { symbols: ['BTCUSDT'], intervals: ['1h' as const], indicators: ALL };
    await updateIndicators(bank, req);
    const old = bank.getIndicator('BTCUSDT', '1h', 'macd-12-26-9')!;
    await bank.write1m('BTCUSDT', synth1m(JAN_2024 + 2 * DAY, 1440, 9), 'test');
    const r = await updateIndicators(bank, req);
    assert.deepEqual(r.derived, ['BTCUSDT/1h']);
    assert.equal(r.updated, 6);
    const now = bank.getIndicator('BTCUSDT', '1h', 'macd-12-26-9')!;
    assert.notEqual(now.sourceChecksum, old.sourceChecksum);
    assert.equal(now.sourceChecksum, bank.datasetChecksum('BTCUSDT', '1h'));
    assert.equal(now.rows, 72);
    assert.equal((await updateIndicators(bank, req)).current, 6);
  });
});

test('verify checks indicator files like datasets and detects a corrupted one', async () => {
  await withBank({ BTCUSDT: 2 }, async (bank) => {
    await updateIndicators(bank, { symbols: ['BTCUSDT'], intervals: ['1h'], indicators: ALL });
    let issues = await bank.verify();
    assert.equal(issues.filter((i) => i.status !== 'ok').length, 0, JSON.stringify(issues));
    assert.equal(issues.filter((i) => i.dataset?.startsWith('BTCUSDT/1h/')).length, 6);

    const rsi = bank.getIndicator('BTCUSDT', '1h', 'rsi-14')!;
    const abs = bank.layout.abs(rsi.files[0].path);
    const bytes = await readFile(abs);
    await writeFile(abs, bytes.subarray(0, bytes.length - 40));
    const macd = bank.getIndicator('BTCUSDT', '1h', 'macd-12-26-9')!;
    const mabs = bank.layout.abs(macd.files[0].path);
    const mb = Buffer.from(await readFile(mabs));
    mb[Math.floor(mb.length / 2)] ^= 0xff;
    await writeFile(mabs, mb);
    issues = (await bank.verify()).filter((i) => i.status !== 'ok');
    const byPath = new Map(issues.map((i) => [i.path, i]));
    assert.equal(byPath.get(rsi.files[0].path)?.status, 'corrupt');
    assert.match(byPath.get(macd.files[0].path)?.status ?? '', /^(changed|corrupt)$/);
    assert.equal(byPath.get(macd.files[0].path)?.dataset, 'BTCUSDT/1h/macd-12-26-9');

    // The truncated file no longer has its registered size: the next update rewrites it.
    const r = await updateIndicators(bank, {
      symbols: ['BTCUSDT'],
      intervals: ['1h'],
      indicators: [{ name: 'rsi' }],
    });
    assert.equal(r.updated, 1);
    assert.equal(
      sha256(await readFile(abs)),
      bank.getIndicator('BTCUSDT', '1h', 'rsi-14')!.files[0].sha256,
    );
  });
});

test('bad parameters fail the batch up front with clear messages', async () => {
  await withBank({ BTCUSDT: 1 }, async (bank) => {
    const run = (indicators: { name: string; params?: Record<string, number> }[]) =>
      updateIndicators(bank, { symbols: ['BTCUSDT'], intervals: ['1h'], indicators });
    await assert.rejects(
      run([{ name: 'rsi', params: { period: 0 } }]),
      (e: unknown) =>
        e instanceof IndicatorParamsError && /period must be at least 1/.test(e.message),
    );
    await assert.rejects(
      run([{ name: 'macd', params: { fast: 30, slow: 26 } }]),
      /fast \(30\) must be less than slow \(26\)/,
    );
    await assert.rejects(run([{ name: 'bbands', params: { k: -1 } }]), /k must be greater than 0/);
    await assert.rejects(
      run([{ name: 'rsi', params: { length: 3 } }]),
      /unknown rsi parameter 'length'/,
    );
    await assert.rejects(run([{ name: 'vwap' }]), /unknown indicator 'vwap'/);
    assert.equal(bank.list().filter((d) => d.kind === 'indicator').length, 0, 'nothing written');

    assert.throws(() => parseIndicatorArgs('rsi,foo'), {
      message: indicatorMessages.unknownIndicator('foo'),
    });
    assert.throws(() => parseIndicatorArgs('rsi', 'rsi.period'), {
      message: indicatorMessages.badParamSyntax('rsi.period'),
    });
    assert.throws(() => parseIndicatorArgs('rsi', 'macd.fast=3'), {
      message: indicatorMessages.paramForUnlisted('macd'),
    });
    assert.throws(() => parseIndicatorArgs('rsi', 'rsi.period=abc'), {
      message: indicatorMessages.paramNotANumber('rsi.period=abc'),
    });
    assert.deepEqual(parseIndicatorArgs('RSI,bbands', 'rsi.period=21,bbands.k=2.5'), [
      { name: 'rsi', params: { period: 21 } },
      { name: 'bbands', params: { k: 2.5 } },
    ]);
  });
});

test('per-item failures: no 1m data, or an interval not derived with derive off', async () => {
  await withBank({ BTCUSDT: 1 }, async (bank) => {
    const r = await updateIndicators(bank, {
      symbols: ['BTCUSDT', 'NODATAUSDT'],
      intervals: ['1h'],
      indicators: [{ name: 'rsi' }],
      derive: false,
    });
    assert.deepEqual(
      r.items.map((i) => [i.id, i.status, i.error?.message]),
      [
        ['BTCUSDT/1h/rsi-14', 'failed', indicatorMessages.notDerived('BTCUSDT', '1h')],
        ['NODATAUSDT/1h/rsi-14', 'failed', indicatorMessages.noData('NODATAUSDT')],
      ],
    );
    assert.equal(r.failed, 2);
  });
});

test('cancelled between items: what was written is registered and verifies; a re-run finishes', async () => {
  await withBank({ BTCUSDT: 2, ETHUSDT: 2 }, async (bank) => {
    const req = {
      symbols: ['BTCUSDT', 'ETHUSDT'],
      intervals: ['1h' as const, '4h' as const],
      indicators: ALL,
    };
    const ac = new AbortController();
    const r = await updateIndicators(bank, req, {
      signal: ac.signal,
      onProgress: (p) => {
        if (p.done === 3) ac.abort();
      },
    });
    assert.equal(r.cancelled, true);
    assert.equal(r.items.length, 3);
    assert.equal(bank.list().filter((d) => d.kind === 'indicator').length, 3);
    assert.deepEqual(
      (await bank.verify()).filter((i) => i.status !== 'ok'),
      [],
    );
    const again = await updateIndicators(bank, req);
    assert.equal(again.current, 3);
    assert.equal(again.updated, 21);

    // A reopened bank (registry from disk) sees the same cache as current.
    const reopened = await Bank.open(bank.layout.root);
    assert.equal((await updateIndicators(reopened, req)).current, 24);
  });
});

test('after ingest: configured indicators refreshed for the given symbols and intervals', async () => {
  await withBank({ BTCUSDT: 2 }, async (bank) => {
    const config = defaultConfig();
    const warnings: string[] = [];
    assert.equal(await refreshAfterIngest(bank, config, ['BTCUSDT'], ['1h']), null);
    config.indicators.after_ingest = ['rsi', 'bbands:period=10,k=1.5', 'nope', 'sma:period=0'];
    const choices = afterIngestChoices(config.indicators.after_ingest, (m) => warnings.push(m));
    assert.deepEqual(choices, [
      { name: 'rsi', params: {} },
      { name: 'bbands', params: { period: 10, k: 1.5 } },
    ]);
    assert.equal(warnings.length, 2);
    assert.match(warnings[0], /ignoring indicators\.after_ingest entry "nope"/);
    const r = await refreshAfterIngest(bank, config, ['BTCUSDT'], ['1h', '4h']);
    assert.deepEqual(
      r!.items.map((i) => `${i.id} ${i.status}`),
      [
        'BTCUSDT/1h/rsi-14 updated',
        'BTCUSDT/1h/bbands-10-1.5 updated',
        'BTCUSDT/4h/rsi-14 updated',
        'BTCUSDT/4h/bbands-10-1.5 updated',
      ],
    );
  });
});

const BIN = fileURLToPath(new URL('../../daemon/cli/bin.ts', import.meta.url));
const cli = (args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', BIN, ...args], { encoding: 'utf8' });

test('cli: threadx indicators prints a per-item table and ends with "Updated N indicator(s)"', async () => {
  await withBank({ BTCUSDT: 2, ETHUSDT: 2 }, async (_bank, dir) => {
    const args = [
      'indicators',
      '--symbols',
      'BTCUSDT,ETHUSDT',
      '--intervals',
      '1h,4h',
      '--indicators',
      'rsi,macd,bbands',
      '--params',
      'rsi.period=21,bbands.k=2.5',
      '--data-dir',
      dir,
    ];
    let r = cli(args);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines.at(-1), indicatorMessages.updated(12));
    assert.match(r.stdout, /^symbol\s+interval\s+indicator\s+status\s+rows/);
    assert.match(r.stdout, /BTCUSDT\s+1h\s+rsi-21\s+updated\s+48/);
    assert.match(r.stdout, /ETHUSDT\s+4h\s+bbands-20-2\.5\s+updated\s+12/);

    r = cli(args);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /BTCUSDT\s+1h\s+rsi-21\s+current\s+48/);
    assert.equal(r.stdout.trimEnd().split('\n').at(-1), indicatorMessages.updated(0));

    r = cli([...args, '--json']);
    const json = JSON.parse(r.stdout) as { ok: boolean; current: number; message: string };
    assert.equal(json.ok, true);
    assert.equal(json.current, 12);
    assert.equal(json.message, indicatorMessages.updated(0));

    r = cli(['indicators', '--symbols', 'BTCUSDT', '--params', 'rsi.period=0', '--data-dir', dir]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /Invalid rsi parameters: period must be at least 1\./);
    r = cli(['indicators', '--symbols', 'BTCUSDT', '--indicators', 'vwap', '--data-dir', dir]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /Unknown indicator 'vwap'/);

    r = cli(['verify', '--data-dir', dir]);
    assert.equal(r.status, 0, r.stdout);
    assert.match(r.stdout, /18 file\(s\) checked, 0 problem/);
  });
});
