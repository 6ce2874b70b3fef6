import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageReader, frame, type FramingError } from '../../daemon/rpc/framing.ts';

function collect(opts = {}): {
  push: (b: Buffer | string) => void;
  messages: string[];
  errors: string[];
} {
  const messages: string[] = [];
  const errors: string[] = [];
  const reader = new MessageReader(
    (t) => messages.push(t),
    (e: FramingError) => errors.push(e.reason),
    opts,
  );
  return {
    push: (b) => reader.push(typeof b === 'string' ? Buffer.from(b, 'latin1') : b),
    messages,
    errors,
  };
}

test('framing: messages split at every byte boundary come out whole', () => {
  const text = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'x', params: { s: 'é🙂' } });
  const bytes = Buffer.concat([frame(text), frame(text)]);
  for (let cut = 0; cut <= bytes.length; cut++) {
    const c = collect();
    c.push(bytes.subarray(0, cut));
    c.push(bytes.subarray(cut));
    assert.deepEqual(c.messages, [text, text], `cut at ${cut}`);
    assert.deepEqual(c.errors, []);
  }
});

test('framing: one byte at a time, extra headers accepted, header names case-insensitive', () => {
  const c = collect();
  const b = Buffer.from(
    'content-length: 2\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n{}',
    'latin1',
  );
  for (const byte of b) c.push(Buffer.from([byte]));
  assert.deepEqual(c.messages, ['{}']);
});

test('framing: garbage, bad headers, oversized bodies and bad UTF-8 are reported and skipped', () => {
  const c = collect({ maxMessageBytes: 10, maxHeaderBytes: 64 });
  c.push('garbage before Content-Length: 2\r\n\r\n{}');
  c.push('Content-Length: abc\r\n\r\n');
  c.push('Content-Length: 20\r\n\r\n01234567890123456789');
  c.push('x'.repeat(200));
  c.push('Content-Length: 2\r\n\r\n[]');
  c.push(Buffer.concat([Buffer.from('Content-Length: 2\r\n\r\n'), Buffer.from([0xff, 0xfe])]));
  c.push('Content-Length: 4\r\n\r\nnull');
  assert.deepEqual(c.messages, ['{}', '[]', 'null']);
  assert.deepEqual(c.errors, [
    'BAD_HEADER',
    'BAD_HEADER',
    'MESSAGE_TOO_LARGE',
    'HEADER_TOO_LARGE',
    'BAD_HEADER',
    'BAD_ENCODING',
  ]);
});
