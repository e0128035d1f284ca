/**
 * The client end of an attached container session (`run` without `-d`; later `start -a`, `attach`,
 * `exec`): container output to the terminal, the terminal's input to the container, raw mode, the
 * ctrl-p ctrl-q detach sequence, window-size updates and signal forwarding.
 *
 * Output is demultiplexed (non-TTY) or copied raw (TTY) with back-pressure onto stdout/stderr, which
 * are never ended. Stdin EOF half-closes the hijacked socket (the daemon then closes the
 * container's stdin) while output keeps flowing.
 */
import { spawnSync } from 'node:child_process';
import type { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { Transform, Writable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ContainerWait, EngineClient } from '../client/client.js';
import { StdcopyDemuxer } from '../client/stdcopy.js';
import { write, type CliInput, type CliOutput } from './command.js';

/** Docker's default detach keys: ctrl-p, ctrl-q. */
export const DEFAULT_DETACH_KEYS: readonly number[] = [0x10, 0x11];

const CTRL_KEYS = ['ctrl-@', ...'abcdefghijklmnopqrstuvwxyz'.split('').map((c) => `ctrl-${c}`), 'ctrl-[', 'ctrl-\\', 'ctrl-]', 'ctrl-^', 'ctrl-_'];

/**
 * `--detach-keys` (docker's `term.ToBytes`): comma-separated keys, each a single character or
 * `ctrl-<a-z@[\\]^_>`. Throws `Unknown character: 'KEY'` for anything else.
 */
export function parseDetachKeys(keys: string): number[] {
  return keys.split(',').map((key) => {
    if (key.length === 1) return key.charCodeAt(0);
    const code = CTRL_KEYS.indexOf(key);
    if (code === -1 || Buffer.byteLength(key) !== key.length) throw new Error(`Unknown character: '${key}'`);
    return code;
  });
}

/**
 * Passes bytes through until the detach sequence is typed, then calls `onDetach` and swallows the
 * sequence (Docker's escape proxy: a partial match is held back and released if the next key differs).
 */
export class DetachKeysFilter extends Transform {
  private readonly keys: readonly number[];
  private readonly onDetach: () => void;
  private matched = 0;
  private detached = false;

  constructor(onDetach: () => void, keys: readonly number[] = DEFAULT_DETACH_KEYS) {
    super();
    this.keys = keys;
    this.onDetach = onDetach;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback): void {
    if (this.detached) return callback();
    const out: number[] = [];
    for (const b of chunk) {
      if (b === this.keys[this.matched]) {
        this.matched++;
        if (this.matched === this.keys.length) {
          this.detached = true;
          if (out.length > 0) this.push(Buffer.from(out));
          this.onDetach();
          return callback();
        }
        continue;
      }
      for (let i = 0; i < this.matched; i++) out.push(this.keys[i]!);
      this.matched = 0;
      if (b === this.keys[0]) this.matched = 1;
      else out.push(b);
    }
    callback(null, out.length > 0 ? Buffer.from(out) : undefined);
  }

  override _flush(callback: TransformCallback): void {
    // input ended in the middle of a sequence: those keys were meant for the container
    callback(null, this.matched > 0 && !this.detached ? Buffer.from(this.keys.slice(0, this.matched)) : undefined);
  }
}

/**
 * libuv's raw mode keeps ONLCR, so the local terminal would turn a container's bare `\n` into
 * `\r\n` (doubling CRs and breaking full-screen programs); docker's raw mode clears OPOST. Clear it
 * too (`stty -opost` on the same terminal). `setRawMode(false)` restores the saved settings.
 */
function disableOutputProcessing(input: CliInput): void {
  const fd = (input as { fd?: unknown }).fd;
  if (typeof fd !== 'number') return;
  try {
    spawnSync('stty', ['-opost'], { stdio: [fd, 'ignore', 'ignore'], timeout: 2000 });
  } catch {
    // no stty: output keeps ONLCR, which only doubles carriage returns
  }
}

/** Writes into the socket without ever destroying it; ending it half-closes the socket (stdin EOF). */
function halfCloseWriter(socket: Socket): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, callback) {
      socket.write(chunk, (err) => callback(err ?? null));
    },
    final(callback) {
      socket.end();
      callback();
    },
  });
}

export interface AttachSessionOptions {
  socket: Socket;
  tty: boolean;
  /** Send the terminal's input (docker `-i`). Without it the socket is half-closed at once. */
  stdin: boolean;
  input: CliInput;
  stdout: CliOutput;
  stderr: Writable;
  /** The key sequence that detaches (default ctrl-p ctrl-q). */
  detachKeys?: readonly number[];
}

export type SessionEnd = { kind: 'eof' } | { kind: 'detached' } | { kind: 'error'; error: Error };

/**
 * One attached session. Lifecycle: construct right after the hijack (output starts flowing, input
 * is pumped, a TTY goes raw); `done` settles when the output ends, the user detaches, or the stream
 * fails; `close()` restores the terminal and releases stdin and the socket, and must always be called.
 */
export class AttachSession {
  readonly done: Promise<SessionEnd>;
  private readonly socket: Socket;
  private readonly input: CliInput;
  private readonly inputAbort = new AbortController();
  private rawMode = false;
  private resolveDetached: (() => void) | undefined;

