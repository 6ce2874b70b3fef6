/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS, loaded by VS Code's extension host. */
// The test side of the e2e harness protocol (see test/e2e/README.md). Tests run in the extension
// host, which cannot see the browser; they ask scripts/e2e/code-launcher for UI work by logging a
// line, and the launcher answers by writing a JSON file that we wait for with fs.watch.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

/**
 * Runs UI steps in the workbench (command palette, clicks, reading text inside a webview...).
 * Resolves with one result per step; rejects with the failing step's error.
 * @param {Array<Record<string, unknown>>} steps
 * @param {{ timeoutMs?: number }} [options]
 * @returns {Promise<unknown[]>}
 */
async function ui(steps, { timeoutMs = 60_000 } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'threadx-ui-'));
  const reply = path.join(dir, 'reply.json');
  const watcher = fs.watch(dir);
  let timer;
  try {
    const answered = new Promise((resolve, reject) => {
      watcher.on('change', () => {
        if (fs.existsSync(reply)) resolve(JSON.parse(fs.readFileSync(reply, 'utf8')));
      });
      watcher.on('error', reject);
      // A guard against a missing harness, not a wait: the reply normally comes well before.
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `no @@ui reply within ${timeoutMs} ms (not running under scripts/e2e/code-launcher?)`,
            ),
          ),
        timeoutMs,
      );
    });
    console.log(`@@ui ${JSON.stringify({ reply, steps })}`);
    const result = await answered;
    if (!result.ok) {
      throw new Error(
        `UI step ${result.step} ${JSON.stringify(steps[result.step])} failed: ${result.error}`,
      );
    }
    return result.results;
  } finally {
    clearTimeout(timer);
    watcher.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Saves a screenshot of the workbench as <THREADX_E2E_SCREENSHOTS>/<name>.png and waits until it
 * is written. Resolves with the file path, or null when screenshots are off.
 * @param {string} name
 * @returns {Promise<string | null>}
 */
async function screenshot(name) {
  const [file] = await ui([{ do: 'screenshot', name }]);
  return /** @type {string | null} */ (file);
}

module.exports = { ui, screenshot };
