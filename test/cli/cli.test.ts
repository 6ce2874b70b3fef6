/** The CLI end to end: the bundled `dist/cli.js` (built by `npm test` before the tests run). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { KLINES } from '../helpers/fixtures.ts';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const run = (args: string[], cwd?: string) =>
  spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd });

test('cli: import, resample, list, verify, export, validate, check', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'threadx-cli-'));
  const data = ['--data-dir', path.join(dir, 'data')];
  const zips = ['14', '15'].map((d) =>
    path.join(KLINES, 'hal9000cc', `ETHUSDT-1m-2022-08-${d}.zip`),
  );
  let r = run(['import', ...zips, ...data]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /ETHUSDT-1m-2022-08-14\.zip\s+ETHUSDT\s+1440/);
  r = run(['resample', '--symbol', 'ethusdt', '--intervals', '1h,3h,1d', '--json', ...data]);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(
    JSON.parse(r.stdout).results.map((x: { rows: number }) => x.rows),
    [48, 16, 2],
  );
  r = run(['list', '--json', ...data]);
  assert.deepEqual(
    JSON.parse(r.stdout).datasets.map((d: { id: string }) => d.id),
    ['ETHUSDT/1d', 'ETHUSDT/1h', 'ETHUSDT/1m', 'ETHUSDT/3h'],
  );
  r = run(['verify', ...data]);
  assert.equal(r.status, 0);
  assert.match(r.stdout, /4 file\(s\) checked, 0 problem/);
  const out = path.join(dir, 'eth-1h.csv');
  r = run([
    'export',
    '--symbol',
    'ETHUSDT',
    '--interval',
    '1h',
    '--start',
    '2022-08-15',
    '--out',
    out,
    ...data,
  ]);
  assert.equal(r.status, 0, r.stderr);
  const csv = (await readFile(out, 'utf8')).trim().split('\n');
  assert.equal(csv.length, 25);
  assert.equal(csv[1].split(',')[0], '2022-08-15T00:00:00.000Z');
  r = run(['check', '--symbol', 'ETHUSDT', ...data]);
  assert.equal(r.status, 0);
  assert.match(r.stdout, /ETHUSDT\/1h: consistent with 1m/);
  r = run(['validate', zips[0]]);
  assert.equal(r.status, 0);
  assert.match(
    r.stdout,
    /1440 rows, 1m \(detected from timestamps\), spot, checksum absent, valid, 0 gap/,
  );
  // Re-import changes nothing.
  r = run(['import', ...zips, '--json', ...data]);
  assert.deepEqual(
    JSON.parse(r.stdout).items.map((i: { written: number }) => i.written),
    [0, 0],
  );
  await rm(dir, { recursive: true });
});

test('cli: bad input gets a one-line error naming the problem and exit code 2', () => {
  const cases: [string[], RegExp][] = [
    [
      ['export', '--symbol', '../etc', '--interval', '1h', '--out', '/tmp/x.csv'],
      /Invalid symbol "..\/ETC"/i,
    ],
    [
      ['export', '--symbol', 'BTCUSDT', '--interval', '7m', '--out', '/tmp/x.csv'],
      /unknown interval "7m"/i,
    ],
    [
      [
        'export',
        '--symbol',
        'BTCUSDT',
        '--interval',
        '1h',
        '--start',
        '2024-01-01T10:00',
        '--out',
        '/tmp/x.csv',
      ],
      /naive datetime/i,
    ],
    [
      [
        'export',
        '--symbol',
        'BTCUSDT',
        '--interval',
        '1h',
        '--start',
        '2024-02-30',
        '--out',
        '/tmp/x.csv',
      ],
      /no such calendar day/i,
    ],
    [['resample'], /The option --symbol is required/],
    [['frobnicate'], /There is no command "frobnicate"/],
    [['list', '--bogus'], /There is no option --bogus\./],
  ];
  for (const [args, re] of cases) {
    const r = run([...args, '--data-dir', path.join(tmpdir(), 'threadx-cli-bad')]);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
    assert.equal(r.stderr.trim().split('\n').length, 1, 'one line');
  }
});
