/**
 * `threadx repair` beside a running daemon (VS Code's, or `threadx serve`), run as a user runs it:
 * the bundled CLI as a child process, the replay exchange as Binance. The daemon holds the bank, so
 * a plain repair is refused, naming the exact command that works; `repair --join` runs in that
 * daemon and leaves the bank as it was before the damage.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { startReplayServer } from '../../daemon/replay/server.ts';
import { DISCOVERY_FILE } from '../../daemon/rpc/lifecycle.ts';
import {
  NOW,
  ensureBuilt,
  errorText,
  finish,
  fingerprint,
  runCli,
  startCli,
  tempDir,
  waitForFile,
} from '../faults/harness.ts';

test('repair beside a running daemon: refused naming "--join"; --join repairs in the daemon', async () => {
  ensureBuilt();
  const replay = await startReplayServer({ now: NOW });
  const work = await tempDir('threadx-repair-join-');
  const dir = path.join(work, 'bank');
  const data = ['--data-dir', dir];
  try {
    const ingest = await runCli(
      [
        'ingest',
        '--symbols',
        'BTCUSDT',
        '--start',
        '2023-04-28',
        '--end',
        '2023-04-30',
        '--source',
        'rest',
        '--intervals',
        '1h',
        '--base-url',
        replay.url,
        ...data,
        '--json',
      ],
      work,
    );
    assert.equal(ingest.code, 0, ingest.stderr);
    const reference = await fingerprint(dir);
    // A month damaged after the download (a disk fault, a stray write).
    await fsp.truncate(path.join(dir, 'processed', 'BTCUSDT', '1m', '2023-04.parquet'), 200);

    // The daemon reads its configuration from its working directory: the replay exchange.
    await fsp.writeFile(
      path.join(dir, 'threadx.toml'),
      `[data.api]\nbase_url = "${replay.url}"\narchive_url = "${replay.archiveUrl}"\n`,
    );
    const daemon = startCli(['serve', '--socket', path.join(dir, 'd.sock'), ...data], dir);
    const daemonDone = finish(daemon);
    try {
      await waitForFile(path.join(dir, DISCOVERY_FILE), daemon);

      // Without --join: refused (the daemon holds the bank), naming the command that works.
      const refused = await runCli(['repair', '--symbol', 'BTCUSDT', ...data, '--json'], work);
      assert.equal(refused.code, 3, refused.stdout + refused.stderr);
      const text = errorText(refused);
      assert.match(text, /^LOCKED: /);
      assert.match(text, new RegExp(`"threadx serve --socket" \\(pid ${daemon.pid}`));
      assert.match(text, /Run "threadx repair --symbol BTCUSDT --join" to repair in that daemon/);
      // The human form says the same on stderr.
      const plain = await runCli(['repair', '--symbol', 'BTCUSDT', ...data], work);
      assert.equal(plain.code, 3);
      assert.match(plain.stderr, /threadx repair --symbol BTCUSDT --join/);

      // The daemon uses its own exchange settings: --base-url does not go with --join.
      const mixed = await runCli(
        ['repair', '--symbol', 'BTCUSDT', '--join', '--base-url', replay.url, ...data],
        work,
      );
      assert.equal(mixed.code, 2, mixed.stderr);

      const joined = await runCli(
        ['repair', '--symbol', 'BTCUSDT', '--join', ...data, '--json'],
        work,
      );
      assert.equal(joined.code, 0, joined.stdout + joined.stderr);
      const r = JSON.parse(joined.stdout.trim().split('\n').pop()!) as {
        joined: number;
        ok: boolean;
        results: { symbol: string; found: unknown[]; refetched: unknown[]; remaining: unknown[] }[];
      };
      assert.equal(r.joined, daemon.pid, 'ran in the daemon');
      assert.equal(r.ok, true, JSON.stringify(r));
      assert.equal(r.results[0].symbol, 'BTCUSDT');
      assert.ok(r.results[0].found.length > 0, 'the damaged month was found');
      assert.ok(r.results[0].refetched.length > 0, 'and fetched again');
      assert.deepEqual(r.results[0].remaining, []);
      // A second run has nothing left to do, in words.
      const again = await runCli(['repair', '--symbol', 'BTCUSDT', '--join', ...data], work);
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, /BTCUSDT .*sound, nothing to do/);

      daemon.kill('SIGTERM');
      assert.equal((await daemonDone).code, 0);
    } finally {
      daemon.kill();
    }
    assert.deepEqual(await fingerprint(dir), reference, 'the bank as before the damage');

    // With no daemon serving the folder, --join says so and how to go on.
    const alone = await runCli(['repair', '--symbol', 'BTCUSDT', '--join', ...data], work);
    assert.equal(alone.code, 2);
    assert.match(alone.stderr, /No running daemon .* Run the command without --join\./);
  } finally {
    await replay.close();
    await fsp.rm(work, { recursive: true, force: true });
  }
});
