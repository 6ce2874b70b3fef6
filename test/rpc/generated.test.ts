/**
 * The generated protocol artifacts (schemas/json/*.json, docs/protocol.md) must match what
 * scripts/gen-protocol.ts produces from schemas/protocol.ts now. When this fails, run
 * `node --import tsx scripts/gen-protocol.ts` and commit the result.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { checkExamples, generate } from '../../scripts/gen-protocol.ts';
import { METHODS } from '../../schemas/protocol.ts';

test('generated protocol artifacts are up to date', async () => {
  checkExamples();
  const files = await generate();
  const stale: string[] = [];
  for (const [file, content] of files) {
    const committed = await readFile(file, 'utf8').catch(() => null);
    if (committed !== content) stale.push(path.basename(file));
  }
  assert.deepEqual(stale, [], 'run: node --import tsx scripts/gen-protocol.ts');
  // No leftover schema of a message that no longer exists.
  const dir = path.dirname([...files.keys()].find((f) => f.endsWith('index.json'))!);
  const onDisk = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
  assert.deepEqual(
    onDisk,
    [...files.keys()]
      .filter((f) => f.startsWith(dir))
      .map((f) => path.basename(f))
      .sort(),
  );
  assert.equal(onDisk.length, Object.keys(METHODS).length + 1);
});
