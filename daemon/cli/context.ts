import { ThreadxError } from '../../schemas/errors.ts';
import type { ParseArgsConfig } from 'node:util';
import type { Config } from '../../schemas/config.ts';
import type { Bank } from '../store/bank.ts';

export { EXIT } from '../../schemas/errors.ts';

/** A command line that cannot be run as given (code `BAD_INPUT`, exit 2). */
export class UsageError extends ThreadxError {
  override readonly name = 'UsageError';
  constructor(message: string, hint = 'Run "threadx --help" for the commands and options.') {
    super('BAD_INPUT', message, hint);
  }
}

export interface CommandContext {
  config: Config;
  dataDir: string;
  json: boolean;
  openBank(): Promise<Bank>;
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
