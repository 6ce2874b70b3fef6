import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCodes, type DatasetSummary } from '../../schemas/protocol.ts';
import { describeError, isCancelled } from '../../extension/errors.ts';
import {
  formToParams,
  parseSymbolList,
  validateDate,
  validateTopN,
} from '../../extension/ingest-form.ts';
import { messages } from '../../extension/messages.ts';
import { overallPercentage, planView, symbolView } from '../../extension/plan.ts';
import {
  buildTree,
  changedSymbols,
  datasetLocation,
  detailRows,
  mergeDatasets,
  timeframeDescription,
  verifyStateFrom,
} from '../../extension/tree-model.ts';
import type { IngestForm } from '../../webviews/messages.ts';
import { filterDatasets, registryCsv, sortDatasets } from '../../webviews/registry-table.ts';
import { summarize } from '../../daemon/app/registry-view.ts';
import type { DatasetEntry } from '../../schemas/registry.ts';

function ds(id: string, extra: Partial<DatasetSummary> = {}): DatasetSummary {
  const [symbol, interval] = id.split('/');
  return {
    id,
    symbol,
    interval: interval as DatasetSummary['interval'],
    kind: id.split('/').length > 2 ? 'indicator' : 'candles',
    rows: 10,
    first: Date.UTC(2024, 0, 1),
    last: Date.UTC(2024, 0, 2),
    gaps: 0,
    missing: 0,
    filled: 0,
    files: 1,
    bytes: 2048,
    updated: 0,
    derived: interval !== '1m',
    ...extra,
  };
}

describe('tree model', () => {
  const datasets = [
    ds('ETHUSDC/1h'),
    ds('BTCUSDC/1d'),
    ds('BTCUSDC/1m', { rows: 1440 }),
    ds('BTCUSDC/1h', { gaps: 1, missing: 3 }),
    ds('BTCUSDC/1h/rsi_14'),
  ];

  it('groups symbol → timeframes in interval order, indicators under their timeframe', () => {
    const tree = buildTree(datasets, undefined);
    assert.deepEqual(
      tree.map((s) => s.symbol),
      ['BTCUSDC', 'ETHUSDC'],
    );
    assert.deepEqual(
      tree[0].timeframes.map((t) => t.interval),
      ['1m', '1h', '1d'],
    );
    assert.deepEqual(
      tree[0].timeframes[1].indicators.map((i) => i.id),
      ['BTCUSDC/1h/rsi_14'],
    );
    const rows = detailRows(tree[0].timeframes[1]);
    assert.equal(rows.find((r) => r.label === 'Gaps')?.description, '1 (3 candles missing)');
    assert.equal(rows.find((r) => r.label === 'Checksum')?.description, 'not verified');
    assert.equal(rows.find((r) => r.label === 'Indicators')?.description, 'rsi_14');
  });

  it('marks datasets with verify problems', () => {
    const verify = verifyStateFrom(true, [
      {
        path: 'processed/BTCUSDC/1d.parquet',
        status: 'corrupt',
        dataset: 'BTCUSDC/1d',
        detail: 'bad magic',
      },
    ]);
    const tree = buildTree(datasets, verify);
    assert.equal(tree[0].checksum, 'problem');
    assert.equal(tree[0].timeframes[2].checksum, 'problem');
    assert.equal(tree[0].timeframes[0].checksum, 'ok');
    assert.equal(tree[1].checksum, 'ok');
  });

  it("shows the daemon's persisted integrity record, whatever the extension saw", () => {
    const at = Date.UTC(2024, 0, 3, 10, 0);
    const tree = buildTree(
      [
        ds('BTCUSDC/1m', { integrity: { state: 'verified', at } }),
        ds('BTCUSDC/1h', { integrity: { state: 'not-verified' }, pending: 1 }),
        ds('BTCUSDC/1d', { integrity: { state: 'changed', at, since: at - 86_400_000 } }),
        ds('BTCUSDC/1w', {
          integrity: { state: 'corrupt', at, reason: 'the file is truncated (10 of 2048 bytes)' },
        }),
      ],
      // An extension-side verify that saw nothing wrong must not hide the daemon's findings.
      verifyStateFrom(true, []),
    );
    const [m1, h1, d1, w1] = tree[0].timeframes;
    const text = (t: typeof m1): string | undefined =>
      detailRows(t).find((r) => r.label === 'Checksum')?.description;
    assert.equal(text(m1), 'verified 2024-01-03 10:00 UTC');
    assert.equal(m1.checksum, 'ok');
    assert.equal(text(h1), 'not verified');
    assert.equal(h1.checksum, 'unverified');
    assert.equal(text(d1), 'changed since 2024-01-02 10:00 UTC');
    assert.equal(text(w1), 'corrupt: the file is truncated (10 of 2048 bytes)');
    assert.equal(w1.checksum, 'problem');
    assert.equal(tree[0].checksum, 'problem');
    assert.match(timeframeDescription(h1), /1 edge bucket pending/);
    assert.match(
      detailRows(h1).find((r) => r.label === 'Pending')?.description ?? '',
      /1 edge bucket/,
    );
    assert.match(timeframeDescription(w1), /corrupt: the file is truncated/);
  });

  it('a file changed on disk since its verify reads "changed" in the tree and the table alike', () => {
    const at = Date.UTC(2024, 0, 3, 10, 0);
    const entry: DatasetEntry = {
      id: 'BTCUSDC/1h',
      symbol: 'BTCUSDC',
      interval: '1h',
      kind: 'candles',
      files: [
        {
          path: 'processed/BTCUSDC/1h.parquet',
          sha256: 'ab'.repeat(32),
          bytes: 2048,
          rows: 24,
          first: at,
          last: at,
          gaps: [],
          filledCount: 0,
          writtenAt: at - 1000,
          mtime: at - 1000,
          verify: { at, status: 'ok' },
        },
      ],
      rows: 24,
      first: at,
      last: at,
      gaps: [],
      filledCount: 0,
      source: ['derived'],
      updated: at,
    };
    // What the daemon's registry/list answers: the registry says verified, the disk disagrees.
    const seen = new Map([['processed/BTCUSDC/1h.parquet', { bytes: 2048, mtime: at + 5000 }]]);
    const listed = summarize(entry, undefined, seen);
    assert.equal(listed.integrity?.state, 'changed');
    const [node] = buildTree([listed], undefined)[0].timeframes;
    assert.equal(node.checksum, 'problem');
    assert.equal(node.integrity, 'changed since 2024-01-03 10:00 UTC');
    assert.match(timeframeDescription(node), /changed since 2024-01-03 10:00 UTC/);
    assert.match(registryCsv([listed], [listed]), /,changed since 2024-01-03T10:00:00\.000Z,/);
    // Unchanged on disk: verified.
    const same = new Map([['processed/BTCUSDC/1h.parquet', { bytes: 2048, mtime: at - 1000 }]]);
    assert.equal(summarize(entry, undefined, same).integrity?.state, 'verified');
  });

  it('knows where a dataset lives', () => {
    const listed = [
      { ...ds('BTCUSDC/1m'), path: '/bank/processed/BTCUSDC/1m' },
      { ...ds('BTCUSDC/4h'), path: '/bank/processed/BTCUSDC/4h.parquet' },
    ];
    assert.equal(datasetLocation(listed, 'BTCUSDC', '1m'), '/bank/processed/BTCUSDC/1m');
    assert.equal(datasetLocation(listed, 'BTCUSDC', '4h'), '/bank/processed/BTCUSDC/4h.parquet');
    assert.equal(datasetLocation(listed, 'ETHUSDC', '4h'), undefined);
  });
});

