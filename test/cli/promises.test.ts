/**
 * The command line keeps README.md's promises: a --help for every command, the exit codes for bad
 * input, read-only commands that never create a bank, strict configuration files, and
 * configuration keys that take effect. Runs the bundled `dist/cli.js` (built by `npm test`).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { HELP } from '../../daemon/cli/help.ts';
import { COMMANDS } from '../../daemon/cli/commands.ts';
import { parseConfigText } from '../../daemon/store/config.ts';
import { startReplayServer, type ReplayServer } from '../../daemon/replay/server.ts';
import { restClientFromConfig } from '../../daemon/sources/rest.ts';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

/** Runs the CLI without blocking this process (the replay exchange answers from here). */
function run(
  args: string[],
  cwd?: string,
): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd }, (err, stdout, stderr) => {
      const status = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ status, stdout, stderr });
    });
  });
}

let server: ReplayServer;
let dir: string;
before(async () => {
  server = await startReplayServer({ now: Date.UTC(2023, 4, 1, 21, 3) });
  dir = await mkdtemp(path.join(tmpdir(), 'threadx-promises-'));
});
after(async () => {
  await server.close();
});

const BUILT_IN = ['import', 'resample', 'list', 'verify', 'check', 'export', 'validate'];

test('every command has a --help that lists each of its options on a line', async () => {
  for (const name of [...BUILT_IN, ...COMMANDS.map((c) => c.name)]) {
    assert.ok(HELP[name], `${name} has a help entry`);
    const r = await run([name, '--help']);
    assert.equal(r.status, 0, `${name} --help: ${r.stderr}`);
    assert.match(r.stdout, new RegExp(`^Usage: threadx ${name}`), name);
    for (const [flag] of HELP[name].options)
      assert.ok(
        r.stdout.split('\n').some((l) => l.trimStart().startsWith(flag)),
        `${name}: ${flag}`,
      );
    // Every option the command parses is documented.
    const parsed = Object.keys(COMMANDS.find((c) => c.name === name)?.options ?? {});
    for (const opt of parsed)
      assert.match(r.stdout, new RegExp(`^  --${opt}\\b`, 'm'), `${name} --help lists --${opt}`);
    // A command that reads no bank does not offer --data-dir.
    if (HELP[name].noBank || HELP[name].common) assert.doesNotMatch(r.stdout, /--data-dir/, name);
    else assert.match(r.stdout, /^ {2}--data-dir DIR/m, name);
  }
  // replay has the same layout, and takes none of the bank's options.
  const replay = await run(['replay', '--help']);
  assert.equal(replay.status, 0);
  assert.match(replay.stdout, /^ {2}--now TIME/m);
  assert.doesNotMatch(replay.stdout, /--data-dir|--config|--json/);
});

