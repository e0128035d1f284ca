/**
 * SOCK_SEQPACKET UNIX sockets on Node's event loop: conmon's attach socket (platform.md §1.6)
 * speaks messages, which Node's `net` cannot open (EPROTOTYPE).
 *
 * A `SeqpacketConnection` owns one connected, non-blocking socket fd and a native Poller on it.
 * - Reading: each received message is one 'message' event with its own Buffer (received into a
 *   64 KiB buffer, then copied to its exact size), never merged or split; a message larger than
 *   64 KiB fails the connection with EMSGSIZE. recv() returning 0 is the peer's EOF: 'end'. At most
 *   256 messages are read per loop turn, so a chatty peer cannot starve the loop.
 * - pause()/resume() stop and restart reading. The kernel then holds what the peer sent until its
 *   send buffer is full, and the peer's next send blocks (or gets EAGAIN). conmon 2.1.x writes
 *   to attach sockets with blocking writes from its single thread, so a paused attach client
 *   stalls conmon: the container's output (and its log) stop once the pipes fill, and resume when
 *   the client reads again. Nothing is dropped.
 * - Writing: write() sends at once when nothing is queued, else queues (EAGAIN = socket buffer
 *   full) and polls for writability; order is kept. It returns false while more than
 *   `highWaterMark` (1 MiB) is queued; 'drain' follows when the queue is empty again. Empty
 *   writes are ignored: a zero-length message would read as EOF at the peer.
 * - shutdownWrite() half-closes (the peer reads EOF: for conmon, the container's stdin closes)
 *   once the queue has been flushed; later writes throw ERR_STREAM_WRITE_AFTER_END.
 * - When the peer has gone (EPIPE/ECONNRESET on send) the queued and later writes are dropped
 *   without an error, and reading goes on to the peer's EOF, so no output already sent is lost.
 *   Any other failure is one 'error' event, followed by 'close'.
 * - close() is idempotent and safe inside any event handler: polling stops, the fd is closed,
 *   no further 'message' is emitted, and 'close' follows on the next tick.
 * - ref()/unref(): while reading or flushing, the connection keeps the process alive unless unref'd.
 */
import { EventEmitter } from 'node:events';
import { getSystemErrorName } from 'node:util';
import { close as closeFd, constants as C, isSystemError, sockets, type Poller } from './index.js';

export interface SeqpacketConnectionEvents {
  message: [data: Buffer];
  end: [];
  drain: [];
  error: [err: Error];
  close: [];
}

const READ_BUDGET = 256;
const CONNECT_RETRIES = 50;
const CONNECT_RETRY_MS = 10;

function codedError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

