/**
 * The test environment: the replay exchange as the data source, a fresh data directory, and
 * helpers that wait on events (never on sleeps).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as vscode from 'vscode';

export interface Replay {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Starts `threadx replay --port 0` and resolves with its URL once it says it listens. */
export function startReplay(root: string, args: string[]): Promise<Replay> {
  const child = spawn(
    process.execPath,
    [path.join(root, 'dist', 'cli.js'), 'replay', '--port', '0', ...args],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (t: string) => {
      out += t;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) {
        resolve({
          url: m[1],
          child,
          stop: () =>
            new Promise<void>((done) => {
              if (child.exitCode !== null) return done();
              child.once('exit', () => done());
              child.kill('SIGTERM');
            }),
        });
      }
    });
    child.stderr!.on('data', (t: Buffer) => process.stderr.write(t));
    child.once('exit', (code) => reject(new Error(`replay exited with ${code}: ${out}`)));
    child.once('error', reject);
  });
}

export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Resolves when `event` fires with a value `accept` takes; rejects after `timeoutMs`. */
export function waitForEvent<T>(
  event: vscode.Event<T>,
  accept: (value: T) => boolean,
  what: string,
  timeoutMs = 60_000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      sub.dispose();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    const sub = event((v) => {
      if (!accept(v)) return;
      clearTimeout(timer);
      sub.dispose();
      resolve(v);
    });
  });
}

/** Waits until `check()` holds, re-checking whenever `event` fires (and once at once). */
export async function until(
  event: vscode.Event<unknown>,
  check: () => boolean,
  what: string,
  timeoutMs = 60_000,
): Promise<void> {
  if (check()) return;
  await waitForEvent(event, () => check(), what, timeoutMs);
}

/** Steps that type `text` into whatever has the focus. */
export function typeText(text: string): { do: 'press'; key: string }[] {
  return [...text].map((c) => ({ do: 'press' as const, key: c }));
}
