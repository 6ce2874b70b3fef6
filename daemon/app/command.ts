/**
 * A command of the `threadx` program, as the CLI parser runs it. Declared here, under both the
 * CLI and the daemon, so `threadx serve` (the daemon's own command) is wired into the CLI by the
 * entry point without either folder importing the other.
 */
import type { ParseArgsConfig } from 'node:util';
import type { Config } from '../../schemas/config.ts';
import type { Bank } from '../store/bank.ts';
import type { Params, Result } from '../../schemas/protocol.ts';

/** The bank opened to read (no lock) or to write (the bank's lock held until the command ends). */
export type BankMode = 'read' | 'write';

/** Runs an ingest in the daemon that serves the bank (`ingest --join`); null when none does. */
export type JoinIngest = (
  dataDir: string,
  params: Params<'ingest/run'>,
) => Promise<{ pid: number; result: Result<'ingest/run'> } | null>;

/**
 * Runs a repair in the daemon that serves the bank (`repair --join`); null when none does.
 * `onProgress` receives the daemon's progress messages.
 */
export type JoinRepair = (
  dataDir: string,
  params: Params<'registry/repair'>,
  onProgress?: (message: string) => void,
) => Promise<{ pid: number; result: Result<'registry/repair'> } | null>;

export interface CommandContext {
  config: Config;
  dataDir: string;
  json: boolean;
  /**
   * `write` (the default) holds the bank's lock until the command ends, or throws LOCKED naming
   * the holder; `read` takes no lock.
   */
  openBank(mode?: BankMode): Promise<Bank>;
  /** Present when the program can talk to a daemon (the entry point wires it in). */
  joinIngest?: JoinIngest;
  /** Present when the program can talk to a daemon (the entry point wires it in). */
  joinRepair?: JoinRepair;
  out(text: string): void;
  err(text: string): void;
}

export interface CliCommand {
  name: string;
  usage: string;
  summary: string;
  options: ParseArgsConfig['options'];
  run(ctx: CommandContext, values: Record<string, unknown>, positionals: string[]): Promise<number>;
  /** Takes the raw arguments instead (commands with an option parser of their own). */
  raw?: (argv: string[]) => Promise<number>;
}