/** A libuv status (negative errno) as a Node-style error. */
function uvError(status: number, syscall: string): Error {
  const code = getSystemErrorName(status);
  return Object.assign(new Error(`${code}: ${syscall} failed`), { code, errno: status, syscall });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class SeqpacketConnection extends EventEmitter<SeqpacketConnectionEvents> {
  /** Queued bytes above which write() returns false. */
  static readonly highWaterMark = 1024 * 1024;

  readonly #fd: number;
  readonly #poller: Poller;
  #armed = 0;
  #paused = false;
  #readEnded = false;
  #closed = false;
  #queue: Uint8Array[] = [];
  #queued = 0;
  #needDrain = false;
  #shutdownRequested = false;
  #peerGone = false;

  /**
   * Connects to a SOCK_SEQPACKET listener at `path`. Rejects with the SystemError of connect:
   * ENOENT (no such socket), ECONNREFUSED (nobody listening), EPROTOTYPE (not a SEQPACKET socket),
   * ENAMETOOLONG (path over 107 bytes). A full listen backlog (EAGAIN) is retried for ~0.5 s.
   */
  static async connect(path: string): Promise<SeqpacketConnection> {
    for (let attempt = 0; ; attempt++) {
      try {
        return new SeqpacketConnection(sockets.seqpacketConnect(path));
      } catch (err) {
        if (!isSystemError(err, 'EAGAIN') || attempt >= CONNECT_RETRIES) throw err;
      }
      await sleep(CONNECT_RETRY_MS);
    }
  }

  /** Adopts a connected, non-blocking SOCK_SEQPACKET fd (it is closed with the connection). */
  constructor(fd: number) {
    super();
    this.#fd = fd;
    try {
      this.#poller = new sockets.Poller(fd, (status, events) => this.#onPoll(status, events));
    } catch (err) {
      closeFd(fd);
      throw err;
    }
    this.#arm();
  }

  get fd(): number {
    return this.#fd;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Bytes queued and not yet accepted by the kernel. */
  get writableLength(): number {
    return this.#queued;
  }

  /**
   * Sends `data` as one message (the Buffer must not change until it is sent). Returns false when
   * the caller should wait for 'drain'. Throws ERR_STREAM_WRITE_AFTER_END after shutdownWrite(),
   * ERR_STREAM_DESTROYED after close().
   */
  write(data: Uint8Array): boolean {
    if (this.#closed) throw codedError('ERR_STREAM_DESTROYED', 'write after the connection was closed');
    if (this.#shutdownRequested) throw codedError('ERR_STREAM_WRITE_AFTER_END', 'write after shutdownWrite()');
    if (data.length === 0 || this.#peerGone) return true;
    if (this.#queue.length === 0 && this.#send(data)) return true;
    if (this.#closed || this.#peerGone) return true;
    this.#queue.push(data);
    this.#queued += data.length;
    this.#arm();
    if (this.#queued <= SeqpacketConnection.highWaterMark) return true;
    this.#needDrain = true;
    return false;
  }

  /** Half-close after everything queued has been sent: the peer reads EOF. Idempotent. */
  shutdownWrite(): void {
    if (this.#closed || this.#shutdownRequested) return;
    this.#shutdownRequested = true;
    if (this.#queue.length === 0) this.#shutdown();
  }

  /** Stops reading: messages stay in the kernel, and the peer is throttled once its buffer fills. */
  pause(): void {
    this.#paused = true;
    this.#arm();
  }

  resume(): void {
    this.#paused = false;
    this.#arm();
  }

  /** Stops polling and closes the fd; 'close' follows on the next tick. Idempotent. */
  close(): void {
    if (!this.#teardown()) return;
    process.nextTick(() => this.emit('close'));
  }

  ref(): this {
    this.#poller.ref();
    return this;
  }

  unref(): this {
    this.#poller.unref();
    return this;
  }

  #teardown(): boolean {
    if (this.#closed) return false;
    this.#closed = true;
    this.#queue = [];
    this.#queued = 0;
    this.#poller.close();
    closeFd(this.#fd);
    return true;
  }

  #destroy(err: Error): void {
    if (!this.#teardown()) return;
    process.nextTick(() => {
      this.emit('error', err);
      this.emit('close');
    });
  }

  /** Polls for what is wanted now: reading unless paused or ended, writing while data is queued. */
  #arm(): void {
    if (this.#closed) return;
    let events = 0;
    if (!this.#paused && !this.#readEnded) events |= C.POLL_READABLE;
    if (this.#queue.length > 0) events |= C.POLL_WRITABLE;
    if (events === this.#armed) return;
    this.#armed = events;
    this.#poller.start(events);
  }

  #onPoll(status: number, events: number): void {
    if (this.#closed) return;
    if (status < 0) {
      // libuv reports POLLERR as UV_EBADF and stops the poll. On a UNIX socket that is the peer
      // closing with our data unread (ECONNRESET): what it sent us is still to be read.
      this.#armed = 0;
      this.#dropWrites();
      this.#read(Infinity);
      if (!this.#closed && !this.#readEnded && !this.#paused) this.#destroy(uvError(status, 'poll'));
      this.#arm();
      return;
    }
    if (events & C.POLL_WRITABLE) this.#flush();
    if (events & (C.POLL_READABLE | C.POLL_DISCONNECT)) this.#read(READ_BUDGET);
    this.#arm();
  }

  #read(budget: number): void {
    for (let n = 0; n < budget && !this.#closed && !this.#paused && !this.#readEnded; n++) {
      let msg: Buffer | null;
      try {
        msg = sockets.recvMessage(this.#fd);
      } catch (err) {
        // ECONNRESET is reported once, before the messages still queued for us: read on.
        if (isSystemError(err, 'ECONNRESET')) continue;
        return this.#destroy(err as Error);
      }
      if (msg === null) return;
      if (msg.length === 0) {
        this.#readEnded = true;
        this.emit('end');
        return;
      }
      this.emit('message', msg);
    }
  }

  /** Sends one message now; false if the socket buffer is full. A failure is handled here. */
  #send(data: Uint8Array): boolean {
    try {
      return sockets.sendMessage(this.#fd, data);
    } catch (err) {
      if (isSystemError(err, 'EPIPE') || isSystemError(err, 'ECONNRESET')) {
        this.#dropWrites(); // reading goes on to the peer's EOF
      } else {
        this.#destroy(err as Error);
      }
      return false;
    }
  }

  /** The peer has gone: nothing queued or written later can be delivered. */
  #dropWrites(): void {
    this.#peerGone = true;
    this.#queue = [];
    this.#queued = 0;
    if (!this.#needDrain) return;
    this.#needDrain = false;
    process.nextTick(() => this.emit('drain'));
  }

  #flush(): void {
    while (this.#queue.length > 0 && !this.#closed) {
      const head = this.#queue[0]!;
      if (!this.#send(head)) break;
      this.#queue.shift();
      this.#queued -= head.length;
    }
    if (this.#closed || this.#queue.length > 0) return;
    if (this.#shutdownRequested) this.#shutdown();
    if (this.#needDrain) {
      this.#needDrain = false;
      this.emit('drain');
    }
  }

  #shutdown(): void {
    try {
      sockets.shutdown(this.#fd, C.SHUT_WR);
    } catch (err) {
      if (!isSystemError(err, 'ENOTCONN')) this.#destroy(err as Error);
    }
  }
}

export interface SeqpacketListenerEvents {
  connection: [conn: SeqpacketConnection];
  error: [err: Error];
  close: [];
}

/**
 * A SOCK_SEQPACKET listener (for tests and local peers): 'connection' per accepted socket. The
 * socket file is not removed by close(); the caller owns its path.
 */
export class SeqpacketListener extends EventEmitter<SeqpacketListenerEvents> {
  readonly #fd: number;
  readonly #poller: Poller;
  #closed = false;

  /** Binds and listens at `path` (throws EADDRINUSE if it exists, ENAMETOOLONG over 107 bytes). */
  static listen(path: string, backlog = 64): SeqpacketListener {
    return new SeqpacketListener(sockets.seqpacketListen(path, backlog));
  }

  private constructor(fd: number) {
    super();
    this.#fd = fd;
    try {
      this.#poller = new sockets.Poller(fd, (status) => this.#onPoll(status));
      this.#poller.start(C.POLL_READABLE);
    } catch (err) {
      closeFd(fd);
      throw err;
    }
  }

  #onPoll(status: number): void {
    if (this.#closed) return;
    if (status < 0) return this.#fail(uvError(status, 'poll'));
    for (let n = 0; n < READ_BUDGET && !this.#closed; n++) {
      let fd: number;
      try {
        fd = sockets.accept(this.#fd);
      } catch (err) {
        return this.#fail(err as Error);
      }
      if (fd < 0) return;
      this.emit('connection', new SeqpacketConnection(fd));
    }
  }

  #fail(err: Error): void {
    if (this.#closed) return;
    this.close();
    process.nextTick(() => this.emit('error', err));
  }

  unref(): this {
    this.#poller.unref();
    return this;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#poller.close();
    closeFd(this.#fd);
    process.nextTick(() => this.emit('close'));
  }
}
