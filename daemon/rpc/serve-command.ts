/**
 * The `serve` command of the `threadx` program: parses its flags and hands over to
 * `transports.ts`. The entry point (`daemon/cli/bin.ts`) adds it to the CLI's commands.
 */
import { EXIT, ThreadxError, USAGE_HINT } from '../../schemas/errors.ts';
import type { CliCommand } from '../app/command.ts';
import { loadConfig } from '../app/bank.ts';
import { serve } from './transports.ts';

class UsageError extends ThreadxError {
  constructor(message: string) {
    super('BAD_INPUT', message, USAGE_HINT);
  }
}

export const serveCommand: CliCommand = {
  name: 'serve',
  usage: 'serve --stdio|--socket P|--port N',
  summary: 'run the daemon (JSON-RPC, LSP framing); --join, --idle-timeout S',
  options: {
    stdio: { type: 'boolean', default: false },
    socket: { type: 'string' },
    port: { type: 'string' },
    join: { type: 'boolean', default: false },
    'idle-timeout': { type: 'string' },
  },
  async run(ctx, values) {
    const modes = [
      values.stdio ? 'stdio' : null,
      values.socket ? 'socket' : null,
      values.port !== undefined ? 'port' : null,
    ].filter((m): m is 'stdio' | 'socket' | 'port' => m !== null);
    if (modes.length !== 1)
      throw new UsageError('Choose exactly one of --stdio, --socket PATH or --port N.');
    const mode = modes[0];
    const port = values.port === undefined ? undefined : Number(values.port);
    if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535)) {
      throw new UsageError(
        `The option --port must be a whole number from 0 to 65535, not ${JSON.stringify(values.port)}.`,
      );
    }
    const idle = values['idle-timeout'] === undefined ? undefined : Number(values['idle-timeout']);
    if (idle !== undefined && !(Number.isFinite(idle) && idle >= 0)) {
      throw new UsageError(
        `The option --idle-timeout must be a number of seconds, not ${JSON.stringify(values['idle-timeout'])}.`,
      );
    }
    if (values.join && mode !== 'stdio')
      throw new UsageError('The option --join goes with --stdio only.');
    // The config file's path is reported by config/get; ctx has the parsed config only.
    let { file } = await loadConfig(process.cwd(), values.config as string | undefined);
    let config = ctx.config;
    if (!file && values.config === undefined) {
      const inData = await loadConfig(ctx.dataDir);
      if (inData.file) ({ config, file } = inData);
    }
    const code = await serve({
      dataDir: ctx.dataDir,
      config,
      configFile: file,
      mode,
      ...(values.socket ? { socketPath: values.socket as string } : {}),
      ...(port !== undefined ? { port } : {}),
      join: Boolean(values.join),
      ...(idle !== undefined ? { idleTimeout: idle } : {}),
      report: (text) => ctx.err(`threadx serve: ${text}`),
    });
    // Let the last answers drain from stdout, then leave even if a timer or socket lingers.
    await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
    process.exit(code === 0 ? EXIT.ok : code);
  },
};
