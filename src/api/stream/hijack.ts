/**
 * Hijacked connections (attach, exec start): answer `101 UPGRADED` to an Upgrade request, or the old
 * `200 OK` raw-stream form otherwise. Output goes to the socket; input (stdin) comes from the socket
 * after an upgrade, or from the request body in the old form. The socket stays half-open: a client
 * FIN means "no more stdin", output keeps flowing until the server ends it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex, Readable } from 'node:stream';

export interface HijackedStream {
  input: Readable;
  output: Duplex;
  /** Bytes of stdin the client sent together with the request head (upgrade form only). */
  head: Buffer;
}

const RAW = 'application/vnd.docker.raw-stream';
const MUX = 'application/vnd.docker.multiplexed-stream';

/** The stream's Content-Type: multiplexed for non-TTY at API >= 1.42, raw otherwise. */
export function streamContentType(apiVersion: number, tty: boolean): string {
  return !tty && apiVersion >= 1.42 ? MUX : RAW;
}

/** `res` is undefined for an Upgrade request (Node's 'upgrade' event has no response object). */
export function hijack(req: IncomingMessage, res: ServerResponse | undefined, socket: Duplex, head: Buffer, contentType: string): HijackedStream {
  if (res) {
    res.detachSocket(req.socket);
    req.socket.write(`HTTP/1.1 200 OK\r\nContent-Type: ${contentType}\r\nConnection: close\r\n\r\n`);
    return { input: req, output: req.socket, head: Buffer.alloc(0) };
  }
  socket.write(`HTTP/1.1 101 UPGRADED\r\nContent-Type: ${contentType}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`);
  return { input: socket, output: socket, head };
}