test('bad input exits 2: end before start, start after the exchange time, no symbols', async () => {
  const data = ['--data-dir', path.join(dir, 'bank'), '--base-url', server.url];
  const cases: Array<[string[], RegExp]> = [
    [
      ['--symbols', 'BTCUSDT', '--start', '2023-04-10', '--end', '2023-04-01'],
      /is not after the start/,
    ],
    [['--symbols', 'BTCUSDT', '--start', '2023-06-01'], /not before the exchange's current time/],
    [['--symbols', ' , ', '--start', '2023-04-01'], /symbol list is empty/],
  ];
  for (const [args, message] of cases) {
    const r = await run(['ingest', ...args, ...data]);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    const j = await run(['ingest', ...args, ...data, '--json']);
    assert.equal(j.status, 2);
    assert.equal(JSON.parse(j.stdout).ok, false);
  }
});

test('read-only commands on a folder without a bank exit 2 and create nothing', async () => {
  const missing = path.join(dir, 'typo');
  const empty = path.join(dir, 'empty');
  await mkdir(empty);
  const commands = [
    ['list'],
    ['verify'],
    ['check', '--symbol', 'BTCUSDT'],
    ['export', '--symbol', 'BTCUSDT', '--interval', '1h', '--out', path.join(dir, 'x.csv')],
  ];
  for (const cmd of commands) {
    for (const where of [missing, empty]) {
      const r = await run([...cmd, '--data-dir', where]);
      assert.equal(r.status, 2, `${cmd[0]} on ${where}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /There is no bank at/);
    }
  }
  assert.equal(existsSync(missing), false, 'no folder was created');
  assert.deepEqual(await readdir(empty), [], 'nothing was written into the empty folder');
  assert.equal(existsSync(path.join(dir, 'x.csv')), false);
});

test('--data-dir naming a regular file is refused with a clear message', async () => {
  const file = path.join(dir, 'a-file');
  await writeFile(file, 'not a bank');
  for (const cmd of [
    ['list'],
    ['ingest', '--symbols', 'BTCUSDT', '--start', '2023-04-30', '--base-url', server.url],
  ]) {
    const r = await run([...cmd, '--data-dir', file]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /is a file, not a folder/);
    assert.doesNotMatch(r.stderr, /EEXIST|ENOTDIR/);
  }
});

test('an unknown key in threadx.toml or paths.toml is an error naming the key and the file', async () => {
  for (const [text, key] of [
    ['[data.api]\nbase_ulr = "http://127.0.0.1:1"\n', 'base_ulr'],
    ['[data]\nrot = "./x"\n', 'rot'],
    ['[data.processing]\nmax_gap_fill_hour = 2\n', 'max_gap_fill_hour'],
    ['[indicators]\nafter_ingst = ["rsi"]\n', 'after_ingst'],
    ['[logging]\nlevl = "debug"\n', 'levl'],
    ['colour = 1\n', 'colour'],
  ]) {
    for (const name of ['threadx.toml', 'paths.toml']) {
      assert.throws(
        () => parseConfigText(text, name),
        (e: Error) => e.message.includes(name) && e.message.includes(key),
        `${name}: ${key}`,
      );
    }
  }
  // Through the CLI: exit 2, the message names both.
  const cwd = await mkdtemp(path.join(tmpdir(), 'threadx-config-'));
  await writeFile(path.join(cwd, 'threadx.toml'), '[data.api]\nbase_ulr = "http://x"\n');
  const r = await run(['list'], cwd);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /threadx\.toml/);
  assert.match(r.stderr, /base_ulr/);
});

test("the original paths.toml's fixed keys load with their values and are refused otherwise", () => {
  const ok = parseConfigText(
    '[data]\nprocessed = "processed"\nraw = "raw"\nindicators = "indicators_cache"\n' +
      '[data.api]\nklines_endpoint = "/api/v3/klines"\n[data.processing]\ndefault_batch_size = 1000\n',
    'paths.toml',
  );
  assert.equal(ok.data.processed, 'processed');
  for (const [text, key] of [
    ['[data]\nprocessed = "elsewhere"\n', 'data.processed'],
    ['[data.api]\nklines_endpoint = "/api/v1/klines"\n', 'data.api.klines_endpoint'],
    ['[data.processing]\ndefault_batch_size = 500\n', 'data.processing.default_batch_size'],
  ]) {
    assert.throws(
      () => parseConfigText(text, 'paths.toml'),
      (e: Error) => e.message.includes(key) && e.message.includes('remove the key'),
      key,
    );
  }
});

test('weight_safety_margin and rate_limit_weight_per_minute reach the rate governor', () => {
  const config = parseConfigText(
    '[data.api]\nweight_safety_margin = 0.5\nrate_limit_weight_per_minute = 1200\n',
  );
  const client = restClientFromConfig(config.data.api);
  assert.deepEqual(client.governor.limits, { limit: 1200, windowMs: 60_000 });
  assert.equal(client.governor.budget, 600);
  const again = restClientFromConfig(
    parseConfigText('[data.api]\nweight_safety_margin = 0.25\n').data.api,
  );
  assert.equal(again.governor.budget, 4500, 'default limit 6000, 25 % kept free');
});

test('npm start twice (threadx demo): the second run makes zero kline requests', async () => {
  const data = path.join(dir, 'demo');
  const first = await run(['demo', '--data-dir', data], dir);
  assert.equal(first.status, 0, first.stdout + first.stderr);
  const second = await run(['demo', '--data-dir', data], dir);
  assert.equal(second.status, 0, second.stdout + second.stderr);
  assert.match(second.stdout, /verify: \d+ file\(s\), 0 problem\(s\); 0 kline request\(s\)/);
});
