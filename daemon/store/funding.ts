import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { ThreadxError } from '../../schemas/errors.ts';
import { parseSymbol } from '../../schemas/common.ts';
import {
  type FundingEvent,
  fundingStoreText,
  mergeFunding,
  parseFundingStore,
} from '../engine/funding.ts';
import { sha256Hex } from '../engine/archive-file.ts';
import { writeFileAtomic } from './atomic.ts';
import type { Layout } from './layout.ts';

/**
 * The funding-rate history of a perpetual, its own dataset beside the contract's klines:
 * `processed/futures-<um|cm>/funding/<SYMBOL>/funding.csv`, one event a line (ms, rate, mark
 * price) under a first line `# sha256 <hex>` of the rest. Written whole and atomically (a
 * contract's whole history is a few thousand lines), and read only when the checksum holds.
 */

export function fundingPath(layout: Layout, market: 'um' | 'cm', symbol: string): string {
  return path.join(
    layout.processed,
    `futures-${market}`,
    'funding',
    parseSymbol(symbol),
    'funding.csv',
  );
}

/** The stored events, oldest first; [] when there are none. CORRUPT when the checksum fails. */
export async function readFunding(
  layout: Layout,
  market: 'um' | 'cm',
  symbol: string,
): Promise<FundingEvent[]> {
  const file = fundingPath(layout, market, symbol);
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const nl = text.indexOf('\n');
  const head = nl < 0 ? text : text.slice(0, nl);
  const body = nl < 0 ? '' : text.slice(nl + 1);
  const m = /^# sha256 ([0-9a-f]{64})$/.exec(head);
  if (!m || m[1] !== sha256Hex(body))
    throw new ThreadxError(
      'CORRUPT',
      `The funding history ${layout.rel(file)} does not match its checksum: it was changed or damaged after it was written.`,
      `Move it away and run "threadx ingest --market ${market} --kind funding --symbols ${symbol} --start ..." again.`,
      { file: layout.rel(file) },
    );
  return parseFundingStore(body, layout.rel(file));
}

/** Merges `fresh` into the stored events and writes the whole history; returns the events added. */
export async function writeFunding(
  layout: Layout,
  market: 'um' | 'cm',
  symbol: string,
  fresh: readonly FundingEvent[],
): Promise<{ added: number; total: number }> {
  const old = await readFunding(layout, market, symbol);
  const merged = mergeFunding(old, fresh);
  const body = fundingStoreText(merged);
  await writeFileAtomic(
    fundingPath(layout, market, symbol),
    `# sha256 ${sha256Hex(body)}\n${body}`,
  );
  return { added: merged.length - old.length, total: merged.length };
}
