/**
 * The context object: it owns every long-lived thing of the extension (the daemon and its client,
 * the log channel, the status bar item, the registry cache, the running jobs) and the disposables
 * that go with them. Commands, the tree and the webview hosts receive it and stay thin.
 */
import { DatasetSelection } from './selection.ts';
import { existsSync, promises as fsp } from 'node:fs';
import path from 'node:path';
import { parse as parseToml } from 'smol-toml';
import * as vscode from 'vscode';
import type { ThreadxClient } from '../daemon/rpc/client.ts';
import type { DatasetSummary, WorkDoneProgress } from '../schemas/protocol.ts';
import type { VerifyIssue } from '../schemas/registry.ts';
import { DaemonHost } from './daemon.ts';
import { type Damage, damageOf, describeError, isCancelled } from './errors.ts';
import { messages } from './messages.ts';
import {
  type SettingKey,
  type Settings,
  DEFAULT_SETTINGS,
  SECTION,
  daemonConfigToml,
  readSettings,
  resolveDataDir,
  restartKeysAffected,
} from './settings.ts';
import { type JobStatus, statusView } from './status-model.ts';
import { type VerifyState, changedSymbols, mergeDatasets, verifyStateFrom } from './tree-model.ts';

/** The bank as last listed, with the last verify's findings; refreshed on `registry/changed`. */
export class RegistryCache implements vscode.Disposable {
  datasets: DatasetSummary[] = [];
  verify: VerifyState | undefined;
  lastVerify: { checked: number; issues: VerifyIssue[] } | undefined;
  /** Fires with the symbols whose datasets changed, or undefined when anything may have. */
  private readonly emitter = new vscode.EventEmitter<string[] | undefined>();
  readonly onDidChange = this.emitter.event;
  private pending: Promise<void> | undefined;
  private again = false;

  constructor(private readonly ctx: Ctx) {}

  /**
   * A `registry/changed`: lists again only the symbols it names and tells listeners which ones
   * changed (the tree redraws those nodes). A full refresh running meanwhile covers it.
   */
  async applyChanges(changed: readonly string[], removed: readonly string[]): Promise<void> {
    const symbols = changedSymbols(changed, removed);
    if (symbols.length === 0) return;
    if (this.pending) {
      this.again = true;
      return this.pending;
    }
    try {
      const client = await this.ctx.daemon.client();
      const fresh = await Promise.all(
        symbols.map((symbol) => client.request('registry/list', { filter: { symbol } })),
      );
      this.datasets = mergeDatasets(
        this.datasets,
        symbols,
        fresh.flatMap((r) => r.datasets),
      );
    } catch (e) {
      this.ctx.log.warn(`registry/list: ${describeError(e)}`);
      return this.refresh();
    }
    void vscode.commands.executeCommand(
      'setContext',
      'threadx.bankEmpty',
      this.datasets.length === 0,
    );
    this.emitter.fire(symbols);
  }

  /** Lists the bank again; calls arriving during a refresh coalesce into one more. */
  refresh(): Promise<void> {
    if (this.pending) {
      this.again = true;
      return this.pending;
    }
    this.pending = (async () => {
      do {
        this.again = false;
        try {
          const client = await this.ctx.daemon.client();
          const { datasets } = await client.request('registry/list', {});
          this.datasets = datasets;
        } catch (e) {
          this.ctx.log.warn(`registry/list: ${describeError(e)}`);
        }
      } while (this.again);
      this.pending = undefined;
      void vscode.commands.executeCommand(
        'setContext',
        'threadx.bankEmpty',
        this.datasets.length === 0,
      );
      this.emitter.fire(undefined);
    })();
    return this.pending;
  }

  setVerify(checked: number, issues: VerifyIssue[]): void {
    this.lastVerify = { checked, issues };
    this.verify = verifyStateFrom(true, issues);
    this.emitter.fire(undefined);
  }

  dispose(): void {
    this.emitter.dispose();
  }
}

export interface JobHandle {
  signal: AbortSignal;
  onProgress: (p: WorkDoneProgress) => void;
}

