/**
 * The data manager's layout as a person sees it: the window's size, the webview's width, and what
 * the registry table shows at that width (cells cut, rows taller than a line, actions out of view).
 */
import * as vscode from 'vscode';
import { screenshot, ui } from '../harness-suite/ui-client.cjs';

/** The launcher's window: every test outside a layout test runs at this size. */
export const DEFAULT_WINDOW = { width: 1280, height: 800 } as const;
/** The window of the docs' screenshots: wide, and the narrow one with the side bar open. */
export const WIDE = { width: 1400, height: 900 } as const;
export const NARROW = { width: 1000, height: 900 } as const;

export async function setWindow(size: { width: number; height: number }): Promise<void> {
  await ui([{ do: 'viewport', width: size.width, height: size.height }]);
}

/** Two frames drawn in the webview: its layout has followed a resize of its frame. */
const FRAMES = 'await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));';

/** The visible webview's width in CSS pixels. */
export async function webviewWidth(): Promise<number> {
  const [w] = await ui([
    { do: 'eval', webview: true, expr: `(async () => { ${FRAMES} return window.innerWidth; })()` },
  ]);
  return Number(w);
}

/**
 * Resizes the window so the visible webview is `width` px wide (the side bar and the activity bar
 * keep their widths), and returns the width reached.
 */
export async function webviewAt(width: number, height = NARROW.height): Promise<number> {
  const now = await webviewWidth();
  const [outer] = await ui([{ do: 'eval', expr: 'window.innerWidth' }]);
  await setWindow({ width: Number(outer) + width - now, height });
  return webviewWidth();
}

export interface TableLayout {
  width: number;
  rows: number;
  /** The tallest dataset row, in px. */
  rowHeight: number;
  /** Cells whose content is wider than the cell (cut), as `dataset: column`. */
  clipped: string[];
  /** How far the page or the table's section scrolls sideways, in px (0: it fits). */
  pageOverflow: number;
  sectionOverflow: number;
  /** Row menu buttons not wholly in view, and rows without one. */
  menusOutOfView: string[];
  menus: number;
  /** The column headers shown, in order. */
  headers: string[];
  /** The Integrity header's right edge is in view. */
  integrityInView: boolean;
}

/** Measures the registry table in the visible webview. */
export async function tableLayout(): Promise<TableLayout> {
  const expr = `(async () => {
    ${FRAMES}
    const table = document.getElementById('registry-table');
    const section = document.getElementById('registry-section');
    const rows = [...table.querySelectorAll('tbody tr[data-id]')];
    const shown = (el) => el.getClientRects().length > 0;
    const heads = [...table.querySelectorAll('thead th')].filter(shown);
    const clipped = [];
    for (const tr of rows)
      [...tr.children].forEach((td, i) => {
        if (shown(td) && td.scrollWidth > td.clientWidth)
          clipped.push(tr.dataset.id + ': ' + (table.querySelectorAll('thead th')[i]?.textContent || i));
      });
    const menusOut = [];
    let menus = 0;
    for (const tr of rows) {
      const b = tr.querySelector('button.row-menu-button');
      if (!b) { menusOut.push(tr.dataset.id + ' (none)'); continue; }
      menus++;
      const r = b.getBoundingClientRect();
      if (r.width === 0 || r.left < 0 || r.right > window.innerWidth) menusOut.push(tr.dataset.id);
    }
    const integrity = heads.find((th) => th.textContent === 'Integrity');
    return {
      width: window.innerWidth,
      rows: rows.length,
      rowHeight: Math.max(0, ...rows.map((tr) => tr.getBoundingClientRect().height)),
      clipped,
      pageOverflow: document.documentElement.scrollWidth - document.documentElement.clientWidth,
      sectionOverflow: section.scrollWidth - section.clientWidth,
      menusOutOfView: menusOut,
      menus,
      headers: heads.map((th) => th.textContent),
      integrityInView: !!integrity && integrity.getBoundingClientRect().right <= window.innerWidth,
    };
  })()`;
  const [r] = await ui([{ do: 'eval', webview: true, expr }]);
  return r as TableLayout;
}

/** The element that has the focus in the visible webview: its id, else its text. */
export async function focused(): Promise<string> {
  const [r] = await ui([
    {
      do: 'eval',
      webview: true,
      expr: `(() => { const a = document.activeElement; return a ? (a.id || a.textContent || a.tagName) : ''; })()`,
    },
  ]);
  return String(r);
}

/**
 * Screenshots for the docs: `name` in the wide window, `name-1000` in the 1000 px window with the
 * side bar open; the window is left at its default size.
 */
export async function docsScreenshots(name: string, before?: () => Promise<void>): Promise<void> {
  await vscode.commands.executeCommand('workbench.view.extension.threadx');
  try {
    for (const [size, suffix] of [
      [WIDE, ''],
      [NARROW, '-1000'],
    ] as const) {
      await setWindow(size);
      await before?.();
      await screenshot(`${name}${suffix}`);
    }
  } finally {
    await setWindow(DEFAULT_WINDOW);
  }
}
