/**
 * LSP base protocol framing: each message is a `Content-Length: N\r\n` header block (other
 * headers such as `Content-Type` are accepted and ignored) ended by an empty line, then exactly N
 * bytes of UTF-8 JSON.
 *
 * The reader is built for hostile input: it never buffers more than the header cap or one
 * message, skips a body larger than the message cap without holding it, and after garbage
 * resynchronises on the next `Content-Length` header instead of giving up. Each problem is
 * reported once through `onError`, so the server can answer it with a parse error.
 *
 * Used by the daemon and by the client; depends on nothing but Buffer and streams.
 */
import { ThreadxError } from '../../schemas/errors.ts';
import type { Readable, Writable } from 'node:stream';

export const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
export const DEFAULT_MAX_HEADER_BYTES = 8 * 1024;

const HEADER_END = Buffer.from('\r\n\r\n', 'latin1');
const CONTENT_LENGTH = Buffer.from('content-length', 'latin1');

/** A message whose framing is broken; `reason` says how (code `PARSE_ERROR`). */
export class FramingError extends ThreadxError {
  override readonly name = 'FramingError';
  constructor(
    readonly reason: 'BAD_HEADER' | 'HEADER_TOO_LARGE' | 'MESSAGE_TOO_LARGE' | 'BAD_ENCODING',
    message: string,
  ) {
    super('PARSE_ERROR', message, undefined, { framing: reason });
  }
}

export interface ReaderOptions {
  maxMessageBytes?: number;
  maxHeaderBytes?: number;
}

/** Incremental parser: push chunks in any split, get whole messages out. */
export class MessageReader {
  private readonly maxMessage: number;
  private readonly maxHeader: number;
  private header: Buffer = Buffer.alloc(0);
  private body: Buffer[] = [];
  private bodyBytes = 0;
  /** Bytes of the current body still expected (state `body`) or to discard (state `skip`). */
  private remaining = 0;
  private state: 'header' | 'body' | 'skip' = 'header';
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });

  constructor(
    private readonly onMessage: (text: string) => void,
    private readonly onError: (error: FramingError) => void,
    opts: ReaderOptions = {},
  ) {
    this.maxMessage = opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.maxHeader = opts.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
  }

  push(chunk: Uint8Array): void {
    let data = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    while (data.length > 0) {
      if (this.state === 'skip') {
        const n = Math.min(this.remaining, data.length);
        this.remaining -= n;
        data = data.subarray(n);
        if (this.remaining === 0) this.state = 'header';
      } else if (this.state === 'body') {
        const n = Math.min(this.remaining, data.length);
        this.body.push(data.subarray(0, n));
        this.bodyBytes += n;
        this.remaining -= n;
        data = data.subarray(n);
        if (this.remaining === 0) this.finishBody();
      } else {
        data = this.pushHeader(data);
      }
    }
  }

  /** Consumes header bytes; returns what is left after the header block (or nothing). */
  private pushHeader(data: Buffer): Buffer {
    // Look for the end of the header block only in the new bytes (plus 3 of overlap).
    const from = Math.max(0, this.header.length - 3);
    this.header = this.header.length ? Buffer.concat([this.header, data]) : data;
    const end = this.header.indexOf(HEADER_END, from);
    if (end < 0) {
      if (this.header.length > this.maxHeader) {
        this.onError(
          new FramingError(
            'HEADER_TOO_LARGE',
            `header block longer than ${this.maxHeader} bytes without an empty line`,
          ),
        );
        this.resync(1);
      }
      // Copy what is kept so the caller's chunk is not retained.
      this.header = Buffer.from(this.header);
      return Buffer.alloc(0);
    }
    const block = this.header.subarray(0, end).toString('latin1');
    const rest = this.header.subarray(end + HEADER_END.length);
    this.header = Buffer.alloc(0);
    let length = parseContentLength(block);
    if (typeof length === 'string') {
      // Garbage glued before a real header: retry from the last Content-Length in the block.
      const at = block.toLowerCase().lastIndexOf('content-length');
      if (at > 0) {
        const retry = parseContentLength(block.slice(at));
        if (typeof retry === 'number') {
          this.onError(new FramingError('BAD_HEADER', `${at} byte(s) of garbage before a header`));
          length = retry;
        }
      }
    }
    if (typeof length === 'string') {
      this.onError(new FramingError('BAD_HEADER', length));
      return rest;
    }
    if (length > this.maxMessage) {
      this.onError(
        new FramingError(
          'MESSAGE_TOO_LARGE',
          `message of ${length} bytes exceeds the limit of ${this.maxMessage} bytes`,
        ),
      );
      this.state = length === 0 ? 'header' : 'skip';
      this.remaining = length;
      return rest;
    }
    this.state = 'body';
    this.remaining = length;
    this.body = [];
    this.bodyBytes = 0;
    if (length === 0) this.finishBody();
    return rest;
  }

  /** Drops header garbage up to the next `Content-Length`, keeping a possible partial one. */
  private resync(from: number): void {
    const lower = Buffer.from(this.header.toString('latin1').toLowerCase(), 'latin1');
    const next = lower.indexOf(CONTENT_LENGTH, from);
    if (next >= 0) this.header = this.header.subarray(next);
    else
      this.header = this.header.subarray(Math.max(0, this.header.length - CONTENT_LENGTH.length));
  }

  private finishBody(): void {
    const bytes = this.body.length === 1 ? this.body[0] : Buffer.concat(this.body, this.bodyBytes);
    this.body = [];
    this.bodyBytes = 0;
    this.state = 'header';
    let text: string;
    try {
      text = this.decoder.decode(bytes);
    } catch {
      this.onError(new FramingError('BAD_ENCODING', 'message body is not valid UTF-8'));
      return;
    }
    this.onMessage(text);
  }
}

