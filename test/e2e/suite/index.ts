/**
 * The extension's end-to-end suite, run in a real VS Code by `node test/e2e/run.mjs` (code-server
 * here, desktop VS Code through `@vscode/test-electron` wherever it can be downloaded). Bundled by
 * esbuild into `dist/test/e2e/suite/index.cjs`; mocha is loaded from node_modules at run time.
 */
import Mocha from 'mocha';
import { registerChartBenchmarks } from './bench.test.ts';
import { registerChartTests } from './chart.test.ts';
import { registerExtensionTests } from './extension.test.ts';
import { registerManagerTests } from './manager.test.ts';
import { registerRepairTests } from './repair.test.ts';

export async function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 120_000 });
  // The bundled test files register their suites when called, once mocha's BDD globals exist.
  mocha.suite.emit('pre-require', globalThis, 'extension.test.ts', mocha);
  registerExtensionTests(
    registerChartTests,
    registerManagerTests,
    registerRepairTests,
    registerChartBenchmarks,
  );
  const failures = await new Promise<number>((resolve) => mocha.run(resolve));
  if (failures > 0) throw new Error(`${failures} test(s) failed`);
}
