/**
 * A Parquet codec worker: encodes and decodes candle files, and parses kline archives, off the
 * main thread, so a bank with
 * many monthly partitions uses every core (parquet-wasm itself is single-threaded).
 */
import { parentPort } from 'node:worker_threads';
import { FLOAT_COLUMNS, type Candles, trimCandles } from '../../schemas/candles.ts';
import { parseArchiveZipHead } from '../engine/archive-file.ts';
import { decodeCandles, encodeCandles, type ParquetMeta } from './parquet.ts';
import type { CodecRequest, CodecResponse } from './codec-pool.ts';

const port = parentPort;
if (!port) throw new Error('codec-worker must run in a worker thread');

port.on('message', (req: CodecRequest) => {
  let res: CodecResponse;
  const transfer: ArrayBuffer[] = [];
  try {
    if (req.op === 'encode') {
      const bytes = encodeCandles(req.candles as Candles, req.meta as ParquetMeta);
      res = { id: req.id, ok: true, bytes };
      transfer.push(bytes.buffer as ArrayBuffer);
    } else if (req.op === 'archive') {
      const parsed = parseArchiveZipHead(req.bytes, req.source);
      const candles = trimCandles(parsed.candles);
      res = { id: req.id, ok: true, candles, meta: { head: parsed.head } };
      transfer.push(candles.openTime.buffer as ArrayBuffer, candles.filled.buffer as ArrayBuffer);
      for (const k of FLOAT_COLUMNS) transfer.push(candles[k].buffer as ArrayBuffer);
    } else {
      const { candles, meta } = decodeCandles(req.bytes, req.source);
      res = { id: req.id, ok: true, candles, meta };
      transfer.push(candles.openTime.buffer as ArrayBuffer, candles.filled.buffer as ArrayBuffer);
      for (const k of FLOAT_COLUMNS) transfer.push(candles[k].buffer as ArrayBuffer);
    }
  } catch (e) {
    res = { id: req.id, ok: false, name: (e as Error).name, message: (e as Error).message };
  }
  port.postMessage(res, transfer);
});
