/**
 * Docker's multiplexed stream format ("stdcopy"), client side: the demuxer for non-TTY attach,
 * exec and logs streams.
 *
 * Frame: byte 0 = stream type (0 stdin, 1 stdout, 2 stderr, 3 system error), bytes 1..3 zero,
 * bytes 4..7 payload length (uint32 big-endian), then the payload. Frames do not align with chunks
 * or lines, so the demuxer is a small state machine that can be fed one byte at a time; payloads are
 * forwarded as they arrive (a large frame is never buffered whole).
 */
import { once } from 'node:events';
import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export const STREAM_STDIN = 0;
export const STREAM_STDOUT = 1;
export const STREAM_STDERR = 2;
export const STREAM_SYSTEMERR = 3;
export type StreamType = typeof STREAM_STDIN | typeof STREAM_STDOUT | typeof STREAM_STDERR | typeof STREAM_SYSTEMERR;

export const FRAME_HEADER_LENGTH = 8;

/** One frame as the daemon writes it (used by tests and fake daemons). */
export function encodeFrame(type: StreamType, payload: string | Uint8Array): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : Buffer.from(payload);
  const header = Buffer.alloc(FRAME_HEADER_LENGTH);
  header[0] = type;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}

export interface StdcopyTargets {
  stdout: Writable;
  stderr: Writable;
}

/**
 * Writable sink that splits a multiplexed stream into `stdout` and `stderr`.
 *
 * Lifecycle: write the raw stream into it (best with `pipeline`); it never ends or destroys the
 * targets, and it waits for a target's `drain` before taking more input, so a slow terminal slows
 * the socket down instead of growing a buffer.
 * Errors: a type-3 frame fails with `error from daemon in stream: <payload>` (the docker CLI's text);
 * any type byte other than 0..3 fails with `Unrecognized input header: N`.
 * Like Docker's `StdCopy`, a stream that ends in the middle of a frame ends quietly; `partialFrame`
 * tells a caller that wants to know.
 */
export class StdcopyDemuxer extends Writable {
  private readonly targets: StdcopyTargets;
  private readonly header = Buffer.alloc(FRAME_HEADER_LENGTH);
  private headerFill = 0;
  private remaining = 0;
  private target: Writable | null = null;
  /** Payload of a system-error frame, collected whole before failing. */
  private systemError: Buffer[] | null = null;

  constructor(targets: StdcopyTargets) {
    super();
    this.targets = targets;
  }

  /** True when the input so far ends inside a frame header or payload. */
  get partialFrame(): boolean {
    return this.headerFill > 0 || this.remaining > 0;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.consume(chunk).then(() => callback(), callback);
  }

  private async consume(chunk: Buffer): Promise<void> {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.remaining === 0) {
        const take = Math.min(FRAME_HEADER_LENGTH - this.headerFill, chunk.length - offset);
        chunk.copy(this.header, this.headerFill, offset, offset + take);
        this.headerFill += take;
        offset += take;
        if (this.headerFill === FRAME_HEADER_LENGTH) this.startFrame();
        continue;
      }
      const take = Math.min(this.remaining, chunk.length - offset);
      const piece = chunk.subarray(offset, offset + take);
      offset += take;
      this.remaining -= take;
      if (this.systemError !== null) {
        this.systemError.push(piece);
        if (this.remaining === 0) this.failSystemError();
      } else if (!this.target!.write(piece)) {
        await once(this.target!, 'drain');
      }
    }
  }

  private startFrame(): void {
    this.headerFill = 0;
    const type = this.header[0]!;
    const size = this.header.readUInt32BE(4);
    switch (type) {
      case STREAM_STDIN:
      case STREAM_STDOUT:
        this.target = this.targets.stdout;
        break;
      case STREAM_STDERR:
        this.target = this.targets.stderr;
        break;
      case STREAM_SYSTEMERR:
        this.systemError = [];
        break;
      default:
        throw new Error(`Unrecognized input header: ${type}`);
    }
    this.remaining = size;
    if (size === 0 && this.systemError !== null) this.failSystemError();
  }

  private failSystemError(): never {
    const text = Buffer.concat(this.systemError ?? []).toString('utf8');
    this.systemError = null;
    throw new Error(`error from daemon in stream: ${text}`);
  }
}

export interface DemuxOptions {
  signal?: AbortSignal;
}

/** Copies a multiplexed stream to `stdout`/`stderr` until it ends; the targets stay open. */
export async function demuxStream(
  source: Readable,
  stdout: Writable,
  stderr: Writable,
  options: DemuxOptions = {},
): Promise<void> {
  await pipeline(source, new StdcopyDemuxer({ stdout, stderr }), { signal: options.signal });
}
