/**
 * Kill the writer at any moment and the bank is still consistent: a child process writes in a
 * loop and is killed with SIGKILL at a random step; the bank then opens (recovering from the
 * journal) and verifies clean, every registered file readable and matching its checksum.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { once } from 'node:events';
import { Bank } from '../../daemon/store/bank.ts';

const CHILD = new URL('./writer-child.ts', import.meta.url).pathname;
const KILLS = 12;

async function runAndKill(dir: string, afterLines: number): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const rl = createInterface({ input: child.stdout });
  let n = 0;
  const exited = once(child, 'exit');
  for await (const _line of rl) {
    if (++n >= afterLines) {
      // Let the child run into its next write, then kill it wherever it is.
      setImmediate(() => child.kill('SIGKILL'));
      break;
    }
  }
  await exited;
}

test(
  'crash safety: SIGKILL at random moments never leaves the bank inconsistent',
  { timeout: 240_000 },
  async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'threadx-crash-'));
    let seed = 12345;
    const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (let k = 0; k < KILLS; k++) {
      await runAndKill(dir, 1 + Math.floor(rnd() * 7));
      const bank = await Bank.open(dir);
      const issues = (await bank.verify()).filter((i) => i.status !== 'ok');
      assert.deepEqual(issues, [], `after kill ${k}`);
      const tmps = (await readdir(dir, { recursive: true })).filter((f) => f.endsWith('.tmp'));
      assert.deepEqual(tmps, [], 'temp files cleaned up');
      const e = bank.get('BTCUSDT', '1m');
      if (e) assert.equal((await bank.read1m('BTCUSDT')).length, e.rows);
    }
    await rm(dir, { recursive: true });
  },
);
