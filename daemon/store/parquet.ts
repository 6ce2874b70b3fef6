import { ThreadxError } from '../../schemas/errors.ts';
import * as arrow from 'apache-arrow';
import * as pq from 'parquet-wasm';
import { type Candles, allocCandles, FLOAT_COLUMNS, STORED_NAMES } from '../../schemas/candles.ts';
import { PARQUET_SCHEMA_VERSION, PRODUCER } from '../../schemas/registry.ts';

/**
 * Candles <-> Parquet through apache-arrow and parquet-wasm.
 *
 * `timestamp` is an Arrow timestamp(ms, "UTC"), so pandas/pyarrow read a tz-aware UTC index and
 * DuckDB a TIMESTAMP WITH TIME ZONE; prices and volumes are float64; `filled` is uint8. ZSTD,
 * no dictionary (prices rarely repeat: dictionaries cost time and gain nothing), key-value
 * metadata naming the symbol, interval, schema version and producer.
 */
export interface ParquetMeta {
  symbol: string;
  interval: string;
  [key: string]: string;
}

const WRITE_BATCH_ROWS = 1 << 20;
/** The key-value metadata key holding the file's JSON description. */
export const META_KEY = 'threadx';

export function encodeCandles(c: Candles, meta: ParquetMeta): Uint8Array {
  const n = c.length;
  return encode(
    c.openTime.subarray(0, n),
    [
      ...FLOAT_COLUMNS.map((k): Column => ({ name: STORED_NAMES[k], data: c[k].subarray(0, n) })),
      { name: STORED_NAMES.filled, data: c.filled.subarray(0, n) },
    ],
    meta,
  );
}

interface Column {
  name: string;
  /** float64 columns, or uint8 for flags. */
  data: Float64Array | Uint8Array;
}

/**
 * The one Parquet writer: `timestamp` as an Arrow timestamp(ms, "UTC") plus the columns, ZSTD,
 * no dictionary, and one JSON key-value entry (the writer keeps key-value metadata in a hash
 * map, so several keys would come out in a random order and identical data would not give
 * identical bytes).
 */
function encode(timestamp: Float64Array, columns: Column[], meta: ParquetMeta): Uint8Array {
  const n = timestamp.length;
  // int64 without a BigInt per row: write the two 32-bit halves (little-endian).
  const ts = new BigInt64Array(n);
  const halves = new Int32Array(ts.buffer);
  for (let i = 0; i < n; i++) {
    const t = timestamp[i];
    const hi = Math.floor(t / 4294967296);
    halves[2 * i] = t - hi * 4294967296;
    halves[2 * i + 1] = hi;
  }
  const tsType = new arrow.TimestampMillisecond('UTC');
  const typeOf = (c: Column): arrow.DataType =>
    c.data instanceof Uint8Array ? new arrow.Uint8() : new arrow.Float64();
  const fields = [
    new arrow.Field(STORED_NAMES.openTime, tsType, false),
    ...columns.map((c) => new arrow.Field(c.name, typeOf(c), false)),
  ];
  const kv = new Map<string, string>([
    [
      META_KEY,
      JSON.stringify({ producer: PRODUCER, schema_version: PARQUET_SCHEMA_VERSION, ...meta }),
    ],
  ]);
  const schema = new arrow.Schema(fields, kv);
  const children = [
    arrow.makeData({ type: tsType, length: n, nullCount: 0, data: ts }),
    ...columns.map((c) =>
      arrow.makeData({ type: typeOf(c), length: n, nullCount: 0, data: c.data } as never),
    ),
  ];
  const batch = new arrow.RecordBatch(
    schema,
    arrow.makeData({ type: new arrow.Struct(schema.fields), length: n, nullCount: 0, children }),
  );
  const ipc = arrow.tableToIPC(new arrow.Table(schema, [batch]), 'stream');
  const table = pq.Table.fromIPCStream(ipc);
  // BYTE_STREAM_SPLIT groups the bytes of each float by significance, and DELTA_BINARY_PACKED
  // stores the regular 60 000 ms steps as near-zero deltas: both let ZSTD work on far more
  // regular input, which here makes writing 1.6x and reading 1.8x faster (DuckDB, Polars and
  // pyarrow read both encodings).
  let builder = new pq.WriterPropertiesBuilder()
    .setCompression(pq.Compression.ZSTD)
    .setDictionaryEnabled(false)
    .setColumnEncoding(STORED_NAMES.openTime, pq.Encoding.DELTA_BINARY_PACKED);
  for (const c of columns) {
    if (c.data instanceof Float64Array)
      builder = builder.setColumnEncoding(c.name, pq.Encoding.BYTE_STREAM_SPLIT);
  }
  const props = builder
    .setCreatedBy(PRODUCER)
    .setMaxRowGroupSize(WRITE_BATCH_ROWS)
    .setKeyValueMetadata(kv)
    .build();
  return pq.writeParquet(table, props);
}

export class ParquetFormatError extends ThreadxError {
  override readonly name = 'ParquetFormatError';
  constructor(message: string) {
    super('PARQUET', message, 'Run "threadx verify" to find the damaged files.');
  }
}

