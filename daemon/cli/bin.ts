/**
 * The `threadx` program's entry point and composition root: the CLI's commands plus the daemon's
 * `serve` and the agents' `mcp`. The only module that joins the two folders.
 */
import { main } from './main.ts';
import { COMMANDS } from './commands.ts';
import { serveCommand } from '../rpc/serve-command.ts';
import { joinIngest, joinRepair } from '../rpc/join.ts';
import { mcpCommand } from '../mcp/command.ts';

process.exitCode = await main(process.argv.slice(2), [...COMMANDS, serveCommand, mcpCommand], {
  joinIngest,
  joinRepair,
});
