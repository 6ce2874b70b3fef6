/** app/locks.ts: the keyed readers-writer lock the use cases run under. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ALL, KeyedLock } from '../../daemon/app/locks.ts';
import { ThreadxError } from '../../schemas/errors.ts';

/** A promise and its resolver. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

test('locks: one symbol exclusive at a time, other symbols in parallel', async () => {
  const lock = new KeyedLock();
  const order: string[] = [];
  const g = gate();
  const a = lock.run({ exclusive: ['symbol:A'] }, async () => {
    order.push('a start');
    await g.promise;
    order.push('a end');
  });
  const b = lock.run({ exclusive: ['symbol:B'] }, async () => {
    order.push('b');
  });
  await b;
  const a2 = lock.run({ exclusive: ['symbol:A'] }, async () => {
    order.push('a2');
  });
  assert.deepEqual(order, ['a start', 'b']);
  g.open();
  await Promise.all([a, a2]);
  assert.deepEqual(order, ['a start', 'b', 'a end', 'a2']);
  assert.equal(lock.size, 0);
});

test('locks: the bank key exclusive waits for shared holders and holds new ones off', async () => {
  const lock = new KeyedLock();
  const order: string[] = [];
  const g = gate();
  const writer = lock.run({ exclusive: ['symbol:A'], shared: [ALL] }, async () => {
    await g.promise;
    order.push('writer');
  });
  const verify = lock.run({ exclusive: [ALL] }, async () => {
    order.push('verify');
  });
  const later = lock.run({ exclusive: ['symbol:B'], shared: [ALL] }, async () => {
    order.push('later');
  });
  g.open();
  await Promise.all([writer, verify, later]);
  assert.deepEqual(order, ['writer', 'verify', 'later']);
});

test('locks: a cancelled waiter rejects with CANCELLED and leaves no key behind', async () => {
  const lock = new KeyedLock();
  const g = gate();
  const holder = lock.run({ exclusive: ['symbol:A'] }, () => g.promise);
  const ac = new AbortController();
  const waiter = lock.run({ exclusive: ['symbol:A'] }, async () => 'ran', ac.signal);
  ac.abort();
  await assert.rejects(waiter, (e: unknown) => e instanceof ThreadxError && e.code === 'CANCELLED');
  g.open();
  await holder;
  assert.equal(lock.size, 0);
});
