/** The commands beyond the bank's own (`import`, `list` ...), in the order `--help` lists them. */
import type { CliCommand } from './context.ts';
import { coverageCommand } from './coverage.ts';
import { demoCommand, ingestCommand, replayCommand } from './ingest.ts';
import { indicatorsCommand, withIndicatorRefresh } from './indicators.ts';
import { repairCommand } from './repair.ts';
import { watchCommand } from './watch.ts';

export const COMMANDS: readonly CliCommand[] = [
  withIndicatorRefresh(ingestCommand),
  replayCommand,
  demoCommand,
  indicatorsCommand,
  repairCommand,
  watchCommand,
  coverageCommand,
];
