/**
 * The echo app's gRPC messages, encoded by hand: `EchoRequest { string message = 1; }` and
 * `EchoResponse { string message = 1; }` of service `skein.echo.EchoTestService` (method
 * `Echo`). One string field needs no code generator: tag byte 0x0a, varint length, UTF-8.
 */
export const ECHO_SERVICE = 'skein.echo.EchoTestService';
export const ECHO_METHOD_PATH = `/${ECHO_SERVICE}/Echo`;

export function encodeMessage(message: string): Buffer {
  const body = Buffer.from(message, 'utf8');
  const length: number[] = [];
  let n = body.length;
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n > 0) byte |= 0x80;
    length.push(byte);
  } while (n > 0);
  return body.length === 0 ? Buffer.alloc(0) : Buffer.concat([Buffer.from([0x0a, ...length]), body]);
}

export function decodeMessage(buf: Buffer): string {
  let i = 0;
  let message = '';
  while (i < buf.length) {
    const key = readVarint(buf, i);
    i = key.next;
    const field = key.value >>> 3;
    const wire = key.value & 7;
    if (wire === 2) {
      const len = readVarint(buf, i);
      const start = len.next;
      const end = start + len.value;
      if (end > buf.length) throw new Error('truncated length-delimited field');
      if (field === 1) message = buf.subarray(start, end).toString('utf8');
      i = end;
    } else if (wire === 0) {
      i = readVarint(buf, i).next;
    } else if (wire === 1) {
      i += 8;
    } else if (wire === 5) {
      i += 4;
    } else {
      throw new Error(`unsupported wire type ${wire}`);
    }
  }
  return message;
}

function readVarint(buf: Buffer, start: number): { value: number; next: number } {
  let value = 0;
  let shift = 0;
  for (let i = start; i < buf.length && shift < 35; i++) {
    const byte = buf[i] ?? 0;
    value |= (byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return { value: value >>> 0, next: i + 1 };
    shift += 7;
  }
  throw new Error('malformed varint');
}
