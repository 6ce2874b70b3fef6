/**
 * The daemon's lifecycle, as a language client manages its server: start the bundled daemon over
 * stdio (or join one already serving the same data directory), `initialize`, subscribe to its log,
 * restart it after a crash at most 4 times in 3 minutes, and stop it with `shutdown` + `exit`
 * under a timeout, killing it only if it does not go.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as vscode from 'vscode';
import { ThreadxClient } from '../daemon/rpc/client.ts';
import { PROTOCOL_VERSION, type Result } from '../schemas/protocol.ts';
import { findDaemon, readToken } from './discovery.ts';
import { describeError } from './errors.ts';
import { daemonLaunch } from './launch.ts';
import { messages } from './messages.ts';
import { RestartPolicy } from './restarts.ts';
import type { DaemonState } from './status-model.ts';

export interface DaemonOptions {
  cliPath: string;
  /** Called before every start: the data directory and the config file to use. */
  prepare: () => Promise<{ dataDir: string; configFile: string | undefined }>;
  log: vscode.LogOutputChannel;
  extensionVersion: string;
}

export interface Connected {
  client: ThreadxClient;
  info: Result<'initialize'>;
  /** Set when this window started the daemon (not when it joined one). */
  child: ChildProcess | undefined;
  dataDir: string;
  configFile: string | undefined;
}

const STOP_TIMEOUT_MS = 4000;

export class DaemonHost implements vscode.Disposable {
  private readonly stateEmitter = new vscode.EventEmitter<DaemonState>();
  private readonly connectEmitter = new vscode.EventEmitter<Connected>();
  /** Fires with every new state. */
  readonly onDidChangeState = this.stateEmitter.event;
  /** Fires after each successful `initialize`: listeners subscribe to notifications there. */
  readonly onDidConnect = this.connectEmitter.event;
  readonly policy = new RestartPolicy();

  private current: Connected | undefined;
  private starting: Promise<Connected> | undefined;
  private stopping = false;
  private _state: DaemonState = { kind: 'stopped' };

  constructor(private readonly opts: DaemonOptions) {}

  get state(): DaemonState {
    return this._state;
  }

  get connection(): Connected | undefined {
    return this.current;
  }

  private setState(s: DaemonState): void {
    this._state = s;
    this.stateEmitter.fire(s);
  }

  /** The connected client, starting the daemon first when needed. */
  async client(): Promise<ThreadxClient> {
    if (this.current && !this.current.client.isClosed) return this.current.client;
    if (this._state.kind === 'failed') throw new Error(messages.daemonNotRunning());
    return (await this.start()).client;
  }

  start(): Promise<Connected> {
    if (this.current && !this.current.client.isClosed) return Promise.resolve(this.current);
    this.starting ??= this.connect().finally(() => {
      this.starting = undefined;
    });
    return this.starting;
  }

  private async connect(): Promise<Connected> {
    this.stopping = false;
    if (this._state.kind !== 'restarting') this.setState({ kind: 'starting' });
    const { dataDir, configFile } = await this.opts.prepare();
    const log = this.opts.log;
    try {
      await fsp.mkdir(dataDir, { recursive: true });
      const joined = await this.tryJoin(dataDir);
      const conn = joined ?? (await this.spawnDaemon(dataDir, configFile));
      this.current = conn;
      conn.client.onClose(() => this.onClosed(conn));
      conn.client.onNotification('log/message', (m) => {
        const line = `[daemon] ${m.message}`;
        if (m.level === 'error') log.error(line);
        else if (m.level === 'warn') log.warn(line);
        else if (m.level === 'debug') log.debug(line);
        else log.info(line);
      });
      try {
        await conn.client.request('logs/subscribe', { level: 'info', tail: joined ? 0 : 20 });
      } catch (e) {
        log.warn(`logs/subscribe: ${describeError(e)}`);
      }
      log.info(
        joined
          ? messages.daemonJoined(conn.info.pid)
          : messages.daemonReady(conn.info.serverInfo.version, conn.info.pid),
      );
      this.setState({
        kind: 'ready',
        pid: conn.info.pid,
        version: conn.info.serverInfo.version,
        joined: joined !== undefined,
      });
      this.connectEmitter.fire(conn);
      return conn;
    } catch (e) {
      const reason = messages.daemonFailedToStart(describeError(e));
      log.error(reason);
      this.setState({ kind: 'failed', reason });
      throw new Error(reason, { cause: e });
    }
  }