describe('ingest form', () => {
  const form: IngestForm = {
    mode: 'list',
    symbols: 'btcusdc, ethusdc ETHUSDC',
    topN: 10,
    quote: 'USDC',
    group: 'L1',
    intervals: ['1h'],
    start: '2024-01-01',
    end: '',
    source: 'auto',
  };

  it('parses symbol lists', () => {
    assert.deepEqual(parseSymbolList('btcusdc, ethusdc\nETHUSDC;x/y'), {
      symbols: ['BTCUSDC', 'ETHUSDC'],
      bad: ['X/Y'],
    });
  });

  it('builds ingest/run params per mode', () => {
    const r = formToParams(form);
    assert.ok(r.ok);
    assert.deepEqual(r.params.symbols, ['BTCUSDC', 'ETHUSDC']);
    const top = formToParams({ ...form, mode: 'top', topN: 100, quote: 'usdc' }, true);
    assert.ok(top.ok);
    assert.deepEqual(top.params.top, { n: 100, quote: 'USDC' });
    assert.equal(top.params.dryRun, true);
    const group = formToParams({ ...form, mode: 'group' });
    assert.ok(group.ok && group.params.group === 'L1' && !group.params.symbols);
  });

  it('reports every problem by field, in words', () => {
    const r = formToParams({ ...form, mode: 'single', start: '2024-13-01', end: '2023-01-01' });
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.match(r.errors.symbols!, /Single mode takes one symbol/);
    assert.match(r.errors.start!, /no such calendar day|invalid date/);
    const e = formToParams({ ...form, end: '2023-01-01' });
    assert.ok(!e.ok && e.errors.end === messages.endBeforeStart());
    assert.equal(validateDate('2024-01-01T10:00'), validateDate('2024-01-01T10:00'));
    assert.match(validateDate('2024-01-01T10:00')!, /time zone/);
    assert.equal(validateTopN('501'), messages.topNInvalid());
    assert.equal(validateTopN('100'), undefined);
  });
});

