/**
 * Why a minute is missing: a bank of real ETHUSDT minutes around Binance's 2023-03-24 spot halt
 * (12:40-13:59 UTC have no kline), a short outage filled with flagged candles, a failed fetch, a
 * day confirmed empty before the first candle (before listing) and a day never asked. Every minute
 * of the range is counted in its one class, per day and per hour, by `coverage/get`, by
 * `threadx coverage` and by the MCP coverage tool's use case.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { candlesFromRows } from '../../schemas/candles.ts';
import { ResponseError } from '../../daemon/rpc/client.ts';
import { main } from '../../daemon/cli/main.ts';
import { coverage } from '../../daemon/app/coverage.ts';
import { startHarness, type Harness } from '../helpers/harness.ts';
import { KLINES } from '../helpers/fixtures.ts';

const T = (s: string): number => Date.parse(s);

/** The recorded 1m rows of ETHUSDT in [start, end), minus the `drop` ranges. */
function ethRows(start: number, end: number, drop: [number, number][]): number[][] {
  const rows = JSON.parse(
    gunzipSync(
      readFileSync(path.join(KLINES, 'freqtrade_andresciancio', 'ETH_USDT-1m.json.gz')),
    ).toString('utf8'),
  ) as number[][];
  return rows.filter(
    (r) => r[0] >= start && r[0] < end && !drop.some(([s, e]) => r[0] >= s && r[0] < e),
  );
}

const HALT: [number, number] = [T('2023-03-24T12:40Z'), T('2023-03-24T14:00Z')];
const SHORT: [number, number] = [T('2023-03-25T10:00Z'), T('2023-03-25T10:10Z')];
const FAILED: [number, number] = [T('2023-03-25T20:00Z'), T('2023-03-25T20:30Z')];
const UNLISTED: [number, number] = [T('2023-03-23T00:00Z'), T('2023-03-24T00:00Z')];

async function bank(): Promise<Harness> {
  // Gaps up to an hour are filled: the 80-minute halt stays an outage, the 10 minutes are filled.
  const h = await startHarness({
    seed: {},
    config: (c) => {
      c.data.processing.max_gap_fill_hours = 1;
    },
  });
  const rows = ethRows(T('2023-03-24T00:00Z'), T('2023-03-26T00:00Z'), [SHORT, FAILED]);
  // The recording itself has no row in the halt: the real outage.
  assert.equal(rows.filter((r) => r[0] >= HALT[0] && r[0] < HALT[1]).length, 0);
  const b = h.daemon.bank;
  await b.addConfirmedEmpty('ETHUSDT', [UNLISTED, HALT, SHORT]);
  await b.write1m('ETHUSDT', candlesFromRows(rows), 'test');
  h.daemon.services.registry.diff();
  assert.equal(b.get('ETHUSDT', '1m')!.filledCount, 10);
  return h;
}

const zero = { real: 0, filled: 0, outage: 0, unlisted: 0, notFetched: 0, failed: 0 };
const RANGE = { start: '2023-03-22', end: '2023-03-26T06:00Z' };
const TOTAL = { real: 2760, filled: 10, outage: 80, unlisted: 1440, notFetched: 1800, failed: 30 };
/** Per day, 2023-03-22 .. 2023-03-26 (the last one partial, to 06:00). */
const DAYS = [
  { ...zero, notFetched: 1440 },
  { ...zero, unlisted: 1440 },
  { ...zero, real: 1360, outage: 80 },
  { ...zero, real: 1400, filled: 10, failed: 30 },
  { ...zero, notFetched: 360 },
];

type Counts = Record<keyof typeof zero, number[]>;
const column = (counts: Counts, i: number) =>
  Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, v[i]]));

async function capture(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  const writeErr = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string) => (out.push(String(s)), true)) as typeof write;
  process.stderr.write = ((s: string) => (err.push(String(s)), true)) as typeof writeErr;
  try {
    const code = await main(argv);
    return { code, out: out.join(''), err: err.join('') };
  } finally {
    process.stdout.write = write;
    process.stderr.write = writeErr;
  }
}

