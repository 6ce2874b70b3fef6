/**
 * The installed-package smoke test: run by `npm run test:vsix` with the built .vsix installed into
 * code-server's extensions folder (`node test/e2e/run.mjs --install <vsix>`) and the harness's
 * fixture extension as the development path, so everything under test comes from the package.
 * Bundled by esbuild into `dist/test/e2e/smoke/index.cjs`.
 */
import Mocha from 'mocha';
import { registerSmokeTests } from './installed.test.ts';

export async function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 120_000 });
  mocha.suite.emit('pre-require', globalThis, 'installed.test.ts', mocha);
  registerSmokeTests();
  const failures = await new Promise<number>((resolve) => mocha.run(resolve));
  if (failures > 0) throw new Error(`${failures} test(s) failed`);
}
