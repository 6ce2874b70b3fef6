/**
 * Fuzz: thousands of random and malformed messages at one daemon connection. Every request-shaped
 * message must get exactly one well-formed JSON-RPC error answer (or a result), notifications
 * none; the daemon must keep serving, and the bank must verify clean afterwards.
 *
 * Messages are sent in rounds, each followed by a well-formed "probe" request; the round is over
 * when the probe's answer arrives, so no wait depends on time. Garbage between frames may swallow
 * the next frame (that is what framing garbage does), so the probe is retried until answered.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCodes } from '../../schemas/protocol.ts';
import { MessageReader, frame } from '../../daemon/rpc/framing.ts';
import { startHarness } from '../helpers/harness.ts';

/** xorshift32: the fuzz is reproducible from its seed. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

/** The daemon's message size cap in this test (the real default is 16 MB). */
const LIMIT = 64 * 1024;

const METHODS = [
  'initialize',
  'registry/list',
  'data/read',
  'data/export',
  'registry/delete',
  'registry/verify',
  'ingest/plan',
  'indicators/read',
  'logs/subscribe',
  'config/get',
  'symbols/groups',
  'no/such',
  '$/cancelRequest',
  '',
];
const NASTY = [
  '../../etc/passwd',
  '..\\..\\windows',
  '/etc/passwd',
  'BTC/USDC',
  'BTCUSDC\u0000',
  'C:\\x',
  '%2e%2e%2f',
  'A'.repeat(5000),
  '',
  ' ',
  'btcusdc',
  '🙂',
];

