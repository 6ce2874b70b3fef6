/**
 * The dataset the user selected (last previewed, or picked in the registry tree), kept in the
 * workspace's state so it survives a reload and other windows of the workspace see it. Other
 * tabs and extensions read it through the API (`api.ts`).
 */
import * as vscode from 'vscode';
import { type DatasetRef, SELECTION_KEY, parseSelection, sameDataset } from './api-model.ts';

/** The selected dataset, persisted in the workspace's state. */
export class DatasetSelection implements vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<DatasetRef | undefined>();
  readonly onDidChange = this.emitter.event;

  constructor(private readonly state: vscode.Memento) {}

  get current(): DatasetRef | undefined {
    return parseSelection(this.state.get(SELECTION_KEY));
  }

  async set(dataset: DatasetRef | undefined): Promise<void> {
    const next = dataset ? parseSelection(dataset) : undefined;
    if (dataset && !next)
      throw new Error(
        `Not a dataset: ${JSON.stringify(dataset)}; give { symbol: "BTCUSDC", interval: "1h" }.`,
      );
    if (sameDataset(next, this.current)) return;
    await this.state.update(SELECTION_KEY, next);
    this.emitter.fire(next);
  }

  dispose(): void {
    this.emitter.dispose();
  }
}
