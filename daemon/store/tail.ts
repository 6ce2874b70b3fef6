import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { allocCandles, type Candles, FLOAT_COLUMNS, sliceCandles } from '../../schemas/candles.ts';
import { parseSymbol } from '../../schemas/common.ts';
import { mergeCandles, sortUnique } from '../engine/merge.ts';

/**
 * The bank's tail: an append-only, checksummed log per dataset of minutes received since the
 * last fold into the monthly partitions. Appending a minute costs one small write and one fsync,
 * where rewriting its month would cost a Parquet partition, so a live source can store every
 * minute at once and the partitions are rewritten only when the tail is folded (on a timer, at
 * a month's end, at shutdown).
 *
 * Frame: a file starts with `MAGIC`; each record is `[u32 length][u32 crc32][payload]`
 * (little-endian). A record is whole only when its length fits the file and its CRC matches;
 * reading stops at the first record that is not (a write cut by a crash: never acknowledged,
 * since `append` resolves only after fsync). `FramedLog` knows nothing of candles, so the same
 * frame can journal other things (fetched pages).
 *
 * Invariant: a minute `append` reported stored survives a SIGKILL at any moment. Folding renames
 * the live log to `.folding` before writing its minutes into the partitions and removes it only
 * after that write committed; readers merge both (the live log wins), so a crash between the
 * two leaves the same minutes readable and the next fold writes them again (idempotent).
 */

const MAGIC = Buffer.from('THREADX-TAIL-1\n\0', 'latin1');
const HEADER = 8;
/** Columns of one row: open time, the float columns, the filled flag. */
const ROW_FLOATS = 2 + FLOAT_COLUMNS.length;
const KIND_CANDLES = 1;

/** The whole records of a framed log and where the last whole record ends. */
export interface LogContent {
  records: Buffer[];
  /** Bytes of the file that are whole records (with the header); beyond it a torn write. */
  validBytes: number;
  size: number;
}

/** A framed, append-only log with a CRC-32 per record. */
export class FramedLog {
  private constructor(
    readonly file: string,
    private handle: fsp.FileHandle,
    private size: number,
  ) {}