  constructor(options: AttachSessionOptions) {
    this.socket = options.socket;
    this.input = options.input;
    const { socket, tty, stdout, stderr, input } = options;

    const output: Promise<SessionEnd> = (
      tty
        ? pipeline(socket, stdout, { end: false })
        : pipeline(socket, new StdcopyDemuxer({ stdout, stderr }))
    ).then(
      () => ({ kind: 'eof' }) as const,
      (error: NodeJS.ErrnoException) =>
        // the daemon may close its side while we still write stdin; the output has ended then
        error.code === 'EPIPE' || error.code === 'ECONNRESET' ? ({ kind: 'eof' } as const) : ({ kind: 'error', error } as const),
    );
    const detached = new Promise<SessionEnd>((resolve) => {
      this.resolveDetached = () => resolve({ kind: 'detached' });
    });
    this.done = Promise.race([output, detached]);

    if (!options.stdin) {
      socket.end();
      return;
    }
    if (tty && input.isTTY === true && typeof input.setRawMode === 'function') {
      input.setRawMode(true);
      this.rawMode = true;
      disableOutputProcessing(input);
    }
    const writer = halfCloseWriter(socket);
    const signal = this.inputAbort.signal;
    // the detach keys are for people at a terminal; piped input passes through untouched
    const pumped =
      input.isTTY === true
        ? pipeline(input, new DetachKeysFilter(() => this.resolveDetached?.(), options.detachKeys), writer, { signal })
        : pipeline(input, writer, { signal });
    pumped.catch(() => {
      // stdin problems (aborted at the end, broken pipe) do not end the session; the output decides
    });
  }

  /** Restores the terminal, stops reading stdin and drops the connection. Idempotent. */
  close(): void {
    if (this.rawMode) {
      this.input.setRawMode?.(false);
      this.rawMode = false;
    }
    this.inputAbort.abort();
    this.socket.destroy();
  }
}

/** `--detach-keys` as bytes; like docker, an invalid value falls back to ctrl-p ctrl-q (the daemon refuses it first). */
export function detachKeyBytes(keys: string | undefined): readonly number[] {
  if (keys === undefined || keys === '') return DEFAULT_DETACH_KEYS;
  try {
    return parseDetachKeys(keys);
  } catch {
    return DEFAULT_DETACH_KEYS;
  }
}

/** Which streams to attach to, and where the output goes. */
export interface AttachTarget {
  tty: boolean;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  detachKeys: string | undefined;
  input: CliInput;
  out: CliOutput;
  err: Writable;
}

/** Hijacks `POST /containers/{id}/attach` for the chosen streams and starts an {@link AttachSession} on it. */
export async function openAttachSession(client: EngineClient, id: string, t: AttachTarget): Promise<AttachSession> {
  const socket = await client.attachContainer(id, {
    stream: true,
    stdin: t.stdin,
    stdout: t.stdout,
    stderr: t.stderr,
    ...(t.detachKeys !== undefined && t.detachKeys !== '' ? { detachKeys: t.detachKeys } : {}),
  });
  return new AttachSession({
    socket,
    tty: t.tty,
    stdin: t.stdin,
    input: t.input,
    stdout: t.out,
    stderr: t.err,
    detachKeys: detachKeyBytes(t.detachKeys),
  });
}

/**
 * The end of an attached `run`/`start -a` once the container is started: keeps the TTY size in
 * step, waits for the session, and returns docker's exit code — 0 after a detach, 1 when the
 * stream failed, 125 when waiting failed, else the container's status. Closes the session.
 */
export async function awaitAttached(client: EngineClient, id: string, session: AttachSession, wait: ContainerWait,
  tty: boolean, stdout: CliOutput, stderr: Writable): Promise<number> {
  const stopResize = tty && stdout.isTTY === true ? monitorTtySize(client, id, stdout) : () => {};
  try {
    const end = await session.done;
    stopResize();
    session.close();
    if (end.kind !== 'eof') {
      wait.cancel();
      if (end.kind === 'detached') return 0;
      await write(stderr, `brig: ${end.error.message}\n`);
      return 1;
    }
    try {
      const status = await wait.result;
      if (status.Error !== null && status.Error.Message !== '') {
        await write(stderr, `brig: Error waiting for container: ${status.Error.Message}\n`);
        return 125;
      }
      return status.StatusCode;
    } catch (err) {
      await write(stderr, `brig: error waiting for container: ${(err as Error).message}\n`);
      return 125;
    }
  } finally {
    stopResize();
    session.close();
  }
}

/** Sends the terminal size now and on every `resize` of stdout; returns the function that stops it. */
export function monitorTtySize(client: EngineClient, id: string, stdout: CliOutput): () => void {
  const send = () => {
    const h = stdout.rows ?? 0;
    const w = stdout.columns ?? 0;
    if (h > 0 && w > 0) client.resizeContainer(id, h, w).catch(() => {});
  };
  send();
  stdout.on('resize', send);
  return () => stdout.off('resize', send);
}

/** Signals an attached `brig run` passes on to its container (`POST /containers/{id}/kill?signal=`). */
export const FORWARDED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'] as const;

/** Forwards signals to the container until the returned function is called. */
export function forwardSignals(client: EngineClient, id: string, signals: EventEmitter): () => void {
  const handlers = FORWARDED_SIGNALS.map((sig) => {
    const handler = () => {
      client.killContainer(id, sig.slice(3)).catch(() => {});
    };
    signals.on(sig, handler);
    return [sig, handler] as const;
  });
  return () => {
    for (const [sig, handler] of handlers) signals.off(sig, handler);
  };
}
