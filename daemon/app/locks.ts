/**
 * A small keyed readers-writer lock. Requests that change a symbol's data hold its key
 * exclusively, so two of them on the same symbol run one after the other while different symbols
 * run in parallel; bank-wide work (verify) holds the `*` key exclusively, and every other holder
 * takes `*` shared, so it waits for writers to drain and holds new ones off.
 *
 * Waiters are served first come, first served (a waiting writer blocks later readers), which
 * keeps a stream of readers from starving a writer. Keys are taken in sorted order, so two holders
 * of overlapping key sets cannot deadlock.
 */
import { ThreadxError } from '../../schemas/errors.ts';

const cancelledError = (): ThreadxError =>
  new ThreadxError('CANCELLED', 'The request was cancelled while it waited for a lock.');

export const ALL = '*';

interface Waiter {
  exclusive: boolean;
  grant: () => void;
}

interface KeyState {
  readers: number;
  writer: boolean;
  queue: Waiter[];
}

export class KeyedLock {
  private readonly keys = new Map<string, KeyState>();

  /** Runs `fn` holding every key of `exclusive` exclusively and of `shared` shared. */
  async run<T>(
    spec: { exclusive?: readonly string[]; shared?: readonly string[] },
    fn: () => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    const wanted = new Map<string, boolean>();
    for (const k of spec.shared ?? []) wanted.set(k, false);
    for (const k of spec.exclusive ?? []) wanted.set(k, true);
    const order = [...wanted.keys()].sort();
    const held: [string, boolean][] = [];
    try {
      for (const k of order) {
        const exclusive = wanted.get(k) === true;
        await this.acquire(k, exclusive, signal);
        held.push([k, exclusive]);
      }
      return await fn();
    } finally {
      for (const [k, exclusive] of held.reverse()) this.release(k, exclusive);
    }
  }

  /** Keys currently held or waited for (for tests and diagnostics). */
  get size(): number {
    return this.keys.size;
  }

  private state(key: string): KeyState {
    let s = this.keys.get(key);
    if (!s) {
      s = { readers: 0, writer: false, queue: [] };
      this.keys.set(key, s);
    }
    return s;
  }

  private acquire(key: string, exclusive: boolean, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(cancelledError());
    const s = this.state(key);
    const free = exclusive ? !s.writer && s.readers === 0 : !s.writer;
    if (free && s.queue.length === 0) {
      if (exclusive) s.writer = true;
      else s.readers++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        exclusive,
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = (): void => {
        const i = s.queue.indexOf(waiter);
        if (i >= 0) s.queue.splice(i, 1);
        this.drain(key, s);
        reject(cancelledError());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      s.queue.push(waiter);
    });
  }

  private release(key: string, exclusive: boolean): void {
    const s = this.keys.get(key);
    if (!s) return;
    if (exclusive) s.writer = false;
    else s.readers--;
    this.drain(key, s);
  }

  private drain(key: string, s: KeyState): void {
    while (s.queue.length > 0) {
      const next = s.queue[0];
      if (next.exclusive) {
        if (s.writer || s.readers > 0) break;
        s.writer = true;
      } else {
        if (s.writer) break;
        s.readers++;
      }
      s.queue.shift();
      next.grant();
    }
    if (!s.writer && s.readers === 0 && s.queue.length === 0) this.keys.delete(key);
  }
}