  /** Reads the whole records of `file`; a missing file has none. */
  static async read(file: string): Promise<LogContent> {
    let buf: Buffer;
    try {
      buf = await fsp.readFile(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT')
        return { records: [], validBytes: 0, size: 0 };
      throw e;
    }
    const records: Buffer[] = [];
    if (buf.length < MAGIC.length || !buf.subarray(0, MAGIC.length).equals(MAGIC))
      return { records, validBytes: 0, size: buf.length };
    let at = MAGIC.length;
    while (at + HEADER <= buf.length) {
      const len = buf.readUInt32LE(at);
      const sum = buf.readUInt32LE(at + 4);
      if (at + HEADER + len > buf.length) break;
      const payload = buf.subarray(at + HEADER, at + HEADER + len);
      if (crc32(payload) !== sum) break;
      records.push(payload);
      at += HEADER + len;
    }
    return { records, validBytes: at, size: buf.length };
  }

  /**
   * Opens `file` for appending, cutting off a torn last write first (only the log's one writer
   * may open it: readers use `read`).
   */
  static async open(file: string): Promise<FramedLog> {
    await fsp.mkdir(path.dirname(file), { recursive: true });
    const { validBytes, size } = await FramedLog.read(file);
    const handle = await fsp.open(file, size === 0 ? 'w+' : 'r+');
    let end = validBytes;
    if (validBytes === 0) {
      await handle.truncate(0);
      await handle.write(MAGIC, 0, MAGIC.length, 0);
      end = MAGIC.length;
    } else if (validBytes < size) {
      await handle.truncate(validBytes);
    }
    await handle.sync();
    if (size === 0) await syncDir(path.dirname(file));
    return new FramedLog(file, handle, end);
  }

  /** Appends records in one write and returns once they are on disk (fsync). */
  async append(payloads: readonly Uint8Array[]): Promise<void> {
    let total = 0;
    for (const p of payloads) total += HEADER + p.length;
    const buf = Buffer.alloc(total);
    let at = 0;
    for (const p of payloads) {
      buf.writeUInt32LE(p.length, at);
      buf.writeUInt32LE(crc32(p), at + 4);
      buf.set(p, at + HEADER);
      at += HEADER + p.length;
    }
    await this.handle.write(buf, 0, buf.length, this.size);
    this.size += buf.length;
    await this.handle.datasync();
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

/** Encodes candles as one tail record. */
export function encodeCandles(c: Candles): Uint8Array {
  const buf = Buffer.alloc(5 + c.length * ROW_FLOATS * 8);
  buf.writeUInt8(KIND_CANDLES, 0);
  buf.writeUInt32LE(c.length, 1);
  let at = 5;
  for (let i = 0; i < c.length; i++) {
    buf.writeDoubleLE(c.openTime[i], at);
    at += 8;
    for (const col of FLOAT_COLUMNS) {
      buf.writeDoubleLE(c[col][i], at);
      at += 8;
    }
    buf.writeDoubleLE(c.filled[i], at);
    at += 8;
  }
  return buf;
}

/** Decodes a tail record of candles; undefined for a record of another kind. */
export function decodeCandles(rec: Buffer): Candles | undefined {
  if (rec.length < 5 || rec.readUInt8(0) !== KIND_CANDLES) return undefined;
  const n = rec.readUInt32LE(1);
  if (rec.length !== 5 + n * ROW_FLOATS * 8) return undefined;
  const c = allocCandles(n);
  let at = 5;
  for (let i = 0; i < n; i++) {
    c.openTime[i] = rec.readDoubleLE(at);
    at += 8;
    for (const col of FLOAT_COLUMNS) {
      c[col][i] = rec.readDoubleLE(at);
      at += 8;
    }
    c.filled[i] = rec.readDoubleLE(at);
    at += 8;
  }
  c.length = n;
  return c;
}

/** The span of the minutes a tail holds. */
export interface TailSpan {
  first: number;
  last: number;
  rows: number;
}

/**
 * The 1m tails of a bank (`<data>/tail/<SYMBOL>-1m.log`), loaded whole into memory (a tail
 * holds the minutes since the last fold: hours, not years). Readers load them at open;
 * the one writer appends and folds through the same object, so readers in its process see
 * each minute as soon as it is stored.
 */
export class Tails {
  private readonly rows = new Map<string, Candles>();
  private readonly logs = new Map<string, FramedLog>();
  private readonly queues = new Map<string, Promise<unknown>>();
  /** Bumped on every change, for caches keyed on the data they were built from. */
  private version = 0;

  private constructor(readonly dir: string) {}

  static async load(root: string): Promise<Tails> {
    const t = new Tails(path.join(root, 'tail'));
    let names: string[];
    try {
      names = await fsp.readdir(t.dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return t;
      throw e;
    }
    const symbols = new Set<string>();
    for (const n of names) {
      const m = /^([A-Z0-9]{2,20})-1m(?:\.folding)?\.log$/.exec(n);
      if (m) symbols.add(m[1]);
    }
    for (const s of symbols) await t.reload(s);
    return t;
  }

  private live(symbol: string): string {
    return path.join(this.dir, `${parseSymbol(symbol)}-1m.log`);
  }

  private folding(symbol: string): string {
    return path.join(this.dir, `${parseSymbol(symbol)}-1m.folding.log`);
  }

  /** Reads a symbol's logs again from disk (the live one after the one being folded). */
  private async reload(symbol: string): Promise<void> {
    // The live log first: should a fold rename it in between, the folding log then has it.
    const live = await FramedLog.read(this.live(symbol));
    const folding = await FramedLog.read(this.folding(symbol));
    let c = allocCandles(0);
    for (const rec of [...folding.records, ...live.records]) {
      const part = decodeCandles(rec);
      if (part) c = mergeCandles(c, sortUnique(part));
    }
    if (c.length > 0) this.rows.set(symbol, c);
    else this.rows.delete(symbol);
    this.version++;
  }

  symbols(): string[] {
    return [...this.rows.keys()].sort();
  }

  /** The tail's minutes of `symbol` in [start, end), oldest first. */
  read(symbol: string, start = -Infinity, end = Infinity): Candles {
    const c = this.rows.get(symbol);
    if (!c) return allocCandles(0);
    let lo = 0;
    while (lo < c.length && c.openTime[lo] < start) lo++;
    let hi = lo;
    while (hi < c.length && c.openTime[hi] < end) hi++;
    return lo === 0 && hi === c.length ? c : sliceCandles(c, lo, hi);
  }

  span(symbol: string): TailSpan | undefined {
    const c = this.rows.get(symbol);
    if (!c || c.length === 0) return undefined;
    return { first: c.openTime[0], last: c.openTime[c.length - 1], rows: c.length };
  }

  /** Changes with every append and fold. */
  stamp(): number {
    return this.version;
  }

  private serial<T>(symbol: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.queues.get(symbol) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    this.queues.set(
      symbol,
      next.catch(() => undefined),
    );
    return next;
  }

  /**
   * Appends real closed minutes of `symbol`; resolves once they are on disk, and only then are
   * they readable. A later value of a minute replaces an earlier one (a correction).
   */
  append(symbolIn: string, candles: Candles): Promise<void> {
    const symbol = parseSymbol(symbolIn);
    if (candles.length === 0) return Promise.resolve();
    return this.serial(symbol, async () => {
      let log = this.logs.get(symbol);
      if (!log) {
        log = await FramedLog.open(this.live(symbol));
        this.logs.set(symbol, log);
      }
      await log.append([encodeCandles(candles)]);
      this.rows.set(
        symbol,
        mergeCandles(this.rows.get(symbol) ?? allocCandles(0), sortUnique(candles)),
      );
      this.version++;
    });
  }

  /**
   * Writes the tail of `symbol` into its partitions with `write` (which must commit atomically),
   * then drops it. Minutes appended meanwhile stay in the new live log. Returns the minutes
   * written.
   */
  fold(symbolIn: string, write: (c: Candles) => Promise<void>): Promise<Candles> {
    const symbol = parseSymbol(symbolIn);
    return this.serial(symbol, async () => {
      const folding = this.folding(symbol);
      // A fold a crash interrupted goes first: its minutes are older than the live log's.
      let done = allocCandles(0);
      if ((await FramedLog.read(folding)).size > 0) done = await this.writeFolding(symbol, write);
      await this.logs.get(symbol)?.close();
      this.logs.delete(symbol);
      try {
        await fsp.rename(this.live(symbol), folding);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        await this.reload(symbol);
        return done;
      }
      await syncDir(this.dir);
      return mergeCandles(done, await this.writeFolding(symbol, write));
    });
  }

  private async writeFolding(
    symbol: string,
    write: (c: Candles) => Promise<void>,
  ): Promise<Candles> {
    const folding = this.folding(symbol);
    const { records } = await FramedLog.read(folding);
    let c = allocCandles(0);
    for (const rec of records) {
      const part = decodeCandles(rec);
      if (part) c = mergeCandles(c, sortUnique(part));
    }
    if (c.length > 0) await write(c);
    await fsp.rm(folding, { force: true });
    await syncDir(this.dir);
    await this.reload(symbol);
    return c;
  }

  /** Removes a symbol's tail (its 1m dataset is deleted); returns the files removed. */
  drop(symbolIn: string): Promise<string[]> {
    const symbol = parseSymbol(symbolIn);
    return this.serial(symbol, async () => {
      await this.logs.get(symbol)?.close();
      this.logs.delete(symbol);
      const gone: string[] = [];
      for (const file of [this.folding(symbol), this.live(symbol)]) {
        try {
          await fsp.rm(file);
          gone.push(path.relative(path.dirname(this.dir), file).split(path.sep).join('/'));
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        }
      }
      this.rows.delete(symbol);
      this.version++;
      return gone;
    });
  }

  /** Closes the open logs (after any append or fold under way). */
  async close(): Promise<void> {
    await Promise.all([...this.queues.values()]);
    for (const log of this.logs.values()) await log.close();
    this.logs.clear();
  }
}

async function syncDir(dir: string): Promise<void> {
  const h = await fsp.open(dir, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}
