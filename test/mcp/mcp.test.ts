/**
 * `threadx mcp` end to end, driven by the MCP SDK's own client over stdio: the bundled CLI as the
 * server process, a real bank built from recorded Binance files, and (for the tool that writes)
 * a running daemon and the replay exchange.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { startReplayServer } from '../../daemon/replay/server.ts';
import { DISCOVERY_FILE } from '../../daemon/rpc/lifecycle.ts';
import { mcpMessages } from '../../daemon/mcp/server.ts';
import { ErrorCodes } from '../../schemas/errors.ts';
import { KLINES } from '../helpers/fixtures.ts';
import {
  CLI,
  NOW,
  ensureBuilt,
  finish,
  runCli,
  startCli,
  tempDir,
  waitForFile,
} from '../faults/harness.ts';

async function connect(args: string[], cwd: string): Promise<Client> {
  const client = new Client({ name: 'threadx-test', version: '1.0.0' });
  await client.connect(
    new StdioClientTransport({
      command: process.execPath,
      args: [CLI, 'mcp', ...args],
      cwd,
      stderr: 'pipe',
    }),
  );
  return client;
}

/** The MCP error a call fails with (the test fails if it succeeds). */
async function failure(p: Promise<unknown>): Promise<McpError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof McpError, `expected an McpError, got ${String(e)}`);
    return e;
  }
  assert.fail('the call succeeded');
}

const textOf = (r: unknown): string =>
  ((r as { content: { type: string; text: string }[] }).content[0] ?? { text: '' }).text;

