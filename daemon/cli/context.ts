import type { ParseArgsConfig } from 'node:util';
import type { Config } from '../../schemas/config.ts';
import type { Bank } from '../store/bank.ts';

export const EXIT = { ok: 0, problems: 1, usage: 2, storage: 3, failure: 3 } as const;

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface CommandContext {
  config: Config;
  dataDir: string;
  json: boolean;
  /** `write` (default) holds the bank's lock until the command ends, or throws LOCKED. */
  openBank(mode?: 'read' | 'write'): Promise<Bank>;
  out(text: string): void;
  err(text: string): void;
}

/** A command registered by a later layer (ingest, serve, replay, indicators). */
export interface CliCommand {
  name: string;
  usage: string;
  summary: string;
  options: ParseArgsConfig['options'];
  run(ctx: CommandContext, values: Record<string, unknown>, positionals: string[]): Promise<number>;
  /** Takes the raw arguments instead (commands with an option parser of their own). */
  raw?: (argv: string[]) => Promise<number>;
}

export const COMMANDS: CliCommand[] = [];
