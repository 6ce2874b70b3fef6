/**
 * README's "Use it from..." snippets, run as written: every fenced block tagged `threadx-test`
 * (the MCP client configuration, the shell command, the Python, the DuckDB SQL) against a bank
 * like the one `npm start` builds, in a folder laid out like the checkout (`data/`, `dist/`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { CLI, ROOT, ensureBuilt, runCli, tempDir } from '../faults/harness.ts';
import { KLINES } from '../helpers/fixtures.ts';

interface Snippet {
  lang: string;
  code: string;
}

/** The tagged blocks of the README's "Use it from..." section. */
async function snippets(): Promise<Snippet[]> {
  const readme = await fsp.readFile(path.join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## Use it from...');
  assert.ok(start >= 0, 'README has a "Use it from..." section');
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  return [...section.matchAll(/^```(\w+) threadx-test\n([\s\S]*?)^```$/gm)].map((m) => ({
    lang: m[1],
    code: m[2],
  }));
}

test('README "Use it from...": every tagged snippet runs and does what it says', async () => {
  ensureBuilt();
  const all = await snippets();
  assert.deepEqual(
    all.map((s) => s.lang),
    ['json', 'sh', 'python', 'sql'],
  );
  const work = await tempDir('threadx-readme-');
  await fsp.symlink(path.join(ROOT, 'dist'), path.join(work, 'dist'));
  const data = path.join(work, 'data');
  const zips = ['14', '15'].map((d) =>
    path.join(KLINES, 'hal9000cc', `ETHUSDT-1m-2022-08-${d}.zip`),
  );
  const imported = await runCli(['import', ...zips, '--intervals', '1h', '--data-dir', data], work);
  assert.equal(imported.code, 0, imported.stderr);
  const of = (lang: string) => all.find((s) => s.lang === lang)!.code;

  // Agents: the client configuration, with its two placeholders filled in.
  const config = JSON.parse(of('json')) as {
    mcpServers: { threadx: { command: string; args: string[] } };
  };
  const server = config.mcpServers.threadx;
  assert.equal(server.command, 'node');
  const args = server.args.map((a) =>
    a.replace('/path/to/threadx-data', ROOT).replace('/path/to/data', data),
  );
  const client = new Client({ name: 'readme', version: '1.0.0' });
  await client.connect(
    new StdioClientTransport({ command: process.execPath, args, stderr: 'pipe' }),
  );
  try {
    assert.ok((await client.listTools()).tools.some((t) => t.name === 'get_candles'));
    const r = await client.callTool({
      name: 'get_candles',
      arguments: { symbol: 'ETHUSDT', interval: '1h', start: '2022-08-15' },
    });
    assert.equal((r.content as { text: string }[])[0].text.trim().split('\n').length, 25);
  } finally {
    await client.close();
  }

  // Excel: the shell command (npx threadx is the checkout's bundled CLI).
  for (const line of of('sh').trim().split('\n')) {
    const words = line.split(/\s+/);
    assert.deepEqual(words.slice(0, 2), ['npx', 'threadx']);
    const r = spawnSync(process.execPath, [CLI, ...words.slice(2)], {
      cwd: work,
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
  }
  const xlsx = await fsp.readFile(path.join(work, 'eth-1h.xlsx'));
  assert.equal(xlsx.subarray(0, 2).toString(), 'PK', 'an xlsx is a zip');

  // Python: the client package from the checkout.
  const py = spawnSync('python3', ['-c', of('python')], {
    cwd: work,
    encoding: 'utf8',
    env: {
      ...process.env,
      PYTHONPATH: path.join(ROOT, 'clients', 'python', 'src'),
      PYTHONDONTWRITEBYTECODE: '1',
      PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}`,
    },
  });
  assert.equal(py.status, 0, py.stderr);
  assert.match(py.stdout, /^24 candles, last close \d+(\.\d+)?\n$/);

  // DuckDB: the SQL, its relative path resolved in the checkout-like folder.
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  await con.run(`SET file_search_path = '${work}'`);
  const rows = (await con.runAndReadAll(of('sql'))).getRowObjects();
  assert.equal(rows.length, 1);
  assert.equal(Number(rows[0].candles), 24);
  assert.ok(Number(rows[0].high) > Number(rows[0].low));
});