test('coverage/get: each minute in one class, per day and per hour, around the real 2023-03-24 halt', async () => {
  const h = await bank();
  try {
    const r = await h.client.request('coverage/get', {
      symbols: ['ETHUSDT', 'BTCUSDT'],
      ...RANGE,
      bucket: 'day',
    });
    assert.equal(r.bucket, 'day');
    assert.equal(r.start, T('2023-03-22T00:00Z'));
    assert.equal(r.end, T('2023-03-26T06:00Z'));
    assert.deepEqual(
      r.buckets.map((t) => new Date(t).toISOString().slice(0, 10)),
      ['2023-03-22', '2023-03-23', '2023-03-24', '2023-03-25', '2023-03-26'],
    );
    const [eth, btc] = r.symbols;
    assert.deepEqual(eth.total, TOTAL);
    assert.equal(eth.held, true);
    assert.deepEqual(
      DAYS.map((_, i) => column(eth.counts, i)),
      DAYS,
    );
    // A symbol the bank holds nothing of: all of it not fetched.
    assert.equal(btc.held, false);
    assert.deepEqual(btc.total, { ...zero, notFetched: 6120 });

    // 3 days or less: per hour by default.
    const hr = await h.client.request('coverage/get', {
      symbols: ['ETHUSDT'],
      start: '2023-03-24T11:00Z',
      end: '2023-03-25T21:00Z',
    });
    assert.equal(hr.bucket, 'hour');
    assert.equal(hr.buckets.length, 34);
    const at = (iso: string) => column(hr.symbols[0].counts, hr.buckets.indexOf(T(iso)));
    assert.deepEqual(at('2023-03-24T11:00Z'), { ...zero, real: 60 });
    assert.deepEqual(at('2023-03-24T12:00Z'), { ...zero, real: 40, outage: 20 });
    assert.deepEqual(at('2023-03-24T13:00Z'), { ...zero, outage: 60 });
    assert.deepEqual(at('2023-03-24T14:00Z'), { ...zero, real: 60 });
    assert.deepEqual(at('2023-03-25T10:00Z'), { ...zero, real: 50, filled: 10 });
    assert.deepEqual(at('2023-03-25T20:00Z'), { ...zero, real: 30, failed: 30 });
    assert.deepEqual(hr.symbols[0].total, {
      ...zero,
      real: 34 * 60 - 80 - 10 - 30,
      outage: 80,
      filled: 10,
      failed: 30,
    });

    // An empty range is refused, naming the problem.
    await assert.rejects(
      h.client.request('coverage/get', {
        symbols: ['ETHUSDT'],
        start: '2023-03-25',
        end: '2023-03-24',
      }),
      (e: unknown) =>
        e instanceof ResponseError &&
        /not before end/.test(e.message) &&
        (e.data as { reason?: string }).reason === 'INVALID_RANGE',
    );

    // The MCP coverage tool's use case counts the same classes over what the bank knows.
    const cov = await coverage(h.daemon.services, 'ETHUSDT');
    assert.deepEqual(cov.minutes, { ...TOTAL, notFetched: 0 });
  } finally {
    await h.close();
  }
});

