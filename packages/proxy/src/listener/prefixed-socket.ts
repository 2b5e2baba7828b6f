// A duplex over a socket whose first bytes were already read by a listener filter: replays them,
// then passes the rest through. Used for handing peeked connections to the HTTP/2 server, which
// reads from the socket handle directly and would miss unshifted bytes.
import { Duplex } from 'node:stream';
import type net from 'node:net';

export class PrefixedSocket extends Duplex {
  constructor(
    private readonly socket: net.Socket,
    prefix: Buffer,
  ) {
    super();
    if (prefix.length > 0) this.push(prefix);
    socket.on('data', (d: Buffer) => {
      if (!this.push(d)) socket.pause();
    });
    socket.once('end', () => this.push(null));
    socket.once('close', () => this.destroy());
    socket.once('error', (e) => this.destroy(e));
  }
  get remoteAddress(): string | undefined {
    return this.socket.remoteAddress;
  }
  get remotePort(): number | undefined {
    return this.socket.remotePort;
  }
  override _read(): void {
    this.socket.resume();
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.socket.write(chunk, cb);
  }
  override _final(cb: (err?: Error | null) => void): void {
    this.socket.end();
    cb();
  }
  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.socket.destroy();
    cb(err);
  }
}
