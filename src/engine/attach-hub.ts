/**
 * Attach sessions of containers: clients that receive a container's output and may send its stdin.
 * A session made on a created container waits and is connected when the task exists (before the
 * process starts, so no output is lost); on a running container it is connected at once.
 *
 * Docker's stdin rules: on client EOF a non-TTY container with StdinOnce gets its stdin closed;
 * with a TTY only the session ends. With a TTY the detach keys (default ctrl-p ctrl-q) end the
 * session without touching the container.
 */
import { EngineError } from '../errors.js';
import type { ContainerRecord } from '../model/container.js';
import type { Runtime, TaskStdio } from '../runtime/runtime.js';

/** Where an attached client receives output. */
export interface AttachSink {
  stdout(chunk: Buffer): void;
  stderr(chunk: Buffer): void;
  /** The session ended: the container exited, the client detached, or the container was removed. */
  end(): void;
}

/** The client side of an attach session. */
export interface AttachHandle {
  writeStdin(chunk: Buffer): void;
  /** The client closed its input; applies Docker's StdinOnce rule. */
  endStdin(): void;
  detach(): void;
}

export interface AttachOptions {
  stdin: boolean;
  sink: AttachSink;
  /** Detach sequence (Docker's `--detach-keys` syntax); default `ctrl-p,ctrl-q`. */
  detachKeys?: string;
}

interface Session {
  stdin: boolean;
  tty: boolean;
  closesStdinOnEof: boolean;
  sink: AttachSink;
  stdio?: TaskStdio;
  inputEnded: boolean;
  buffered: Buffer[];
  ended: boolean;
  detector: DetachDetector | undefined;
}

export class AttachHub {
  readonly #sessions = new Map<string, Set<Session>>();
  readonly #runtime: Runtime;

  constructor(runtime: Runtime) {
    this.#runtime = runtime;
  }

  /** Adds a session; connects it now if `bundle` is given (a running container). */
  async add(c: ContainerRecord, options: AttachOptions, bundle: string | undefined): Promise<AttachHandle> {
    const s: Session = {
      stdin: options.stdin && c.spec.openStdin,
      tty: c.spec.tty,
      closesStdinOnEof: c.spec.stdinOnce && !c.spec.tty,
      sink: options.sink,
      inputEnded: false,
      buffered: [],
      ended: false,
      detector: c.spec.tty ? new DetachDetector(parseDetachKeys(options.detachKeys ?? 'ctrl-p,ctrl-q')) : undefined,
    };
    let set = this.#sessions.get(c.id);
    if (!set) this.#sessions.set(c.id, (set = new Set()));
    set.add(s);
    if (bundle !== undefined) {
      try {
        await this.#connect(c.id, bundle, s);
      } catch (err) {
        set.delete(s);
        throw new EngineError('ERR_CONFLICT', `cannot attach to container ${c.id}: ${(err as Error).message}`);
      }
    }
    const end = () => this.#end(c.id, s);
    return {
      writeStdin: (chunk) => {
        if (!s.stdin || s.ended) return;
        let data = chunk;
        if (s.detector) {
          const r = s.detector.feed(chunk);
          data = r.pass;
          if (r.detached) {
            if (data.length) this.#write(s, data);
            end();
            return;
          }
        }
        if (data.length) this.#write(s, data);
      },
      endStdin: () => {
        if (!s.stdin || s.inputEnded) return;
        s.inputEnded = true;
        if (s.stdio && s.closesStdinOnEof) s.stdio.endStdin();
      },
      detach: end,
    };
  }

  #write(s: Session, data: Buffer): void {
    if (s.stdio) s.stdio.writeStdin(data);
    else s.buffered.push(data);
  }

  /** Connects the waiting sessions of a container whose task now exists. */
  async connectPending(id: string, bundle: string): Promise<void> {
    const set = this.#sessions.get(id);
    if (!set) return;
    for (const s of set) if (!s.stdio && !s.ended) await this.#connect(id, bundle, s);
  }

  async #connect(id: string, bundle: string, s: Session): Promise<void> {
    const stdio = await this.#runtime.attach(id, bundle);
    s.stdio = stdio;
    stdio.onStdout((b) => s.sink.stdout(b));
    stdio.onStderr((b) => s.sink.stderr(b));
    stdio.onEnd(() => this.#end(id, s));
    for (const b of s.buffered) stdio.writeStdin(b);
    s.buffered = [];
    if (s.inputEnded && s.closesStdinOnEof) stdio.endStdin();
  }

  #end(id: string, s: Session): void {
    if (s.ended) return;
    s.ended = true;
    this.#sessions.get(id)?.delete(s);
    s.stdio?.close();
    s.sink.end();
  }

  /** Ends every session of a container (it was removed, or its start failed). */
  endAll(id: string): void {
    const set = this.#sessions.get(id);
    if (!set) return;
    this.#sessions.delete(id);
    for (const s of set) this.#end(id, s);
  }
}

/** Parses Docker's detach key syntax: `ctrl-p,ctrl-q`, `a,ctrl-@`; throws ERR_INVALID_ARGUMENT. */
export function parseDetachKeys(spec: string): Buffer {
  const out: number[] = [];
  for (const raw of spec.split(',')) {
    const k = raw.trim();
    if (k.length === 1) {
      out.push(k.charCodeAt(0));
    } else if (/^ctrl-[a-z@[\\\]^_]$/i.test(k)) {
      const c = k.slice(5).toLowerCase();
      out.push(c >= 'a' && c <= 'z' ? c.charCodeAt(0) - 96 : { '@': 0, '[': 27, '\\': 28, ']': 29, '^': 30, _: 31 }[c]!);
    } else {
      throw new EngineError('ERR_INVALID_ARGUMENT', `Invalid detach keys (${spec}) provided`);
    }
  }
  if (out.length === 0) throw new EngineError('ERR_INVALID_ARGUMENT', `Invalid detach keys (${spec}) provided`);
  return Buffer.from(out);
}

/** Finds a key sequence in a byte stream, holding back bytes that might start it. */
export class DetachDetector {
  readonly #keys: Buffer;
  #matched = 0;

  constructor(keys: Buffer) {
    this.#keys = keys;
  }

  /** Returns the bytes to pass on and whether the sequence completed. */
  feed(chunk: Buffer): { pass: Buffer; detached: boolean } {
    const out: number[] = [];
    for (const b of chunk) {
      if (b === this.#keys[this.#matched]) {
        this.#matched++;
        if (this.#matched === this.#keys.length) return { pass: Buffer.from(out), detached: true };
        continue;
      }
      // A partial match that breaks: the held bytes were ordinary input after all.
      for (let i = 0; i < this.#matched; i++) out.push(this.#keys[i]!);
      this.#matched = b === this.#keys[0] ? 1 : 0;
      if (this.#matched === 0) out.push(b);
    }
    return { pass: Buffer.from(out), detached: false };
  }
}