test('threadx coverage: totals, --by day rows, --json, and clear refusals', async () => {
  const h = await bank();
  try {
    const data = ['--data-dir', h.dir];
    let r = await capture([
      'coverage',
      '--symbols',
      'ETHUSDT',
      '--start',
      RANGE.start,
      '--end',
      RANGE.end,
      '--by',
      'day',
      '--json',
      ...data,
    ]);
    assert.equal(r.code, 0, r.out + r.err);
    const j = JSON.parse(r.out) as { ok: boolean; symbols: { total: object; counts: Counts }[] };
    assert.equal(j.ok, true);
    assert.deepEqual(j.symbols[0].total, TOTAL);
    assert.deepEqual(
      DAYS.map((_, i) => column(j.symbols[0].counts, i)),
      DAYS,
    );

    r = await capture(['coverage', '--symbols', 'ETHUSDT', ...data]);
    assert.equal(r.code, 0, r.err);
    const lines = r.out.trim().split('\n');
    assert.match(
      lines[0],
      /^minutes of 2023-03-23T00:00Z \.\. 2023-03-26T00:00Z \(4320 per symbol\)/,
    );
    assert.match(lines[1], /^symbol\s+real\s+filled\s+outage\s+unlisted\s+not fetched\s+failed$/);
    assert.match(lines[3], /^ETHUSDT\s+2760\s+10\s+80\s+1440\s+0\s+30$/);

    // The README's example, as printed.
    r = await capture([
      'coverage',
      '--symbols',
      'ETHUSDT',
      '--start',
      '2023-03-24T12:00Z',
      '--end',
      '2023-03-24T14:00Z',
      ...data,
    ]);
    assert.equal(
      r.out,
      [
        'minutes of 2023-03-24T12:00Z .. 2023-03-24T14:00Z (120 per symbol)',
        'symbol   real  filled  outage  unlisted  not fetched  failed',
        '-------  ----  ------  ------  --------  -----------  ------',
        'ETHUSDT    40       0      80         0            0       0',
        '',
      ].join('\n'),
    );
    r = await capture([
      'coverage',
      '--symbols',
      'ETHUSDT',
      '--start',
      '2023-03-24T12:00Z',
      '--end',
      '2023-03-24T14:00Z',
      '--by',
      'hour',
      ...data,
    ]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /ETHUSDT\s+2023-03-24T12:00Z\s+40\s+0\s+20\s+0\s+0\s+0/);
    assert.match(r.out, /ETHUSDT\s+2023-03-24T13:00Z\s+0\s+0\s+60\s+0\s+0\s+0/);

    // `threadx list`: the missing minutes inside the 1m span, by class.
    r = await capture(['list', ...data]);
    assert.match(r.out, /^dataset\s.*\sgaps\s+filled\s+outage\s+failed\s+files/m);
    assert.match(r.out, /^ETHUSDT\/1m\s+spot\s+klines\s+2770\s.*\s2\s+10\s+80\s+30\s+1\s/m);
    r = await capture(['list', '--json', ...data]);
    const l = JSON.parse(r.out) as { datasets: { id: string; outageMinutes?: number }[] };
    assert.deepEqual(
      l.datasets.map((d) => [d.id, d.outageMinutes]),
      [['ETHUSDT/1m', 80]],
    );

    r = await capture(['coverage', '--symbols', 'ETHUSDT', '--by', 'week', ...data]);
    assert.equal(r.code, 2);
    assert.match(r.err, /--by takes day or hour, not "week"/);
    r = await capture(['coverage', ...data]);
    assert.equal(r.code, 2);
    assert.match(r.err, /--symbols is required/);
    r = await capture(['coverage', '--symbols', 'SOLUSDT', '--json', ...data]);
    assert.equal(r.code, 2);
    assert.match(r.out, /"code":"NOT_FOUND".*nothing of SOLUSDT to take a range from/);
    r = await capture([
      'coverage',
      '--symbols',
      'SOLUSDT',
      ...Object.values(RANGE).flatMap((v, i) => [i ? '--end' : '--start', v]),
      ...data,
    ]);
    assert.equal(r.code, 2);
    assert.match(r.err, /The bank holds no 1m candles of SOLUSDT\. List what the bank holds/);
    r = await capture(['coverage', '--symbols', 'ETHUSDT', '--data-dir', path.join(h.dir, 'nope')]);
    assert.equal(r.code, 2);
    assert.match(r.err, /There is no bank at/);
  } finally {
    await h.close();
  }
});