/** Reads a candle file written by `encodeCandles` (or any file with the same column names). */
export function decodeCandles(
  bytes: Uint8Array,
  source = 'file',
): { candles: Candles; meta: Record<string, string> } {
  let table: arrow.Table;
  try {
    const wasmTable = pq.readParquet(bytes, { batchSize: 1 << 20 });
    table = arrow.tableFromIPC(wasmTable.intoIPCStream());
  } catch (e) {
    throw new ParquetFormatError(
      `${source} is not a readable Parquet file: ${(e as Error).message ?? e}`,
    );
  }
  const n = table.numRows;
  const c = allocCandles(n);
  c.length = n;
  const tsCol = table.getChild(STORED_NAMES.openTime);
  if (!tsCol) throw new ParquetFormatError(`${source} has no ${STORED_NAMES.openTime} column`);
  readTimestamps(tsCol, c.openTime);
  for (const col of FLOAT_COLUMNS) {
    const vec = table.getChild(STORED_NAMES[col]);
    if (!vec) throw new ParquetFormatError(`${source} has no ${STORED_NAMES[col]} column`);
    copyColumn(vec, c[col]);
  }
  const filled = table.getChild(STORED_NAMES.filled);
  if (filled) copyColumn(filled, c.filled);
  let meta: Record<string, string> = {};
  const raw = table.schema.metadata.get(META_KEY);
  if (raw) {
    try {
      meta = JSON.parse(raw) as Record<string, string>;
    } catch {
      meta = {};
    }
  }
  return { candles: c, meta };
}

/** int64 milliseconds to float64, from the two 32-bit halves: no BigInt per row. */
function readTimestamps(vec: arrow.Vector, dst: Float64Array): void {
  let k = 0;
  for (const d of vec.data) {
    const v = d.values as BigInt64Array | Float64Array | Int32Array;
    const o = d.offset;
    if (v instanceof BigInt64Array) {
      const halves = new Int32Array(v.buffer, v.byteOffset + o * 8, d.length * 2);
      for (let i = 0; i < d.length; i++)
        dst[k + i] = halves[2 * i + 1] * 4294967296 + (halves[2 * i] >>> 0);
    } else {
      for (let i = 0; i < d.length; i++) dst[k + i] = Number(v[o + i]);
    }
    k += d.length;
  }
}

function copyColumn(vec: arrow.Vector, dst: Float64Array | Uint8Array): void {
  let k = 0;
  for (const d of vec.data) {
    const v = d.values as ArrayLike<number>;
    const o = d.offset;
    if (v instanceof Float64Array || v instanceof Uint8Array) {
      dst.set(v.subarray(o, o + d.length), k);
    } else {
      for (let i = 0; i < d.length; i++) dst[k + i] = Number(v[o + i]);
    }
    k += d.length;
  }
}

/** Named float64 columns over a shared time axis (indicator outputs), as read back from Parquet. */
export interface ColumnsFile {
  /** Row times (ms, UTC), from the `timestamp` column. */
  timestamp: Float64Array;
  columns: Record<string, Float64Array>;
  meta: Record<string, string>;
}

/**
 * Encodes `timestamp` (ms, UTC) plus named float64 columns, in the given order, with the same
 * conventions as `encodeCandles`: `timestamp` an Arrow timestamp(ms, "UTC"), ZSTD, no
 * dictionary, one JSON key-value metadata entry. NaN is stored as a NaN value, not as a null, so
 * the columns stay non-nullable float64 (pandas and DuckDB read NaN).
 */
export function encodeColumns(
  timestamp: Float64Array,
  columns: Record<string, Float64Array>,
  meta: ParquetMeta,
): Uint8Array {
  const n = timestamp.length;
  const names = Object.keys(columns);
  for (const name of names) {
    if (name === STORED_NAMES.openTime) throw new Error(`column name ${name} is reserved`);
    if (columns[name].length !== n) {
      throw new RangeError(`column ${name} has ${columns[name].length} rows, expected ${n}`);
    }
  }
  return encode(
    timestamp,
    names.map((name) => ({ name, data: columns[name] })),
    meta,
  );
}

/** Reads a file written by `encodeColumns`: the timestamp plus every other column as float64. */
export function decodeColumns(bytes: Uint8Array, source = 'file'): ColumnsFile {
  let table: arrow.Table;
  try {
    const wasmTable = pq.readParquet(bytes, { batchSize: 1 << 20 });
    table = arrow.tableFromIPC(wasmTable.intoIPCStream());
  } catch (e) {
    throw new ParquetFormatError(
      `${source} is not a readable Parquet file: ${(e as Error).message ?? e}`,
    );
  }
  const n = table.numRows;
  const tsCol = table.getChild(STORED_NAMES.openTime);
  if (!tsCol) throw new ParquetFormatError(`${source} has no ${STORED_NAMES.openTime} column`);
  const timestamp = new Float64Array(n);
  readTimestamps(tsCol, timestamp);
  const columns: Record<string, Float64Array> = {};
  for (const field of table.schema.fields) {
    if (field.name === STORED_NAMES.openTime) continue;
    const vec = table.getChild(field.name);
    if (!vec) continue;
    const out = new Float64Array(n);
    copyColumn(vec, out);
    columns[field.name] = out;
  }
  let meta: Record<string, string> = {};
  const raw = table.schema.metadata.get(META_KEY);
  if (raw) {
    try {
      meta = JSON.parse(raw) as Record<string, string>;
    } catch {
      meta = {};
    }
  }
  return { timestamp, columns, meta };
}
