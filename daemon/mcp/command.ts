/**
 * `threadx mcp`: the Model Context Protocol server over stdio, for agents (VS Code's agent mode,
 * Claude Desktop, Cursor ...). Reads the bank without a lock; `--allow-writes` lets the `ingest`
 * tool run in the daemon that holds the bank. The entry point (`daemon/cli/bin.ts`) adds it to the
 * CLI's commands.
 */
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { EXIT } from '../../schemas/errors.ts';
import type { CliCommand } from '../app/command.ts';
import { loadConfig } from '../app/bank.ts';
import { joinIngest } from '../rpc/join.ts';
import { createMcpServer, settled } from './server.ts';

export const mcpCommand: CliCommand = {
  name: 'mcp',
  usage: 'mcp [--allow-writes]',
  summary: 'serve the bank to agents over the Model Context Protocol (stdio)',
  options: {
    'allow-writes': { type: 'boolean', default: false },
  },
  async run(ctx, values) {
    // As `serve`: a threadx.toml in the working directory, else one in the data folder.
    let { file } = await loadConfig(process.cwd(), values.config as string | undefined);
    let config = ctx.config;
    if (!file && values.config === undefined) {
      const inData = await loadConfig(ctx.dataDir);
      if (inData.file) ({ config, file } = inData);
    }
    const server = createMcpServer({
      dataDir: ctx.dataDir,
      config,
      configFile: file,
      allowWrites: Boolean(values['allow-writes']),
      joinIngest,
      log: (text) => ctx.err(`threadx mcp: ${text}`),
    });
    const transport = new StdioServerTransport();
    const closed = new Promise<void>((resolve) => (server.onclose = resolve));
    // The client ends the session by closing our stdin; what it asked before is answered first.
    process.stdin.once('end', () => void settled(server).then(() => server.close()));
    await server.connect(transport);
    await closed;
    return EXIT.ok;
  },
};