  private async tryJoin(dataDir: string): Promise<Connected | undefined> {
    const found = await findDaemon(dataDir, PROTOCOL_VERSION.split('.')[0]);
    if (!found) return undefined;
    try {
      const client =
        found.socket !== undefined
          ? await ThreadxClient.connectSocket(found.socket)
          : await ThreadxClient.connectPort(found.port!);
      const token = found.port !== undefined ? await readToken(dataDir, found) : undefined;
      const info = await client.initialize(this.initParams(token));
      return { client, info, child: undefined, dataDir, configFile: undefined };
    } catch (e) {
      this.opts.log.warn(`could not join the daemon in ${found.file}: ${describeError(e)}`);
      return undefined;
    }
  }

  private initParams(token?: string) {
    return {
      clientInfo: { name: 'threadx-vscode', version: this.opts.extensionVersion },
      ...(token ? { token } : {}),
    };
  }

  private async spawnDaemon(dataDir: string, configFile: string | undefined): Promise<Connected> {
    const launch = daemonLaunch({
      execPath: process.execPath,
      electronVersion: process.versions.electron,
      cliPath: this.opts.cliPath,
      dataDir,
      configFile,
      env: process.env,
    });
    const log = this.opts.log;
    log.info(messages.daemonStarting(dataDir));
    log.debug(`${launch.command} ${launch.args.join(' ')}`);
    const child = spawn(launch.command, launch.args, {
      env: launch.env,
      stdio: ['pipe', 'pipe', 'pipe'],
      windowsHide: true,
    });
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (t: string) => {
      for (const line of t.split('\n')) if (line.trim()) log.warn(`[daemon stderr] ${line}`);
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    const client = ThreadxClient.overStreams(child.stdout!, child.stdin!);
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code, signal) =>
        reject(new Error(`the daemon exited during startup (${signal ?? `code ${code}`})`)),
      ),
    );
    try {
      const info = await Promise.race([client.initialize(this.initParams()), exited]);
      return { client, info, child, dataDir, configFile };
    } catch (e) {
      client.close();
      if (child.exitCode === null) child.kill('SIGKILL');
      throw e;
    }
  }

  private onClosed(conn: Connected): void {
    if (this.current === conn) this.current = undefined;
    if (this.stopping) return;
    const child = conn.child;
    const report = (code: number | null, signal: string | null): void => {
      if (this.stopping) return;
      if (this.policy.shouldRestart(Date.now())) {
        const msg = messages.daemonCrashedRestarting(
          code,
          signal,
          this.policy.recent,
          this.policy.max,
        );
        this.opts.log.warn(msg);
        void vscode.window.showWarningMessage(msg);
        this.setState({ kind: 'restarting', attempt: this.policy.recent });
        this.start().catch(() => undefined);
      } else {
        const msg = messages.daemonGaveUp(this.policy.max, this.policy.windowMs / 60_000);
        this.opts.log.error(msg);
        this.setState({ kind: 'failed', reason: msg });
        void vscode.window
          .showErrorMessage(msg, messages.showLogs(), messages.restartNow())
          .then((pick) => {
            if (pick === messages.showLogs()) this.opts.log.show();
            else if (pick === messages.restartNow()) void this.restart();
          });
      }
    };
    if (child && child.exitCode === null && child.signalCode === null) {
      child.once('exit', report);
    } else {
      report(child?.exitCode ?? null, child?.signalCode ?? null);
    }
  }

  /** LSP's stop: `shutdown`, `exit`, then kill if it is still there after the timeout. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.starting?.catch(() => undefined);
    const conn = this.current;
    this.current = undefined;
    if (!conn) {
      this.setState({ kind: 'stopped' });
      return;
    }
    const child = conn.child;
    const exited =
      child && child.exitCode === null && child.signalCode === null
        ? new Promise<void>((resolve) => child.once('exit', () => resolve()))
        : Promise.resolve();
    await conn.client.stop(STOP_TIMEOUT_MS);
    if (child) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timedOut = await Promise.race([
        exited.then(() => false),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), STOP_TIMEOUT_MS);
        }),
      ]);
      clearTimeout(timer);
      if (timedOut) {
        this.opts.log.warn('the daemon did not exit after shutdown; killing it');
        child.kill('SIGKILL');
        await exited;
      }
    }
    this.setState({ kind: 'stopped' });
  }

  async restart(): Promise<Connected> {
    await this.stop();
    this.policy.reset();
    return this.start();
  }

  dispose(): void {
    void this.stop();
    this.stateEmitter.dispose();
    this.connectEmitter.dispose();
  }
}
