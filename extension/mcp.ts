/**
 * Registers ThreadX's MCP server with VS Code (`contributes.mcpServerDefinitionProviders`), so
 * agent mode sees its tools with no configuration. VS Code before the MCP API (1.101) has no
 * `lm.registerMcpServerDefinitionProvider`: there the registration is skipped and logged.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import type { Ctx } from './ctx.ts';
import { MCP_PROVIDER_ID, MCP_SERVER_LABEL, mcpServerLaunch } from './mcp-launch.ts';

/** The parts of VS Code's MCP API used here (absent from the 1.90 typings this builds against). */
interface McpApi {
  registerMcpServerDefinitionProvider(
    id: string,
    provider: {
      onDidChangeMcpServerDefinitions?: vscode.Event<void>;
      provideMcpServerDefinitions(): unknown[];
    },
  ): vscode.Disposable;
}
type McpStdioServerDefinitionCtor = new (
  label: string,
  command: string,
  args?: string[],
  env?: Record<string, string | number | null>,
  version?: string,
) => unknown;

/** What VS Code asks for ThreadX's MCP servers. */
export interface McpProvider {
  provideMcpServerDefinitions(): unknown[];
}

/** Registers the provider when this VS Code has the MCP API; returns it (for tests), or undefined. */
export function registerMcpServer(ctx: Ctx): McpProvider | undefined {
  const lm = (vscode as unknown as { lm?: Partial<McpApi> }).lm;
  const Definition = (
    vscode as unknown as { McpStdioServerDefinition?: McpStdioServerDefinitionCtor }
  ).McpStdioServerDefinition;
  if (typeof lm?.registerMcpServerDefinitionProvider !== 'function' || !Definition) {
    ctx.log.info('This VS Code has no MCP API: the ThreadX MCP server is not registered.');
    return undefined;
  }
  const changed = new vscode.EventEmitter<void>();
  const provider: McpProvider & { onDidChangeMcpServerDefinitions: vscode.Event<void> } = {
    onDidChangeMcpServerDefinitions: changed.event,
    provideMcpServerDefinitions: () => [definition(ctx, Definition)],
  };
  ctx.push(
    changed,
    lm.registerMcpServerDefinitionProvider(MCP_PROVIDER_ID, provider),
    // The data folder follows the settings: agents get the bank this window shows.
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('threadx.dataDirectory')) changed.fire();
    }),
  );
  return provider;
}

/** The server definition for this window's bank (also what tests inspect). */
export function mcpDefinitionArgs(ctx: Ctx): { command: string; args: string[] } {
  const configFile = path.join(ctx.extension.globalStorageUri.fsPath, 'threadx.toml');
  const l = mcpServerLaunch({
    execPath: process.execPath,
    electronVersion: process.versions.electron,
    cliPath: ctx.extension.asAbsolutePath(path.join('dist', 'cli.js')),
    dataDir: ctx.dataDir,
    configFile: existsSync(configFile) ? configFile : undefined,
    env: {},
  });
  return { command: l.command, args: l.args };
}

function definition(ctx: Ctx, Definition: McpStdioServerDefinitionCtor): unknown {
  const { command, args } = mcpDefinitionArgs(ctx);
  const env: Record<string, string> = process.versions.electron
    ? { ELECTRON_RUN_AS_NODE: '1' }
    : {};
  return new Definition(
    MCP_SERVER_LABEL,
    command,
    args,
    env,
    ctx.extension.extension.packageJSON.version as string,
  );
}
