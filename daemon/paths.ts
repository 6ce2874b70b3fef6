import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | undefined;

/**
 * The product's install folder (the one holding its package.json), found by walking up from
 * this module: the same answer from the TypeScript sources, the bundled CLI in dist/ and the
 * packaged extension.
 */
export function packageRoot(): string {
  if (root) return root;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'threadx-data')
          return (root = dir);
      } catch {
        // not ours; keep walking
      }
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error('cannot find the threadx-data install folder');
    dir = up;
  }
}

/**
 * The replay exchange's data shipped with the product (`assets/replay`): Binance's own
 * data.binance.vision archive files. Everything else the replay serves is synthetic.
 */
export function replayAssets(): string {
  return path.join(packageRoot(), 'assets', 'replay');
}
