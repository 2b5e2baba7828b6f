// Listener filters that look at a connection's first bytes without consuming them: the TLS
// inspector (ClientHello → SNI and ALPN) and the HTTP inspector (HTTP/1.x request line or the
// HTTP/2 preface → application protocol). Pure parsers over a byte prefix.

export interface Inspection {
  transportProtocol: 'tls' | 'raw_buffer';
  serverName: string | undefined;
  applicationProtocols: string[];
  /** False when more bytes are needed to decide. */
  complete: boolean;
}

const H2_PREFACE = 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n';
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'];

/** Parses a TLS ClientHello for SNI and ALPN; complete=false when the record is not all there. */
export function parseClientHello(b: Buffer): Inspection {
  const tls: Inspection = {
    transportProtocol: 'tls',
    serverName: undefined,
    applicationProtocols: [],
    complete: true,
  };
  if (b.length < 5) return { ...tls, complete: false };
  const recLen = b.readUInt16BE(3);
  if (b.length < 5 + recLen) return { ...tls, complete: false };
  let p = 5;
  if (b[p] !== 1) return tls; // not a ClientHello
  p += 4; // handshake type + length
  p += 2 + 32; // version + random
  const sid = b[p] ?? 0;
  p += 1 + sid;
  const cs = b.readUInt16BE(p);
  p += 2 + cs;
  const cm = b[p] ?? 0;
  p += 1 + cm;
  if (p + 2 > 5 + recLen) return tls;
  const extEnd = p + 2 + b.readUInt16BE(p);
  p += 2;
  while (p + 4 <= extEnd) {
    const type = b.readUInt16BE(p);
    const len = b.readUInt16BE(p + 2);
    const data = b.subarray(p + 4, p + 4 + len);
    if (type === 0 && data.length >= 5) {
      // server_name list: first entry of type host_name.
      const nameLen = data.readUInt16BE(3);
      if (data[2] === 0) tls.serverName = data.subarray(5, 5 + nameLen).toString('ascii');
    } else if (type === 16 && data.length >= 2) {
      let q = 2;
      while (q < data.length) {
        const l = data[q] ?? 0;
        tls.applicationProtocols.push(data.subarray(q + 1, q + 1 + l).toString('ascii'));
        q += 1 + l;
      }
    }
    p += 4 + len;
  }
  return tls;
}

/** Detects HTTP/1.x or HTTP/2 (prior knowledge) from the first bytes of a plaintext stream. */
export function detectHttp(b: Buffer): Inspection {
  const raw: Inspection = {
    transportProtocol: 'raw_buffer',
    serverName: undefined,
    applicationProtocols: [],
    complete: true,
  };
  const s = b.toString('latin1', 0, Math.min(b.length, 4096));
  if (s.length < H2_PREFACE.length && H2_PREFACE.startsWith(s)) return { ...raw, complete: false };
  if (s.startsWith(H2_PREFACE)) return { ...raw, applicationProtocols: ['h2c'] };
  const eol = s.indexOf('\r\n');
  if (eol < 0) {
    const token = s.split(' ')[0] ?? '';
    const plausible =
      s.length < 4096 &&
      (s.includes(' ') ? METHODS.includes(token) : METHODS.some((m) => m.startsWith(token)));
    return { ...raw, complete: !plausible };
  }
  const [method = '', , version = ''] = s.slice(0, eol).split(' ');
  if (!METHODS.includes(method)) return raw;
  if (version === 'HTTP/1.1') return { ...raw, applicationProtocols: ['http/1.1'] };
  if (version === 'HTTP/1.0') return { ...raw, applicationProtocols: ['http/1.0'] };
  return raw;
}

export function isTlsStart(b: Buffer): boolean {
  return b.length >= 3 && b[0] === 0x16 && b[1] === 0x03;
}

/** Inspects a prefix with the listener filters configured. */
export function inspect(b: Buffer, opts: { tls: boolean; http: boolean }): Inspection {
  const raw: Inspection = {
    transportProtocol: 'raw_buffer',
    serverName: undefined,
    applicationProtocols: [],
    complete: true,
  };
  if (opts.tls && isTlsStart(b)) return parseClientHello(b);
  if (opts.tls && b.length < 3 && (b.length === 0 || b[0] === 0x16)) return { ...raw, complete: false };
  if (opts.http) return detectHttp(b);
  return raw;
}