test('mcp: tools over a real bank; candles equal export; bad input and too many rows answer InvalidParams with the hint', async () => {
  ensureBuilt();
  const work = await tempDir('threadx-mcp-');
  const dir = path.join(work, 'bank');
  const data = ['--data-dir', dir];
  const zips = ['14', '15'].map((d) =>
    path.join(KLINES, 'hal9000cc', `ETHUSDT-1m-2022-08-${d}.zip`),
  );
  const imported = await runCli(['import', ...zips, '--intervals', '1h', ...data], work);
  assert.equal(imported.code, 0, imported.stderr);
  const csvFile = path.join(work, 'eth-1h.csv');
  const exported = await runCli(
    [
      'export',
      '--symbol',
      'ETHUSDT',
      '--interval',
      '1h',
      '--start',
      '2022-08-15',
      '--out',
      csvFile,
      ...data,
    ],
    work,
  );
  assert.equal(exported.code, 0, exported.stderr);

  const client = await connect(data, work);
  try {
    const { tools } = await client.listTools();
    assert.deepEqual(
      tools.map((t) => t.name),
      ['list_datasets', 'get_candles', 'get_indicators', 'coverage', 'plan_ingest', 'ingest'],
    );
    const ingestTool = tools.find((t) => t.name === 'ingest');
    assert.equal(ingestTool?.annotations?.readOnlyHint, false);
    assert.equal(tools.find((t) => t.name === 'get_candles')?.annotations?.readOnlyHint, true);

    const listed = await client.callTool({ name: 'list_datasets', arguments: {} });
    const ids = (listed.structuredContent as { datasets: { id: string }[] }).datasets.map(
      (d) => d.id,
    );
    assert.deepEqual(ids, ['ETHUSDT/1h', 'ETHUSDT/1m']);

    // The same bytes `threadx export` wrote.
    const candles = await client.callTool({
      name: 'get_candles',
      arguments: { symbol: 'ethusdt', interval: '1h', start: '2022-08-15' },
    });
    assert.equal(textOf(candles), await fsp.readFile(csvFile, 'utf8'));

    // More rows than the answer may carry: refused with the count and the way out, never cut.
    const tooMany = await failure(
      client.callTool({ name: 'get_candles', arguments: { symbol: 'ETHUSDT', interval: '1m' } }),
    );
    assert.equal(tooMany.code, ErrorCodes.InvalidParams);
    assert.match(tooMany.message, /holds 2880 1m candles of ETHUSDT, more than the 2000 rows/);
    const tmData = tooMany.data as { reason: string; hint: string };
    assert.equal(tmData.reason, 'INVALID_RANGE');
    assert.match(tmData.hint, /ask a coarser interval \(3m\)/);
    assert.match(tmData.hint, /threadx export --symbol ETHUSDT --interval 1m/);
    const fits = await client.callTool({
      name: 'get_candles',
      arguments: { symbol: 'ETHUSDT', interval: '1m', limit: 2880 },
    });
    assert.equal(textOf(fits).trim().split('\n').length, 2881);

    // Bad input: the protocol's own message, with the hint.
    const bad = await failure(
      client.callTool({ name: 'get_candles', arguments: { symbol: 'ETH-USDT', interval: '1h' } }),
    );
    assert.equal(bad.code, ErrorCodes.InvalidParams);
    assert.match(
      bad.message,
      /symbol: invalid symbol "ETH-USDT": expected 2 to 20 letters or digits/,
    );
    assert.equal((bad.data as { hint: string }).hint, mcpMessages.inputHint('get_candles'));
    const naive = await failure(
      client.callTool({
        name: 'get_candles',
        arguments: { symbol: 'ETHUSDT', interval: '1h', start: '2022-08-15T00:00' },
      }),
    );
    assert.equal(naive.code, ErrorCodes.InvalidParams);
    assert.match(naive.message, /start: .*time zone/i);
    const missing = await failure(
      client.callTool({ name: 'get_candles', arguments: { symbol: 'BTCUSDT', interval: '1h' } }),
    );
    assert.equal(missing.code, ErrorCodes.NotFound);

    const ind = await client.callTool({
      name: 'get_indicators',
      arguments: {
        symbol: 'ETHUSDT',
        interval: '1h',
        start: '2022-08-15',
        indicators: [{ name: 'rsi' }, { name: 'macd' }],
      },
    });
    const lines = textOf(ind).trim().split('\n');
    assert.equal(
      lines[0],
      'timestamp,rsi-14.rsi,macd-12-26-9.macd,macd-12-26-9.signal,macd-12-26-9.hist',
    );
    assert.equal(lines.length, 25);
    assert.match(lines[1], /^2022-08-15T00:00:00.000Z,\d+\.\d+,/);

    const cov = await client.callTool({ name: 'coverage', arguments: { symbol: 'ETHUSDT' } });
    const c = cov.structuredContent as {
      datasets: { id: string; rows: number; missing: unknown[] }[];
      notes: string[];
    };
    assert.deepEqual(
      c.datasets.map((d) => [d.id, d.rows, d.missing.length]),
      [
        ['ETHUSDT/1h', 48, 0],
        ['ETHUSDT/1m', 2880, 0],
      ],
    );
    assert.ok(
      c.notes.some((n) => n.startsWith('After 2022-08-16T00:00:00.000Z nothing is stored')),
    );

    const { resources } = await client.listResources();
    assert.deepEqual(
      resources.map((r) => r.uri),
      ['threadx://dataset/ETHUSDT/1h', 'threadx://dataset/ETHUSDT/1m'],
    );
    const res = await client.readResource({ uri: 'threadx://dataset/ETHUSDT/1h' });
    const body = JSON.parse((res.contents[0] as { text: string }).text) as {
      summary: { rows: number };
    };
    assert.equal(body.summary.rows, 48);

    // Writes are refused on a server started without --allow-writes.
    const ro = await failure(
      client.callTool({
        name: 'ingest',
        arguments: { symbols: ['ETHUSDT'], start: '2022-08-16' },
      }),
    );
    assert.equal(ro.code, ErrorCodes.InvalidParams);
    assert.match(
      ro.message,
      /started read-only\. Start the server with "threadx mcp --allow-writes"/,
    );

    // Another process writes the bank: the next answer sees it (no restart, no lock taken).
    const derived = await runCli(
      ['resample', '--symbol', 'ETHUSDT', '--intervals', '4h', ...data],
      work,
    );
    assert.equal(derived.code, 0, derived.stderr);
    const again = await client.callTool({ name: 'list_datasets', arguments: { interval: '4h' } });
    assert.deepEqual(
      (again.structuredContent as { datasets: { id: string; rows: number }[] }).datasets.map(
        (d) => [d.id, d.rows],
      ),
      [['ETHUSDT/4h', 12]],
    );
  } finally {
    await client.close();
  }
});

