/**
 * `threadx watch` as a user runs it, against the replay exchange: it catches up, follows the
 * stream, a minute it stored is readable by another process (`threadx export`) while it runs,
 * SIGTERM folds the tail into the bank and exits 0, and verify is clean.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { startReplayServer, type ReplayServer } from '../../daemon/replay/server.ts';
import { ensureBuilt, runCli, startCli, tempDir } from '../faults/harness.ts';

const MIN = 60_000;
let replay: ReplayServer;
let work: string;

before(async () => {
  ensureBuilt();
  // The exchange's clock runs ahead of the local one so that its next minute closes about
  // eight seconds from now: the test waits for one close, not for a whole real minute.
  const real = Date.now();
  let offset = Math.ceil(real / MIN) * MIN - real - 8000;
  if (offset < 0) offset += MIN;
  replay = await startReplayServer({ now: () => Date.now() + offset });
  work = await tempDir('threadx-watch-cli-');
});
after(async () => {
  await replay?.close();
  if (work) await fsp.rm(work, { recursive: true, force: true });
});

test(
  'watch: caught up, a streamed minute readable by another process at once, SIGTERM exits 0',
  { timeout: 180_000 },
  async () => {
    const start = new Date(Math.floor(replay.now() / MIN) * MIN - 30 * MIN).toISOString();
    const child = startCli(
      [
        'watch',
        '--symbols',
        'BTCUSDC,ETHUSDC',
        '--start',
        start,
        '--intervals',
        '5m',
        '--base-url',
        replay.url,
        '--archive-url',
        replay.archiveUrl,
        '--ws-url',
        replay.wsUrl,
        '--data-dir',
        'data',
        '--json',
      ],
      work,
    );
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += String(d)));
    const exited = once(child, 'close');
    const events: Array<Record<string, unknown>> = [];
    let waiter: (() => void) | undefined;
    createInterface({ input: child.stdout! }).on('line', (line) => {
      events.push(JSON.parse(line) as Record<string, unknown>);
      waiter?.();
    });
    const until = (ok: () => boolean): Promise<void> =>
      new Promise((resolve) => {
        waiter = () => ok() && resolve();
        waiter();
        void exited.then(() => resolve());
      });
    const isStreamed = (e: Record<string, unknown>) =>
      e.event === 'stored' && e.source === 'stream';
    await until(() => events.some(isStreamed));
    const first = events.find(isStreamed);
    const streamed = first && {
      symbol: first.symbol as string,
      openTime: first.openTime as number,
    };
    assert.ok(streamed, stderr);
    const names = events.map((e) => e.event);
    assert.ok(names.indexOf('caught-up') < names.indexOf('connected'), names.join(','));
    const caught = events.find((e) => e.event === 'caught-up')!;
    assert.ok((caught.rows as number) >= 2 * 29, JSON.stringify(caught));

    // Another process reads the minute while the watcher holds the bank: it is in the tail.
    const out = path.join(work, 'minute.csv');
    const exp = await runCli(
      [
        'export',
        '--symbol',
        streamed.symbol,
        '--interval',
        '1m',
        '--start',
        new Date(streamed.openTime).toISOString(),
        '--end',
        new Date(streamed.openTime + MIN).toISOString(),
        '--out',
        out,
        '--data-dir',
        'data',
      ],
      work,
    );
    assert.equal(exp.code, 0, exp.stdout + exp.stderr);
    const csv = (await fsp.readFile(out, 'utf8')).trim().split('\n');
    assert.equal(csv.length, 2, csv.join('\n'));
    const k = (await (
      await fetch(
        `${replay.url}/api/v3/klines?symbol=${streamed.symbol}&interval=1m&startTime=${streamed.openTime}&limit=1`,
      )
    ).json()) as unknown[][];
    assert.ok(
      csv[1].includes(String(Number(k[0][4]))),
      `${csv[1]} has the close ${String(k[0][4])}`,
    );

    child.kill('SIGTERM');
    const [code] = (await exited) as [number];
    assert.equal(code, 0, stderr);
    assert.equal(events.at(-1)?.event, 'stopped');
    assert.deepEqual(await fsp.readdir(path.join(work, 'data', 'tail')), []);
    const verify = await runCli(['verify', '--data-dir', 'data'], work);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
    const list = await runCli(['list', '--data-dir', 'data', '--json'], work);
    assert.match(list.stdout, /BTCUSDC\/5m/);
  },
);

test('watch: bad input is refused with the fix', async () => {
  const two = await runCli(
    ['watch', '--symbols', 'BTCUSDC', '--top', '5', '--data-dir', 'd2'],
    work,
  );
  assert.equal(two.code, 2, two.stderr);
  assert.match(two.stderr, /at most one of --symbols/);
  const ws = await runCli(
    ['watch', '--symbols', 'BTCUSDC', '--ws-url', 'http://x', '--data-dir', 'd2'],
    work,
  );
  assert.match(ws.stderr, /--ws-url must be a ws:\/\/ or wss:\/\/ URL/);
  const none = await runCli(['watch', '--data-dir', 'd2', '--base-url', replay.url], work);
  assert.equal(none.code, 2, none.stderr);
  assert.match(none.stderr, /Nothing to watch/);
});
