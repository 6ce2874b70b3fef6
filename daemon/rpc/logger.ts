/**
 * The daemon's logger: one line per event, appended to `<data>/logs/daemon.log`, rotated by size
 * (`daemon.log` → `daemon.log.1` → ... → `daemon.log.<N-1>`), kept in a small ring for
 * `logs/subscribe` with `tail`, and handed to subscribers (connections that asked for
 * `log/message`). Writes are synchronous so the last lines before a crash are on disk.
 *
 * Nothing in the daemon writes to the console: on stdio, stdout carries the protocol only.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { LogLevel } from '../../schemas/protocol.ts';

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface LogRecord {
  level: LogLevel;
  time: number;
  message: string;
}

export interface LoggerOptions {
  /** Folder of the log files; none keeps the log in memory only (tests). */
  dir?: string;
  file?: string;
  level?: LogLevel;
  maxFileBytes?: number;
  maxFiles?: number;
  /** Lines kept in memory for `tail`. */
  ringSize?: number;
  now?: () => number;
}

export class Logger {
  readonly file: string | null;
  private readonly level: number;
  private readonly maxBytes: number;
  private readonly maxFiles: number;
  private readonly ringSize: number;
  private readonly now: () => number;
  private fd: number | null = null;
  private size = 0;
  private readonly ring: LogRecord[] = [];
  private readonly subscribers = new Set<(r: LogRecord) => void>();
  private failed = false;

  constructor(opts: LoggerOptions = {}) {
    this.file = opts.dir ? path.join(opts.dir, opts.file ?? 'daemon.log') : null;
    this.level = RANK[opts.level ?? 'info'];
    this.maxBytes = opts.maxFileBytes ?? 5_000_000;
    this.maxFiles = Math.max(1, opts.maxFiles ?? 3);
    this.ringSize = opts.ringSize ?? 1000;
    this.now = opts.now ?? Date.now;
    if (opts.dir) {
      try {
        fs.mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
        this.open();
      } catch {
        this.failed = true;
      }
    }
  }

  debug(message: string): void {
    this.log('debug', message);
  }
  info(message: string): void {
    this.log('info', message);
  }
  warn(message: string): void {
    this.log('warn', message);
  }
  error(message: string, err?: unknown): void {
    const stack = err instanceof Error && err.stack ? `\n${err.stack}` : '';
    this.log('error', `${message}${stack}`);
  }

  log(level: LogLevel, message: string): void {
    const record: LogRecord = { level, time: this.now(), message };
    // Subscribers get every level they asked for; the file and the ring honour the configured one.
    for (const s of this.subscribers) {
      try {
        s(record);
      } catch {
        // A subscriber that throws (a closed connection) must not break logging.
      }
    }
    if (RANK[level] < this.level) return;
    this.ring.push(record);
    if (this.ring.length > this.ringSize) this.ring.splice(0, this.ring.length - this.ringSize);
    this.write(
      `${new Date(record.time).toISOString()} ${level.toUpperCase().padEnd(5)} ${message}\n`,
    );
  }

  /** The last `n` lines at `level` or above. */
  tail(n: number, level: LogLevel = 'debug'): LogRecord[] {
    if (n <= 0) return [];
    return this.ring.filter((r) => RANK[r.level] >= RANK[level]).slice(-n);
  }

  subscribe(listener: (r: LogRecord) => void): () => void {
    this.subscribers.add(listener);
    return () => this.subscribers.delete(listener);
  }

  close(): void {
    if (this.fd !== null) {
      try {
        fs.closeSync(this.fd);
      } catch {
        // Already closed.
      }
      this.fd = null;
    }
  }

  private open(): void {
    if (!this.file) return;
    this.fd = fs.openSync(this.file, 'a', 0o600);
    this.size = fs.fstatSync(this.fd).size;
  }

  private write(line: string): void {
    if (this.fd === null || this.failed) return;
    try {
      const bytes = Buffer.from(line, 'utf8');
      if (this.size + bytes.length > this.maxBytes && this.size > 0) this.rotate();
      fs.writeSync(this.fd, bytes);
      this.size += bytes.length;
    } catch {
      // A full disk must not take the daemon down with it; the ring still has the lines.
      this.failed = true;
    }
  }

  private rotate(): void {
    if (!this.file) return;
    this.close();
    for (let i = this.maxFiles - 1; i >= 1; i--) {
      const from = i === 1 ? this.file : `${this.file}.${i - 1}`;
      try {
        fs.renameSync(from, `${this.file}.${i}`);
      } catch {
        // Not there yet.
      }
    }
    if (this.maxFiles === 1) fs.rmSync(this.file, { force: true });
    this.open();
  }
}

export function levelAtLeast(level: LogLevel, min: LogLevel): boolean {
  return RANK[level] >= RANK[min];
}
