/**
 * The bank's one-writer lock (`store/lock.ts`), for the layers above the application: the daemon
 * holds it for its whole life, a CLI command that writes takes it through `openBank`.
 */
export {
  BANK_LOCK,
  type AcquireOutcome,
  type BankLock,
  type LockOwner,
  acquireBankLock,
  isAlive,
  isLocalOwner,
  lockOwner,
  lockedError,
  watchingMessage,
} from '../store/lock.ts';