export class Ctx implements vscode.Disposable {
  readonly log: vscode.LogOutputChannel;
  readonly daemon: DaemonHost;
  readonly registry: RegistryCache;
  /** The user's selected dataset, for the API and the other tabs. */
  readonly selection: DatasetSelection;
  /** The MCP server provider registered with VS Code (absent where VS Code has no MCP API). */
  mcpProvider: { provideMcpServerDefinitions(): unknown[] } | undefined;
  readonly statusBar: vscode.StatusBarItem;
  private readonly jobs = new Set<JobStatus>();
  private readonly disposables: vscode.Disposable[] = [];
  private readonly jobEmitter = new vscode.EventEmitter<void>();
  readonly onDidChangeJobs = this.jobEmitter.event;

  constructor(readonly extension: vscode.ExtensionContext) {
    this.log = vscode.window.createOutputChannel('ThreadX', { log: true });
    this.daemon = new DaemonHost({
      cliPath: extension.asAbsolutePath(path.join('dist', 'cli.js')),
      prepare: () => this.prepareDaemon(),
      log: this.log,
      extensionVersion: String(extension.extension.packageJSON.version ?? '0'),
    });
    this.registry = new RegistryCache(this);
    this.selection = new DatasetSelection(extension.workspaceState);
    this.statusBar = vscode.window.createStatusBarItem(
      'threadx.status',
      vscode.StatusBarAlignment.Left,
      10,
    );
    this.statusBar.name = 'ThreadX Data';
    this.statusBar.command = 'threadx.openDataManager';
    this.disposables.push(
      this.log,
      this.statusBar,
      this.registry,
      this.selection,
      this.jobEmitter,
      this.daemon.onDidChangeState(() => this.updateStatus()),
      this.daemon.onDidConnect((conn) => {
        conn.client.onNotification(
          'registry/changed',
          (p) => void this.registry.applyChanges(p.changed, p.removed),
        );
        void this.registry.refresh();
      }),
      vscode.workspace.onDidChangeConfiguration((e) => this.onConfigChanged(e)),
    );
    this.updateStatus();
    this.statusBar.show();
  }

  get settings(): Settings {
    const cfg = vscode.workspace.getConfiguration(SECTION);
    return readSettings((k) => cfg.get(k));
  }

  get workspaceFolder(): string | undefined {
    return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  }

  get dataDir(): string {
    return resolveDataDir(
      this.settings.dataDirectory,
      this.workspaceFolder,
      this.extension.globalStorageUri.fsPath,
    );
  }

  client(): Promise<ThreadxClient> {
    return this.daemon.client();
  }

  /** Writes the daemon's configuration from the settings and answers where everything goes. */
  private async prepareDaemon(): Promise<{ dataDir: string; configFile: string }> {
    const cfg = vscode.workspace.getConfiguration(SECTION);
    const explicit = new Set<SettingKey>();
    for (const k of Object.keys(DEFAULT_SETTINGS) as SettingKey[]) {
      const i = cfg.inspect(k);
      if (
        i?.globalValue !== undefined ||
        i?.workspaceValue !== undefined ||
        i?.workspaceFolderValue !== undefined
      )
        explicit.add(k);
    }
    let base: Record<string, unknown> = {};
    const ws = this.workspaceFolder;
    const wsToml = ws ? path.join(ws, 'threadx.toml') : undefined;
    if (wsToml && existsSync(wsToml)) {
      try {
        base = parseToml(await fsp.readFile(wsToml, 'utf8')) as Record<string, unknown>;
      } catch (e) {
        this.log.warn(`ignoring ${wsToml}: ${(e as Error).message}`);
      }
    }
    const storage = this.extension.globalStorageUri.fsPath;
    await fsp.mkdir(storage, { recursive: true });
    const configFile = path.join(storage, 'threadx.toml');
    await fsp.writeFile(configFile, daemonConfigToml(this.settings, explicit, base));
    return { dataDir: this.dataDir, configFile };
  }