describe('plan and errors', () => {
  it('estimates weight and time of a plan', () => {
    const v = planView(
      {
        items: [],
        totals: { candles: 100_000, requests: 100, archives: 0 },
      } as unknown as Parameters<typeof planView>[0],
      { concurrency: 4 },
    );
    assert.equal(v.weight, 200);
    assert.ok(v.seconds > 0);
    assert.equal(overallPercentage([100, 50]), 75);
    assert.equal(overallPercentage([]), 0);
  });

  it('keeps the symbols a run would not download, with the reason', () => {
    const v = planView(
      {
        items: [],
        skipped: [
          {
            symbol: 'NOPEUSDT',
            status: 'UNKNOWN',
            reason: 'NOPEUSDT is not listed on the exchange',
          },
        ],
        totals: { candles: 0, requests: 0, archives: 0 },
      } as unknown as Parameters<typeof planView>[0],
      { concurrency: 4 },
    );
    assert.deepEqual(
      v.skipped.map((s) => [s.symbol, s.reason]),
      [['NOPEUSDT', 'NOPEUSDT is not listed on the exchange']],
    );
    const old = planView(
      { items: [], totals: { candles: 0, requests: 0, archives: 0 } } as unknown as Parameters<
        typeof planView
      >[0],
      { concurrency: 4 },
    );
    assert.deepEqual(old.skipped, [], 'a plan without the list skips nothing');
  });

  it('registry/changed: only the named symbols are listed again and replaced', () => {
    assert.deepEqual(changedSymbols(['ETHUSDC/1m', 'BTCUSDC/1h'], ['BTCUSDC/4h']), [
      'BTCUSDC',
      'ETHUSDC',
    ]);
    assert.deepEqual(changedSymbols([], []), []);
    const d = (id: string) =>
      ({ id, symbol: id.split('/')[0], interval: id.split('/')[1] }) as DatasetSummary;
    const merged = mergeDatasets(
      [d('BTCUSDC/1h'), d('BTCUSDC/4h'), d('SOLUSDC/1m')],
      ['BTCUSDC', 'ETHUSDC'],
      [d('BTCUSDC/1h'), d('ETHUSDC/1m')],
    );
    assert.deepEqual(
      merged.map((x) => x.id),
      ['BTCUSDC/1h', 'ETHUSDC/1m', 'SOLUSDC/1m'],
    );
  });

  it("a symbol's bar from the daemon's per-symbol progress", () => {
    const s = { symbol: 'BTCUSDC', rows: 0, requestsDone: 0, requestsTotal: 8 };
    assert.deepEqual(symbolView({ ...s, phase: 'queued' }), { state: 'queued', percentage: 0 });
    assert.deepEqual(
      symbolView({ ...s, phase: 'fetch', requestsDone: 2, message: '2 request(s)' }),
      {
        state: 'running',
        percentage: 25,
        message: '2 request(s)',
      },
    );
    // All requests done but not yet written: not 100 until the daemon says done.
    assert.equal(symbolView({ ...s, phase: 'write', requestsDone: 8 }).percentage, 99);
    assert.deepEqual(symbolView({ ...s, phase: 'done', requestsDone: 8 }), {
      state: 'done',
      percentage: 100,
    });
    assert.equal(symbolView({ ...s, phase: 'skipped', message: 'not listed' }).state, 'failed');
    assert.equal(symbolView({ ...s, phase: 'error' }).state, 'failed');
  });

  it('turns daemon errors into words', () => {
    assert.equal(isCancelled({ code: ErrorCodes.RequestCancelled }), true);
    assert.match(
      describeError({ code: ErrorCodes.RateLimited, message: 'x', data: { retryAfterMs: 2500 } }),
      /try again in 3 s/,
    );
    assert.equal(
      describeError({
        code: ErrorCodes.InvalidParams,
        message: 'bad',
        data: { issues: [{ path: ['symbols', 0], message: 'invalid symbol' }] },
      }),
      'symbols.0: invalid symbol',
    );
    assert.match(
      messages.downloadDone(4, 17280, 0, 1500),
      /^Downloaded 17,280 candles for 4 symbols in 1\.5 s\.$/,
    );
    assert.equal(messages.indicatorsDone(1), 'Updated 1 indicator.');
    assert.equal(messages.indicatorsDone(3), 'Updated 3 indicators.');
  });
});

describe('registry table', () => {
  const rows = [
    ds('ETHUSDC/1h', { rows: 5 }),
    ds('BTCUSDC/1h', { rows: 50 }),
    ds('BTCUSDC/4h', { rows: 7 }),
  ];
  it('filters on every term and sorts by any column', () => {
    assert.deepEqual(
      filterDatasets(rows, 'btc 4h').map((r) => r.id),
      ['BTCUSDC/4h'],
    );
    assert.deepEqual(
      sortDatasets(rows, 'rows', true).map((r) => r.rows),
      [50, 7, 5],
    );
    assert.deepEqual(
      sortDatasets(rows, 'id', false).map((r) => r.id),
      ['BTCUSDC/1h', 'BTCUSDC/4h', 'ETHUSDC/1h'],
    );
  });
});
