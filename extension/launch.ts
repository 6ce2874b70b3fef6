/**
 * How to start the bundled daemon. On desktop VS Code `process.execPath` is the Electron binary,
 * which runs as plain Node only with `ELECTRON_RUN_AS_NODE=1`; in a remote or web extension host
 * (code-server, Codespaces) it already is Node.
 *
 * No `vscode` here: the caller passes what it knows about the host.
 */
export interface LaunchInput {
  execPath: string;
  /** `process.versions.electron`, when the extension host runs inside Electron. */
  electronVersion: string | undefined;
  cliPath: string;
  dataDir: string;
  configFile: string | undefined;
  env: NodeJS.ProcessEnv;
}

export interface LaunchCommand {
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
}

export function daemonLaunch(input: LaunchInput): LaunchCommand {
  // `--join`: if another window's daemon serves this data directory, proxy to it instead.
  const args = [input.cliPath, 'serve', '--stdio', '--join', '--data-dir', input.dataDir];
  if (input.configFile) args.push('--config', input.configFile);
  const env: NodeJS.ProcessEnv = { ...input.env };
  if (input.electronVersion) env.ELECTRON_RUN_AS_NODE = '1';
  else delete env.ELECTRON_RUN_AS_NODE;
  return { command: input.execPath, args, env };
}