function value(r: () => number, depth = 0): unknown {
  const k = Math.floor(r() * (depth > 3 ? 6 : 9));
  switch (k) {
    case 0:
      return null;
    case 1:
      return r() < 0.5;
    case 2:
      return [0, -1, 1e308, -0, 2 ** 53 + 1, 1.5, Number.MAX_SAFE_INTEGER][Math.floor(r() * 7)];
    case 3:
      return NASTY[Math.floor(r() * NASTY.length)];
    case 4:
      return '1m';
    case 5:
      return '2024-01-01';
    case 6:
      return Array.from({ length: Math.floor(r() * 4) }, () => value(r, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      for (const key of [
        'symbol',
        'interval',
        'start',
        'end',
        'maxPoints',
        'out',
        'symbols',
        'filter',
        'id',
        '__proto__',
        'constructor',
      ]) {
        if (r() < 0.3) o[key] = value(r, depth + 1);
      }
      return o;
    }
  }
}

interface Sent {
  bytes: Buffer;
  /** The id an answer must carry, when the message is a well-framed request with a valid id. */
  expectId?: number | string;
}

function message(r: () => number, n: number): Sent {
  const kind = Math.floor(r() * 10);
  const id = n;
  switch (kind) {
    case 0: {
      // Random bytes with no header end: garbage the reader must skip.
      const len = 1 + Math.floor(r() * 300);
      const b = Buffer.alloc(len);
      for (let i = 0; i < len; i++) b[i] = Math.floor(r() * 256);
      return {
        bytes: Buffer.from(
          b
            .toString('latin1')
            .replaceAll('\r\n\r\n', '')
            .replace(/content-length/gi, 'x'),
          'latin1',
        ),
      };
    }
    case 1:
      // A framed body that is not JSON.
      return { bytes: frame('{"jsonrpc":"2.0","id":' + id + ',"method":') };
    case 2:
      // A huge Content-Length: the body is skipped without being buffered.
      return { bytes: Buffer.from(`Content-Length: ${LIMIT + 1000}\r\n\r\n`, 'latin1') };
    case 3:
      // A header block too long to be real.
      return { bytes: Buffer.from(`X-Junk: ${'y'.repeat(9000)}\r\n\r\n`, 'latin1') };
    case 4:
      // A batch.
      return { bytes: frame(JSON.stringify([{ jsonrpc: '2.0', id, method: 'config/get' }])) };
    case 5:
      // Wrong JSON-RPC shapes.
      return {
        bytes: frame(
          JSON.stringify(
            [
              { jsonrpc: '1.0', id, method: 'config/get' },
              { id, method: 'config/get' },
              { jsonrpc: '2.0', id, method: 42 },
              { jsonrpc: '2.0', id, method: 'data/read', params: [1, 2] },
              'just a string',
              12,
              null,
            ][Math.floor(r() * 7)],
          ),
        ),
      };
    case 6:
      // A notification of anything: never answered.
      return {
        bytes: frame(
          JSON.stringify({
            jsonrpc: '2.0',
            method: METHODS[Math.floor(r() * METHODS.length)],
            params: value(r),
          }),
        ),
      };
    default: {
      // A well-framed request with random params: answered once, with this id.
      const method = METHODS[Math.floor(r() * METHODS.length)];
      if (method === 'registry/delete' || method === '$/cancelRequest' || method === '') {
        return {
          bytes: frame(JSON.stringify({ jsonrpc: '2.0', id, method: 'no/such', params: value(r) })),
          expectId: id,
        };
      }
      const params = value(r);
      const body: Record<string, unknown> = { jsonrpc: '2.0', id, method };
      if (params !== null && typeof params === 'object' && !Array.isArray(params))
        body.params = params;
      return { bytes: frame(JSON.stringify(body)), expectId: id };
    }
  }
}

test('fuzz: thousands of malformed messages, each answered well-formed; daemon and bank intact', async () => {
  const h = await startHarness({ seed: { BTCUSDC: 2 }, derive: ['1h'] });
  try {
    const { input, output } = h.daemon.connectInMemory({ reader: { maxMessageBytes: LIMIT } });
    const answers = new Map<number | string | null, unknown[]>();
    const waiting = new Map<string, () => void>();
    let malformed = 0;
    const reader = new MessageReader(
      (text) => {
        const m = JSON.parse(text) as {
          jsonrpc: string;
          id?: number | string | null;
          method?: string;
          result?: unknown;
          error?: { code: number; message: string; data?: { reason: string } };
        };
        if (m.method) return; // A notification (log/message, registry/changed).
        assert.equal(m.jsonrpc, '2.0');
        assert.ok('id' in m, 'an answer carries an id (null for unparseable input)');
        assert.ok('result' in m !== 'error' in m, 'exactly one of result and error');
        if (m.error) {
          assert.equal(typeof m.error.code, 'number');
          assert.ok(Number.isInteger(m.error.code));
          assert.equal(typeof m.error.message, 'string');
          assert.ok(m.error.message.length > 0);
          assert.ok(
            m.error.code !== ErrorCodes.InternalError,
            `internal error: ${m.error.message}`,
          );
          assert.equal(typeof m.error.data?.reason, 'string');
        }
        const key = m.id ?? null;
        const list = answers.get(key) ?? [];
        list.push(m);
        answers.set(key, list);
        if (m.id !== undefined && m.id !== null) waiting.get(String(m.id))?.();
      },
      () => malformed++,
    );
    output.on('data', (c: Buffer) => reader.push(c));
    const write = (b: Buffer): void => {
      // Split each message at a random point to exercise partial chunks.
      const cut = Math.floor(b.length / 2);
      input.write(b.subarray(0, cut));
      input.write(b.subarray(cut));
    };
    const probe = async (round: number): Promise<void> => {
      const id = `probe-${round}`;
      const answered = new Promise<void>((resolve) => waiting.set(id, resolve));
      write(frame(JSON.stringify({ jsonrpc: '2.0', id, method: 'config/get' })));
      await answered;
    };

    const r = rng(20240101);
    const expected: (number | string)[] = [];
    const log: string[] = [];
    let n = 0;
    const ROUNDS = 60;
    const PER_ROUND = 50;
    const initFrame = frame(
      JSON.stringify({ jsonrpc: '2.0', id: 'init', method: 'initialize', params: {} }),
    );
    const initDone = new Promise<void>((resolve) => waiting.set('init', resolve));
    write(initFrame);
    await initDone;
    for (let round = 0; round < ROUNDS; round++) {
      for (let i = 0; i < PER_ROUND; i++) {
        const m = message(r, ++n);
        log.push(m.bytes.toString('latin1').slice(0, 200));
        if (m.bytes.toString('latin1').startsWith(`Content-Length: ${LIMIT + 1000}`)) {
          // Feed the skipped body in full, so the stream is in sync again for what follows.
          write(m.bytes);
          const filler = Buffer.alloc(LIMIT + 1000, 0x20);
          input.write(filler);
          continue;
        }
        write(m.bytes);
        if (m.expectId !== undefined) expected.push(m.expectId);
      }
      await probe(round);
    }
    // Every well-framed request is answered (some, like verify, after later ones), exactly once.
    await Promise.all(
      expected.map((id) =>
        answers.has(id)
          ? undefined
          : new Promise<void>((resolve) => waiting.set(String(id), resolve)),
      ),
    );
    for (const id of expected) {
      const got = answers.get(id);
      assert.ok(
        got,
        `request ${id} was answered; ${JSON.stringify(log.slice(Math.max(0, Number(id) - 3), Number(id)))}`,
      );
      assert.equal(got.length, 1, `request ${id} answered once`);
    }
    assert.equal(malformed, 0, 'the daemon never sent a malformed frame');
    assert.ok(n >= ROUNDS * PER_ROUND);
    assert.ok(
      (answers.get(null)?.length ?? 0) > 100,
      'framing and parse errors were answered with id null',
    );

    // Still up, and the bank is intact.
    const v = await h.client.request('registry/verify', {});
    assert.equal(v.ok, true, JSON.stringify(v.issues));
    assert.deepEqual(
      (await h.client.request('registry/list', {})).datasets.map((d) => d.id),
      ['BTCUSDC/1h', 'BTCUSDC/1m'],
    );
    input.end();
  } finally {
    await h.close();
  }
});
