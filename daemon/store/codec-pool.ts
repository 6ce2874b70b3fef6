import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import {
  type Candles,
  FLOAT_COLUMNS,
  trimCandles,
  allocCandles as allocCandlesEmpty,
} from '../../schemas/candles.ts';
import { decodeCandles, encodeCandles, ParquetFormatError, type ParquetMeta } from './parquet.ts';
import { parseArchiveZipHead } from '../engine/archive-file.ts';

/**
 * Parquet encoding and decoding on a small pool of worker threads. parquet-wasm compresses on
 * one thread, so writing or reading the monthly partitions of a long history in parallel is
 * what brings the bank close to DuckDB's multi-threaded writer. Single files, and builds that
 * ship no worker script (the library bundles), are coded inline.
 */
export type CodecRequest =
  | { id: number; op: 'encode'; candles: Candles; meta: ParquetMeta }
  | { id: number; op: 'decode'; bytes: Uint8Array; source: string }
  | { id: number; op: 'archive'; bytes: Uint8Array; source: string };

export type CodecResponse =
  | { id: number; ok: true; bytes: Uint8Array }
  | { id: number; ok: true; candles: Candles; meta: Record<string, string> }
  | { id: number; ok: false; name: string; message: string };

interface Slot {
  worker: Worker;
  /** The task it is working on. */
  task: Task | null;
}

interface Task {
  req: CodecRequest;
  transfer: ArrayBuffer[];
  resolve: (r: CodecResponse) => void;
  reject: (e: Error) => void;
}

function workerTarget(): { script: string | URL; eval: boolean } | null {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    // From the TypeScript sources (tests, benchmarks): register tsx in the worker, then load.
    const url = new URL('./codec-worker.ts', here).href;
    return {
      script: `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(url)}); });`,
      eval: true,
    };
  }
  const url = new URL('./codec-worker.js', here);
  return existsSync(fileURLToPath(url)) ? { script: url, eval: false } : null;
}

export class CodecPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Task[] = [];
  private nextId = 1;
  private readonly size: number;
  private readonly target: { script: string | URL; eval: boolean } | null;

  constructor(size = Math.min(4, Math.max(1, availableParallelism()))) {
    this.size = size;
    this.target = size > 1 ? workerTarget() : null;
  }

  /** Whether work runs on worker threads (otherwise inline). */
  get parallel(): boolean {
    return this.target !== null;
  }

  /**
   * Starts the workers and lets each compile parquet-wasm now, so the first large read of a
   * long-lived daemon does not pay for it. Failures surface on first real use instead.
   */
  warm(): void {
    if (!this.target) return;
    const probe = encodeCandles(allocCandlesEmpty(0), { symbol: 'WARM', interval: '1m' });
    for (let i = 0; i < this.size; i++) this.decode(probe, 'warm-up').catch(() => undefined);
  }

  async encode(c: Candles, meta: ParquetMeta): Promise<Uint8Array> {
    if (!this.target) return encodeCandles(c, meta);
    // A compact copy: a view would make the whole underlying buffer travel.
    const own = trimCandles(c);
    const transfer = [
      own.openTime.buffer,
      own.filled.buffer,
      ...FLOAT_COLUMNS.map((k) => own[k].buffer),
    ] as ArrayBuffer[];
    const res = await this.run({ id: 0, op: 'encode', candles: own, meta }, transfer);
    return (res as { bytes: Uint8Array }).bytes;
  }

  async decode(
    bytes: Uint8Array,
    source: string,
  ): Promise<{ candles: Candles; meta: Record<string, string> }> {
    if (!this.target) return decodeCandles(bytes, source);
    const res = await this.run({ id: 0, op: 'decode', bytes, source }, []);
    const { candles, meta } = res as { candles: Candles; meta: Record<string, string> };
    return { candles, meta };
  }

  /**
   * Unzips and parses a Binance kline archive (`parseArchiveZipBytes`) on a worker, so reading
   * the next archives overlaps merging and writing the ones before. Errors keep their message.
   */
  async parseArchive(
    bytes: Uint8Array,
    source: string,
  ): Promise<{ candles: Candles; head: string }> {
    if (!this.target) return parseArchiveZipHead(bytes, source);
    const res = await this.run({ id: 0, op: 'archive', bytes, source }, []);
    const { candles, meta } = res as { candles: Candles; meta: Record<string, string> };
    return { candles, head: meta.head ?? '' };
  }

  private run(req: CodecRequest, transfer: ArrayBuffer[]): Promise<CodecResponse> {
    return new Promise<CodecResponse>((resolve, reject) => {
      req.id = this.nextId++;
      this.queue.push({ req, transfer, resolve, reject });
      this.pump();
    }).then((res) => {
      if (!res.ok) {
        if (res.name === 'ParquetFormatError') throw new ParquetFormatError(res.message);
        const err = new Error(res.message);
        err.name = res.name;
        throw err;
      }
      return res;
    });
  }

  private pump(): void {
    while (this.queue.length > 0) {
      let slot = this.slots.find((s) => !s.task);
      if (!slot && this.slots.length < this.size) slot = this.spawn();
      if (!slot) return;
      const task = this.queue.shift()!;
      slot.task = task;
      slot.worker.ref();
      slot.worker.postMessage(task.req, task.transfer);
    }
  }

  private spawn(): Slot {
    const { script, eval: isEval } = this.target!;
    const worker = new Worker(script, { eval: isEval });
    const slot: Slot = { worker, task: null };
    worker.on('message', (res: CodecResponse) => {
      const task = slot.task;
      slot.task = null;
      // An idle worker must not keep the process alive.
      worker.unref();
      task?.resolve(res);
      this.pump();
    });
    worker.on('error', (e) => this.fail(slot, e));
    worker.on('exit', (code) => {
      if (this.slots.includes(slot))
        this.fail(slot, new Error(`codec worker exited with code ${code}`));
    });
    worker.unref();
    this.slots.push(slot);
    return slot;
  }

  /** A worker died: fail what it held, forget it; the next task spawns a replacement. */
  private fail(slot: Slot, e: Error): void {
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    slot.task?.reject(e);
    slot.task = null;
    this.pump();
  }

  async close(): Promise<void> {
    const slots = this.slots.splice(0);
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }
}

let shared: CodecPool | undefined;

/** The process's codec pool. */
export function codecPool(): CodecPool {
  shared ??= new CodecPool();
  return shared;
}
