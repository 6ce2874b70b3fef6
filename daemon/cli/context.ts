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