  private onConfigChanged(e: vscode.ConfigurationChangeEvent): void {
    if (!e.affectsConfiguration(SECTION)) return;
    const keys = restartKeysAffected((k) => e.affectsConfiguration(k));
    if (keys.length === 0 || this.daemon.state.kind === 'stopped') return;
    void vscode.window
      .showInformationMessage(messages.restartNeeded(keys), messages.restartNow(), messages.later())
      .then((pick) => {
        if (pick === messages.restartNow()) void this.restartDaemon();
      });
  }

  async restartDaemon(): Promise<void> {
    try {
      await this.daemon.restart();
    } catch (e) {
      this.showError(describeError(e));
    }
  }

  private updateStatus(): void {
    const v = statusView(this.daemon.state, [...this.jobs]);
    this.statusBar.text = v.text;
    this.statusBar.tooltip = v.tooltip;
    this.statusBar.backgroundColor = v.error
      ? new vscode.ThemeColor('statusBarItem.errorBackground')
      : undefined;
  }

  get runningJobs(): JobStatus[] {
    return [...this.jobs];
  }

  /**
   * Runs a long request as a job: tracked in the status bar, shown as a cancellable notification
   * (`location` may say otherwise), and cancelled through `$/cancelRequest` when the person
   * presses Cancel or `external` aborts.
   */
  async runJob<T>(
    title: string,
    work: (job: JobHandle) => Promise<T>,
    opts: { location?: vscode.ProgressLocation; external?: AbortSignal } = {},
  ): Promise<T> {
    const status: JobStatus = { title };
    this.jobs.add(status);
    this.updateStatus();
    this.jobEmitter.fire();
    const controller = new AbortController();
    const abort = (): void => controller.abort();
    opts.external?.addEventListener('abort', abort, { once: true });
    try {
      return await vscode.window.withProgress(
        {
          location: opts.location ?? vscode.ProgressLocation.Notification,
          title,
          cancellable: true,
        },
        async (progress, token) => {
          token.onCancellationRequested(abort);
          let last = 0;
          return work({
            signal: controller.signal,
            onProgress: (p) => {
              if (p.kind === 'end') return;
              const pct = p.percentage;
              const increment = pct !== undefined && pct > last ? pct - last : undefined;
              if (pct !== undefined) last = Math.max(last, pct);
              progress.report({ message: p.message, increment });
              status.percentage = pct ?? status.percentage;
              status.message = p.message ?? status.message;
              this.updateStatus();
              this.jobEmitter.fire();
            },
          });
        },
      );
    } finally {
      opts.external?.removeEventListener('abort', abort);
      this.jobs.delete(status);
      this.updateStatus();
      this.jobEmitter.fire();
    }
  }

  /** An error for a person: logged, shown, with Show Logs. */
  showError(text: string): void {
    this.log.error(text);
    void vscode.window.showErrorMessage(text, messages.showLogs()).then((pick) => {
      if (pick === messages.showLogs()) this.log.show();
    });
  }

  /**
   * Says a read was refused because a file is damaged, with the way out as a button: Repair runs
   * `registry/repair` in this window's daemon (the shell's `threadx repair` would be refused while
   * it holds the bank). Resolves with whether the repair ran.
   */
  async offerRepair(text: string, damage: Damage): Promise<boolean> {
    this.log.error(text);
    const pick = await vscode.window.showErrorMessage(
      text,
      messages.repairAction(),
      messages.showLogs(),
    );
    if (pick === messages.showLogs()) this.log.show();
    if (pick !== messages.repairAction()) return false;
    await vscode.commands.executeCommand('threadx.repair', { symbol: damage.symbol });
    return true;
  }

  /** Reports a failed request, unless it was cancelled (then says so quietly). */
  reportFailure(what: string, e: unknown): void {
    if (isCancelled(e) || (e as Error)?.name === 'AbortError') {
      void vscode.window.showInformationMessage(messages.cancelled(what));
      return;
    }
    const text = messages.requestFailed(what, describeError(e));
    const damage = damageOf(e);
    if (damage) void this.offerRepair(text, damage);
    else this.showError(text);
  }

  push(...d: vscode.Disposable[]): void {
    this.disposables.push(...d);
  }

  dispose(): void {
    for (const d of this.disposables.splice(0).reverse()) d.dispose();
  }
}