test('mcp: plan_ingest is a dry run; ingest runs in the daemon that holds the bank, only with --allow-writes', async () => {
  ensureBuilt();
  const replay = await startReplayServer({ now: NOW });
  const work = await tempDir('threadx-mcp-write-');
  const dir = path.join(work, 'bank');
  await fsp.mkdir(dir, { recursive: true });
  const data = ['--data-dir', dir];
  await fsp.writeFile(
    path.join(work, 'threadx.toml'),
    `[data.api]\nbase_url = "${replay.url}"\narchive_url = "${replay.archiveUrl}"\n`,
  );
  const args = { symbols: ['BTCUSDT'], start: '2023-04-29', end: '2023-04-30', intervals: ['1h'] };
  const client = await connect([...data, '--allow-writes'], work);
  try {
    const plan = await client.callTool({ name: 'plan_ingest', arguments: args });
    const p = plan.structuredContent as { items: { symbol: string; candles: number }[] };
    assert.deepEqual(
      p.items.map((i) => [i.symbol, i.candles]),
      [['BTCUSDT', 1440]],
    );
    // A dry run wrote nothing.
    assert.deepEqual(await fsp.readdir(dir), []);

    // No daemon serves the bank: the write is refused, naming how to start one.
    const none = await failure(client.callTool({ name: 'ingest', arguments: args }));
    assert.equal((none.data as { reason: string }).reason, 'DAEMON_UNAVAILABLE');
    assert.match(none.message, /threadx serve --socket/);

    const daemon = startCli(['serve', '--socket', path.join(work, 'd.sock'), ...data], work);
    const daemonDone = finish(daemon);
    try {
      await waitForFile(path.join(dir, DISCOVERY_FILE), daemon);
      const run = await client.callTool({ name: 'ingest', arguments: args });
      const r = run.structuredContent as { daemonPid: number; symbols: { symbol: string }[] };
      assert.equal(r.daemonPid, daemon.pid);
      // The daemon holds the bank's lock; the server still reads.
      const candles = await client.callTool({
        name: 'get_candles',
        arguments: { symbol: 'BTCUSDT', interval: '1h' },
      });
      const rows = textOf(candles).trim().split('\n');
      assert.equal(rows.length, 25);
      assert.match(rows[1], /^2023-04-29T00:00:00.000Z,/);
    } finally {
      daemon.kill('SIGTERM');
      await daemonDone;
    }
  } finally {
    await client.close();
    await replay.close();
  }
});

test('mcp: a client that closes stdin right after its requests gets every answer, each error two sentences', async () => {
  ensureBuilt();
  const work = await tempDir('threadx-mcp-eof-');
  const dir = path.join(work, 'bank');
  const zip = path.join(KLINES, 'hal9000cc', 'ETHUSDT-1m-2022-08-15.zip');
  const imported = await runCli(['import', zip, '--intervals', '1h', '--data-dir', dir], work);
  assert.equal(imported.code, 0, imported.stderr);
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, [CLI, 'mcp', '--data-dir', dir], { cwd: work });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const call = (id: number, args: Record<string, unknown>) => ({
    jsonrpc: '2.0',
    id,
    method: 'tools/call',
    params: { name: 'get_candles', arguments: args },
  });
  const messages = [
    {
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: {
        protocolVersion: '2025-06-18',
        capabilities: {},
        clientInfo: { name: 'pipe', version: '1' },
      },
    },
    { jsonrpc: '2.0', method: 'notifications/initialized' },
    call(2, { symbol: 'ETHUSDT', interval: '1h', start: '2022-08-15', end: '2022-08-15T03:00Z' }),
    call(3, { symbol: 'ETH USDT!', interval: '1h' }),
  ];
  child.stdin.end(messages.map((m) => JSON.stringify(m)).join('\n') + '\n');
  assert.equal(await exited, 0);
  const answers = new Map(
    out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { id: number; result?: unknown; error?: { message: string } })
      .map((a) => [a.id, a]),
  );
  assert.deepEqual([...answers.keys()].sort(), [1, 2, 3]);
  assert.equal(
    textOf(answers.get(2)!.result).trim().split('\n').length,
    4,
    'a header and 3 candles',
  );
  const message = answers.get(3)!.error!.message;
  assert.match(message, /such as BTCUSDC\. Call get_candles with arguments/);
  assert.doesNotMatch(message, /[a-z] [A-Z][a-z]+ get_candles/, 'no hint run into the message');
});
