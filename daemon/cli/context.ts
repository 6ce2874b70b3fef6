import { ThreadxError, USAGE_HINT } from '../../schemas/errors.ts';

export { EXIT } from '../../schemas/errors.ts';
export type { CliCommand, CommandContext } from '../app/command.ts';

/** A command line that cannot be run as given (code `BAD_INPUT`, exit 2). */
export class UsageError extends ThreadxError {
  override readonly name = 'UsageError';
  constructor(message: string, hint = USAGE_HINT) {
    super('BAD_INPUT', message, hint);
  }
}

/** Why a `--join` (ingest, repair) cannot run: one wording for every command that has it. */
export const joinRefusals = {
  overrides: (): UsageError =>
    new UsageError(
      'The options --base-url and --archive-url do not go with --join: the daemon uses its own configuration.',
    ),
  noProgram: (): UsageError =>
    new UsageError('The option --join needs the threadx program (it talks to the daemon).'),
  noDaemon: (dataDir: string): UsageError =>
    new UsageError(
      `No running daemon with an endpoint serves ${dataDir}.`,
      'Run the command without --join.',
    ),
};
