/** One UI step; `webview: true` targets the content of the visible webview (the last one if several). */
export type UiStep =
  | { do: 'command'; title: string; timeoutMs?: number }
  | { do: 'press'; key: string }
  | {
      do: 'click' | 'text' | 'html';
      selector: string;
      webview?: boolean | number;
      timeoutMs?: number;
    }
  | {
      do: 'wait';
      selector: string;
      webview?: boolean | number;
      state?: 'visible' | 'hidden' | 'attached' | 'detached';
      timeoutMs?: number;
    }
  | {
      do: 'hover';
      selector: string;
      webview?: boolean | number;
      x?: number;
      y?: number;
      timeoutMs?: number;
    }
  | {
      do: 'wheel' | 'drag';
      selector: string;
      webview?: boolean | number;
      x?: number;
      y?: number;
      dx?: number;
      dy?: number;
      timeoutMs?: number;
    }
  | { do: 'count'; selector: string; webview?: boolean | number }
  /** Runs axe-core in the page or webview; the result is the list of violations. */
  | { do: 'axe'; webview?: boolean | number; runOnly?: string[]; timeoutMs?: number }
  | { do: 'screenshot'; name: string }
  /** Resizes the browser window (the workbench lays out again). */
  | { do: 'viewport'; width: number; height: number };

/** Runs the steps in order; resolves with one result per step (null, string or number). */
export function ui(steps: UiStep[], options?: { timeoutMs?: number }): Promise<unknown[]>;

/** Saves <THREADX_E2E_SCREENSHOTS>/<name>.png; resolves with its path, or null when screenshots are off. */
export function screenshot(name: string): Promise<string | null>;
