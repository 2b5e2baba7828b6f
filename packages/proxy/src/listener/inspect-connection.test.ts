// The TLS and HTTP inspectors over real ClientHello bytes and request prefixes.
import { describe, expect, it } from 'vitest';
import tls from 'node:tls';
import net from 'node:net';
import { detectHttp, inspect } from './inspect-connection.js';

async function clientHello(servername: string, alpn: string[]): Promise<Buffer> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const got = new Promise<Buffer>((resolve) =>
    server.once('connection', (s) => s.once('data', (d: Buffer) => (resolve(d), s.destroy()))),
  );
  const c = tls.connect({
    host: '127.0.0.1',
    port,
    servername,
    ALPNProtocols: alpn,
    rejectUnauthorized: false,
  });
  c.on('error', () => {});
  const hello = await got;
  c.destroy();
  server.close();
  return hello;
}

describe('listener inspectors', () => {
  it('reads SNI and ALPN from a ClientHello', async () => {
    const hello = await clientHello('reviews.default.svc.cluster.local', ['istio-peer-exchange', 'h2']);
    const r = inspect(hello, { tls: true, http: true });
    expect(r).toEqual({
      transportProtocol: 'tls',
      serverName: 'reviews.default.svc.cluster.local',
      applicationProtocols: ['istio-peer-exchange', 'h2'],
      complete: true,
    });
    expect(inspect(hello.subarray(0, 20), { tls: true, http: false }).complete).toBe(false);
  });

  it('detects HTTP/1.1, HTTP/1.0, the HTTP/2 preface, and non-HTTP', () => {
    expect(detectHttp(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n')).applicationProtocols).toEqual([
      'http/1.1',
    ]);
    expect(detectHttp(Buffer.from('POST /x HTTP/1.0\r\n')).applicationProtocols).toEqual(['http/1.0']);
    expect(detectHttp(Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')).applicationProtocols).toEqual(['h2c']);
    expect(detectHttp(Buffer.from('PRI * HT')).complete).toBe(false);
    expect(detectHttp(Buffer.from('GE')).complete).toBe(false);
    expect(detectHttp(Buffer.from('\x00\x01binary')).applicationProtocols).toEqual([]);
  });
});
