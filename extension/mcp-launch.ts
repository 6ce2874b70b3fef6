/**
 * How VS Code starts ThreadX's MCP server for agent mode: the bundled CLI's `mcp` command over
 * the same data folder and configuration as this window's daemon, read-only (an agent's writes
 * are for the user to allow, with `--allow-writes` in a configuration of their own).
 *
 * No `vscode` here: the caller passes what it knows about the host.
 */
import { daemonLaunch, type LaunchCommand, type LaunchInput } from './launch.ts';

export const MCP_PROVIDER_ID = 'threadx.mcp';
export const MCP_SERVER_LABEL = 'ThreadX Data';

export function mcpServerLaunch(input: LaunchInput): LaunchCommand {
  // The daemon's launch decides the executable and its environment (Electron as Node).
  const { command, env } = daemonLaunch(input);
  const args = [input.cliPath, 'mcp', '--data-dir', input.dataDir];
  if (input.configFile) args.push('--config', input.configFile);
  return { command, args, env };
}
