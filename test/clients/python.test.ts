/**
 * The Python client package (clients/python) as a user gets it: its source distribution built
 * from a copy of the folder (nothing is built inside the checkout), its own unittest suite run
 * against the distributed files and the bundled daemon, and the notebook example run as a script.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { CLI, ROOT, ensureBuilt, runCli, tempDir } from '../faults/harness.ts';
import { KLINES } from '../helpers/fixtures.ts';

const PACKAGE = path.join(ROOT, 'clients', 'python');

test('python client: a source distribution whose unittest suite passes against the daemon; the notebook runs', async () => {
  ensureBuilt();
  const work = await tempDir('threadx-pyclient-');
  const source = path.join(work, 'src');
  await fsp.cp(PACKAGE, source, { recursive: true });
  // The source distribution, built by setuptools from pyproject.toml (nothing built in the
  // checkout): its metadata and its files are what pip installs.
  const sdist = spawnSync(
    'python3',
    ['-c', "from setuptools import build_meta; print(build_meta.build_sdist('../dist'))"],
    { encoding: 'utf8', cwd: source },
  );
  assert.equal(sdist.status, 0, sdist.stderr);
  const archive = path.join(work, 'dist', sdist.stdout.trim().split('\n').pop()!);
  assert.equal(path.basename(archive), 'threadx-client-0.1.0.tar.gz');
  const tar = spawnSync('tar', ['xzf', archive, '-C', work], { encoding: 'utf8' });
  assert.equal(tar.status, 0, tar.stderr);
  const unpacked = path.join(work, 'threadx-client-0.1.0');
  const info = await fsp.readFile(path.join(unpacked, 'PKG-INFO'), 'utf8');
  assert.match(info, /^Name: threadx-client$/m);
  assert.match(info, /^Requires-Python: >=3\.9$/m);
  assert.doesNotMatch(info, /^Requires-Dist: (?!pandas|polars)/m, 'no required dependency');
  assert.ok((await fsp.readdir(path.join(unpacked, 'src', 'threadx_client'))).includes('py.typed'));
  // pip installs it where setuptools can build a wheel (setuptools 70.1 or later, or the wheel
  // package); this machine's setuptools 65 cannot and nothing newer can be fetched here, so the
  // distribution's own files are imported instead.
  const site = path.join(work, 'site');
  const pip = spawnSync(
    'python3',
    [
      '-m',
      'pip',
      'install',
      '--quiet',
      '--no-deps',
      '--no-build-isolation',
      '--no-index',
      '--target',
      site,
      unpacked,
    ],
    { encoding: 'utf8' },
  );
  if (pip.status !== 0) assert.match(pip.stderr, /bdist_wheel/, pip.stderr);
  const importFrom = pip.status === 0 ? site : path.join(unpacked, 'src');

  // The package's own tests, importing the distributed copy (not the checkout's source).
  const env = {
    ...process.env,
    PYTHONPATH: importFrom,
    THREADX_CLI: CLI,
    THREADX_NODE: process.execPath,
    PYTHONDONTWRITEBYTECODE: '1',
  };
  const where = spawnSync(
    'python3',
    ['-c', 'import threadx_client; print(threadx_client.__file__)'],
    {
      encoding: 'utf8',
      env,
      cwd: work,
    },
  );
  assert.ok(where.stdout.startsWith(importFrom), where.stdout + where.stderr);
  const unit = spawnSync(
    'python3',
    [
      '-m',
      'unittest',
      'discover',
      '-s',
      path.join(PACKAGE, 'tests'),
      '-t',
      path.join(PACKAGE, 'tests'),
    ],
    { encoding: 'utf8', env, cwd: work },
  );
  assert.equal(unit.status, 0, unit.stderr);
  assert.match(unit.stderr, /Ran 6 tests/);
  assert.doesNotMatch(unit.stderr, /skipped/);

  const dir = path.join(work, 'data');
  const zips = ['14', '15'].map((d) =>
    path.join(KLINES, 'hal9000cc', `ETHUSDT-1m-2022-08-${d}.zip`),
  );
  assert.equal(
    (await runCli(['import', ...zips, '--intervals', '1h', '--data-dir', dir], work)).code,
    0,
  );
  const nb = spawnSync(
    'python3',
    [path.join(PACKAGE, 'examples', 'notebook.py'), '--data-dir', dir, '--cli', CLI],
    { encoding: 'utf8', env, cwd: work },
  );
  assert.equal(nb.status, 0, nb.stderr);
  assert.match(nb.stdout, /\['ETHUSDT\/1h', 'ETHUSDT\/1m'\]/);
  assert.match(nb.stdout, /48 1h candles of ETHUSDT/);
  // pandas and polars are optional (not installable on this machine): a missing one is said.
  for (const lib of ['pandas', 'polars']) {
    const has = spawnSync('python3', ['-c', `import ${lib}`]).status === 0;
    if (has) assert.doesNotMatch(nb.stdout, new RegExp(`needs ${lib}`));
    else assert.match(nb.stdout, new RegExp(`skipped: to_${lib} needs ${lib}: pip install ${lib}`));
  }
});
