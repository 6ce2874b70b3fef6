/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS, loaded by VS Code's extension host. */
// The test module VS Code loads from `extensionTestsPath`: it must export `run()`, which resolves
// when the tests pass and rejects when any fails (the same contract as with @vscode/test-electron).
const path = require('node:path');
const { Mocha } = require('mocha');

async function run() {
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 60_000 });
  mocha.addFile(path.join(__dirname, 'harness.test.cjs'));
  const failures = await new Promise((resolve) => mocha.run(resolve));
  if (failures > 0) throw new Error(`${failures} test(s) failed`);
}

module.exports = { run };
