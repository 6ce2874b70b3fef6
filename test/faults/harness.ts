/**
 * Shared pieces of the fault suite: the bundled CLI run as a child process (as a user runs it),
 * the replay exchange, and a bank's fingerprint (every registered file's checksum and the
 * confirmed-empty ranges) to compare a bank that was attacked with one from an uninterrupted run.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, promises as fsp } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = path.join(ROOT, 'dist', 'cli.js');
/** The replay exchange's clock: the bundled real BTCUSDT/ETHUSDT data ends here. */
export const NOW = Date.parse('2023-05-01T21:03:30Z');

export function ensureBuilt(): void {
  if (!existsSync(CLI)) {
    const r = spawnSync(process.execPath, ['esbuild.mjs'], { cwd: ROOT, stdio: 'inherit' });
    assert.equal(r.status, 0, 'build failed');
  }
}

export async function tempDir(prefix = 'threadx-fault-'): Promise<string> {
  return mkdtemp(path.join(tmpdir(), prefix));
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Starts `threadx ARGS` with its working directory in `cwd` (no threadx.toml there). */
export function startCli(args: string[], cwd: string): ChildProcess {
  return spawn(process.execPath, [CLI, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
}

export async function finish(child: ChildProcess): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

/** The error message and hint of a `--json` run (its last line), or stderr. */
export function errorText(r: CliRun): string {
  const last = r.stdout.trim().split('\n').pop() ?? '';
  try {
    const j = JSON.parse(last) as { error?: { code: string; message: string; hint?: string } };
    if (j.error)
      return `${j.error.code}: ${j.error.message}${j.error.hint ? ` ${j.error.hint}` : ''}`;
  } catch {
    /* not JSON */
  }
  return r.stderr;
}

export function runCli(args: string[], cwd: string): Promise<CliRun> {
  return finish(startCli(args, cwd));
}

/** Every dataset's file checksums and the confirmed-empty ranges, as stored. */
export async function fingerprint(dataDir: string): Promise<Record<string, unknown>> {
  const reg = JSON.parse(await fsp.readFile(path.join(dataDir, 'registry.json'), 'utf8')) as {
    datasets: Record<string, { files: { path: string; sha256: string }[]; rows: number }>;
    confirmedEmpty: Record<string, unknown>;
  };
  const datasets: Record<string, unknown> = {};
  for (const [id, d] of Object.entries(reg.datasets).sort(([a], [b]) => a.localeCompare(b))) {
    datasets[id] = { rows: d.rows, files: d.files.map((f) => `${f.path} ${f.sha256}`).sort() };
  }
  return { datasets, confirmedEmpty: reg.confirmedEmpty };
}

/** 1m rows of every symbol in a bank. */
export async function rows1m(dataDir: string): Promise<Record<string, number>> {
  const reg = JSON.parse(await fsp.readFile(path.join(dataDir, 'registry.json'), 'utf8')) as {
    datasets: Record<string, { interval: string; symbol: string; rows: number; kind: string }>;
  };
  const out: Record<string, number> = {};
  for (const d of Object.values(reg.datasets))
    if (d.interval === '1m' && d.kind === 'candles') out[d.symbol] = d.rows;
  return out;
}

/**
 * Resolves once `file` exists, looking again on every change event in `root` (default: the
 * file's folder), which is created if needed; `file` may be deeper than `root`.
 */
export async function waitForFile(
  file: string,
  child?: ChildProcess,
  root = path.dirname(file),
): Promise<void> {
  const { watch } = await import('node:fs');
  await fsp.mkdir(root, { recursive: true });
  const watcher = watch(root, { recursive: true });
  const exited =
    child && child.exitCode === null
      ? once(child, 'exit').then(() => 'exit' as const)
      : child
        ? Promise.resolve('exit' as const)
        : new Promise<never>(() => {});
  try {
    for (;;) {
      if (existsSync(file)) return;
      const changed = once(watcher, 'change');
      if ((await Promise.race([changed, exited])) === 'exit' && !existsSync(file))
        throw new Error(`the process exited before ${file} appeared`);
    }
  } finally {
    watcher.close();
  }
}
