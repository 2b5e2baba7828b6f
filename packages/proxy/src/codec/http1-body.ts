// HTTP/1.1 message bodies: an incremental decoder for Content-Length, chunked (with chunk
// extensions ignored and trailer fields returned) and close-delimited bodies, and the chunked encoder.
import { HttpParseError, type BodyFraming } from './http1-head.js';

/** Largest chunk-size line or trailer section accepted, in bytes. */
const MAX_LINE = 4096;
const MAX_TRAILER_BYTES = 60 * 1024;
const HEX = /^[0-9a-fA-F]{1,12}$/;
const UNSAFE = /[\0\r\n]/;

const enum State {
  Length,
  Size,
  Data,
  DataEnd,
  Trailers,
  Close,
  Done,
}

export interface BodySink {
  /** A slice of body bytes (a view into the read buffer: copy it to keep it past this call). */
  data(chunk: Buffer): void;
  /** The body is complete. */
  end(trailers: Record<string, string>): void;
}

/** Decodes one message body; `feed` returns how many bytes of the input belonged to it. */
export class BodyDecoder {
  private state: State;
  private remaining = 0;
  private line = '';
  private trailerBytes = 0;
  private trailers: Record<string, string> = {};

  constructor(
    framing: BodyFraming,
    private readonly sink: BodySink,
  ) {
    if (framing.kind === 'length') {
      this.state = State.Length;
      this.remaining = framing.length;
    } else if (framing.kind === 'chunked') this.state = State.Size;
    else if (framing.kind === 'close') this.state = State.Close;
    else this.state = State.Done;
  }

  get done(): boolean {
    return this.state === State.Done;
  }

  /** The connection closed: completes a close-delimited body; false when the body was cut short. */
  eof(): boolean {
    if (this.state === State.Close) {
      this.state = State.Done;
      this.sink.end({});
      return true;
    }
    return this.state === State.Done;
  }

  /** Starts a body with no bytes (framing `none`): ends it at once. */
  endIfEmpty(): void {
    if (this.state === State.Done) this.sink.end({});
  }

  feed(buf: Buffer, start = 0): number {
    let i = start;
    const n = buf.length;
    while (i < n && this.state !== State.Done) {
      switch (this.state) {
        case State.Close:
          this.sink.data(i === 0 ? buf : buf.subarray(i));
          return n - start;
        case State.Length:
        case State.Data: {
          const take = Math.min(this.remaining, n - i);
          this.sink.data(i === 0 && take === n ? buf : buf.subarray(i, i + take));
          i += take;
          this.remaining -= take;
          if (this.remaining === 0) {
            if (this.state === State.Length) {
              this.state = State.Done;
              this.sink.end({});
            } else {
              this.state = State.DataEnd;
              this.line = '';
            }
          }
          break;
        }
        case State.Size:
        case State.DataEnd:
        case State.Trailers: {
          const lf = buf.indexOf(10, i);
          const stop = lf < 0 ? n : lf + 1;
          this.line += buf.toString('latin1', i, stop);
          i = stop;
          if (lf < 0) {
            if (this.line.length > MAX_LINE) throw new HttpParseError('chunk line too long');
            break;
          }
          if (!this.line.endsWith('\r\n')) throw new HttpParseError('bare LF in chunked body');
          const text = this.line.slice(0, -2);
          this.line = '';
          this.onLine(text);
          break;
        }
      }
    }
    return i - start;
  }

  private onLine(text: string): void {
    if (this.state === State.DataEnd) {
      if (text !== '') throw new HttpParseError('chunk data longer than its size');
      this.state = State.Size;
      return;
    }
    if (this.state === State.Size) {
      const semi = text.indexOf(';');
      const size = (semi < 0 ? text : text.slice(0, semi)).trimEnd();
      if (!HEX.test(size)) throw new HttpParseError('bad chunk size');
      this.remaining = parseInt(size, 16);
      this.state = this.remaining === 0 ? State.Trailers : State.Data;
      return;
    }
    // Trailers: field lines until the empty line.
    if (text === '') {
      this.state = State.Done;
      this.sink.end(this.trailers);
      return;
    }
    this.trailerBytes += text.length + 2;
    if (this.trailerBytes > MAX_TRAILER_BYTES) throw new HttpParseError('trailers too large');
    const c0 = text.charCodeAt(0);
    const colon = text.indexOf(':');
    if (c0 === 32 || c0 === 9 || colon <= 0) throw new HttpParseError('bad trailer field');
    const name = text.slice(0, colon).trim().toLowerCase();
    const value = text.slice(colon + 1).trim();
    this.trailers[name] = this.trailers[name] === undefined ? value : `${this.trailers[name]}, ${value}`;
  }
}

/** The chunked framing of one chunk of body bytes (none for an empty chunk, which would end the body). */
export function chunkHeader(length: number): string {
  return `${length.toString(16)}\r\n`;
}

/** The last chunk with optional trailer fields. */
export function lastChunk(trailers?: Record<string, string | string[]>): string {
  let s = '0\r\n';
  if (trailers) for (const k in trailers) s += fieldLines(k, trailers[k]);
  return s + '\r\n';
}

/** `name: value\r\n` lines for one header (one per value of a list). */
export function fieldLines(name: string, v: string | string[] | undefined): string {
  if (v === undefined) return '';
  if (typeof v === 'string') {
    if (UNSAFE.test(v)) throw new TypeError(`invalid value of header ${name}`);
    return `${name}: ${v}\r\n`;
  }
  let s = '';
  for (const x of v) s += fieldLines(name, x);
  return s;
}
