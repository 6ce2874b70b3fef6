// The standard entry point for the extension's end-to-end tests: @vscode/test-electron's runTests,
// with scripts/e2e/code-launcher standing in for the VS Code executable (code-server + chromium;
// see test/e2e/README.md). Run scripts/e2e/setup.sh once first.
//
//   node test/e2e/run.mjs [--dev <extension dir>] [--tests <test module>] [--screenshots <dir>]
//                         [--workspace <folder>] [--timeout <ms>] [--install <file.vsix>]
//
// --install puts a packaged extension into the run's extensions folder first (the installed-.vsix
// smoke test runs this way, with the harness's fixture extension as the development path).
//
// Each option also reads an environment variable: THREADX_E2E_DEV, THREADX_E2E_TESTS,
// THREADX_E2E_SCREENSHOTS, THREADX_E2E_WORKSPACE, THREADX_E2E_TIMEOUT_MS, THREADX_E2E_INSTALL.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runTests } from '@vscode/test-electron';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const { values } = parseArgs({
  options: {
    dev: { type: 'string', default: process.env.THREADX_E2E_DEV ?? root },
    tests: {
      type: 'string',
      default: process.env.THREADX_E2E_TESTS ?? 'dist/test/e2e/suite/index.cjs',
    },
    screenshots: {
      type: 'string',
      default: process.env.THREADX_E2E_SCREENSHOTS ?? 'test-artifacts/e2e',
    },
    workspace: { type: 'string', default: process.env.THREADX_E2E_WORKSPACE },
    install: { type: 'string', default: process.env.THREADX_E2E_INSTALL },
    timeout: { type: 'string', default: process.env.THREADX_E2E_TIMEOUT_MS },
  },
});

// Relative paths are taken from the repository root, so the command works from any folder.
const abs = (p) => path.resolve(root, p);
process.env.THREADX_E2E_SCREENSHOTS = abs(values.screenshots);
if (values.timeout) process.env.THREADX_E2E_TIMEOUT_MS = values.timeout;
if (values.install) process.env.THREADX_E2E_INSTALL = abs(values.install);

try {
  await runTests({
    vscodeExecutablePath: path.join(root, 'scripts/e2e/code-launcher'),
    extensionDevelopmentPath: abs(values.dev),
    extensionTestsPath: abs(values.tests),
    launchArgs: values.workspace ? [abs(values.workspace)] : [],
  });
} catch (err) {
  // runTests rejects with TestRunFailedError (carrying the exit code) when the tests fail.
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = typeof err?.code === 'number' && err.code !== 0 ? err.code : 1;
}
