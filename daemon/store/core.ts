/**
 * What every part of the bank shares: its folder, its registry, its lock, its clock, and the two
 * errors a read or a write answers with. The parts (`partitions.ts`, `journal.ts`, `writes.ts`,
 * `derive.ts`) are functions over a `BankCore`; `bank.ts` is the one class that holds it.
 */
import { type ErrorDetails, ThreadxError } from '../../schemas/errors.ts';
import type { Registry } from '../../schemas/registry.ts';
import type { Layout } from './layout.ts';
import type { BankLock } from './lock.ts';
import type { RegistryStore } from './registry.ts';

export interface BankCore {
  readonly layout: Layout;
  /** The registry and its saves; `reg` is `store.reg`. */
  readonly store: RegistryStore;
  readonly reg: Registry;
  /** Gaps of at most this many minutes confirmed empty are filled (see `BankOptions`). */
  readonly maxFill: number;
  readonly now: () => number;
  /** The bank's lock when the caller holds it: every commit checks it is still held. */
  readonly lock: BankLock | undefined;
  /** What recovery did that a person should know (journals quarantined), one sentence each. */
  readonly recoveryNotes: string[];
}

export class DataContractError extends ThreadxError {
  override readonly name = 'DataContractError';
  constructor(message: string, details: ErrorDetails = {}) {
    super('DATA_CONTRACT', message, undefined, details);
  }
}

export class NotFoundError extends ThreadxError {
  override readonly name = 'NotFoundError';
  constructor(message: string, details: ErrorDetails = {}) {
    super('NOT_FOUND', message, 'Run "threadx list" to see what the bank holds.', details);
  }
}
