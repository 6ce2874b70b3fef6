/**
 * A command of the `threadx` program, as the CLI parser runs it. Declared here, under both the
 * CLI and the daemon, so `threadx serve` (the daemon's own command) is wired into the CLI by the
 * entry point without either folder importing the other.
 */
import type { ParseArgsConfig } from 'node:util';
import type { Config } from '../../schemas/config.ts';
import type { Bank } from '../store/bank.ts';

export interface CommandContext {
  config: Config;
  dataDir: string;
  json: boolean;
  openBank(): Promise<Bank>;
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