/** The Content-Length of a header block, or a message saying what is wrong with it. */
function parseContentLength(block: string): number | string {
  let length: number | undefined;
  for (const line of block.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) return `malformed header line ${JSON.stringify(line.slice(0, 80))}`;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'content-length') {
      if (!/^\d{1,15}$/.test(value))
        return `invalid Content-Length ${JSON.stringify(value.slice(0, 40))}`;
      length = Number(value);
    }
  }
  return length ?? 'header block without Content-Length';
}

/** A message with its header, ready to write. */
export function frame(text: string): Buffer {
  const body = Buffer.from(text, 'utf8');
  return Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`, 'latin1'), body]);
}

/**
 * A bidirectional message channel. The server and the client only see messages; how they travel
 * (stdio, a socket, paired streams in a test) is the transport's business.
 */
export interface MessageTransport {
  send(text: string): void;
  onMessage(listener: (text: string) => void): void;
  /** Framing problems on the incoming side. */
  onError(listener: (error: FramingError) => void): void;
  onClose(listener: () => void): void;
  close(): void;
  /** Bytes written but not yet flushed to the peer (used to cut off clients that stop reading). */
  readonly pendingBytes: number;
}

/** A transport over a readable and a writable byte stream with Content-Length framing. */
export function streamTransport(
  input: Readable,
  output: Writable,
  opts: ReaderOptions = {},
): MessageTransport {
  const messageListeners: ((text: string) => void)[] = [];
  const errorListeners: ((error: FramingError) => void)[] = [];
  const closeListeners: (() => void)[] = [];
  let closed = false;
  const reader = new MessageReader(
    (text) => {
      for (const l of messageListeners) l(text);
    },
    (err) => {
      for (const l of errorListeners) l(err);
    },
    opts,
  );
  const close = (): void => {
    if (closed) return;
    closed = true;
    input.off('data', onData);
    for (const l of closeListeners) l();
  };
  const onData = (chunk: Buffer | string): void => {
    reader.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
  };
  input.on('data', onData);
  input.once('end', close);
  input.once('close', close);
  input.on('error', close);
  output.on('error', close);
  output.once('close', close);
  return {
    send(text) {
      if (closed || output.destroyed || output.writableEnded) return;
      output.write(frame(text));
    },
    onMessage: (l) => void messageListeners.push(l),
    onError: (l) => void errorListeners.push(l),
    onClose: (l) => {
      if (closed) l();
      else closeListeners.push(l);
    },
    close() {
      if (!output.writableEnded) output.end();
      input.destroy();
      close();
    },
    get pendingBytes() {
      return output.writableLength;
    },
  };
}
