import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callEcho } from './client.js';
import { decodeMessage, encodeMessage } from './proto.js';
import { parseReport } from './report.js';
import { grpcPeerHost, startEcho, type EchoServer } from './server.js';
import { peerAddress } from './report.js';

describe('echo app on loopback', () => {
  let server: EchoServer;
  beforeAll(async () => {
    server = await startEcho({
      version: 'v7',
      serviceName: 'echo-test',
      hostname: 'echo-host',
      host: '127.0.0.1',
      httpPort: 0,
      h2cPort: 0,
      grpcPort: 0,
      tcpPort: 0,
    });
  });
  afterAll(() => server.close());

  it('answers HTTP/1.1 with its version, hostname, peer and the request headers', async () => {
    const res = await callEcho({
      url: `http://127.0.0.1:${server.ports.http}/hello?x=1`,
      headers: { 'x-trace': 'abc' },
    });
    expect(res.code).toBe(200);
    const r = parseReport(res.body);
    expect(r.get('ServiceVersion')).toEqual(['v7']);
    expect(r.get('Hostname')).toEqual(['echo-host']);
    expect(r.get('Proto')).toEqual(['HTTP/1.1']);
    expect(r.get('IP')).toEqual(['127.0.0.1']);
    expect(r.get('URL')).toEqual(['/hello?x=1']);
    expect(r.get('RequestHeader')).toContain('x-trace:abc');
  });

  it('answers cleartext HTTP/2 and honours /status/<code>', async () => {
    const res = await callEcho({ url: `h2c://127.0.0.1:${server.ports.h2c}/status/418` });
    expect(res.code).toBe(418);
    expect(parseReport(res.body).get('Proto')).toEqual(['HTTP/2.0']);
  });

  it('answers gRPC with the metadata it received', async () => {
    const res = await callEcho({
      url: `grpc://127.0.0.1:${server.ports.grpc}`,
      body: 'ping',
      headers: { 'x-user': 'jason' },
    });
    expect(res.code).toBe('OK');
    const r = parseReport(res.body);
    expect(r.get('Proto')).toEqual(['GRPC']);
    expect(r.get('Echo')).toEqual(['ping']);
    expect(r.get('RequestHeader')).toContain('x-user:jason');
    expect(r.get('IP')).toEqual(['127.0.0.1']);
  });

  it('answers a gRPC call that sets no body (the in-cluster client default)', async () => {
    const res = await callEcho({ url: `grpc://127.0.0.1:${server.ports.grpc}` });
    expect(res.code).toBe('OK');
    expect(parseReport(res.body).get('Echo')).toEqual(['hello']);
  });

  it('echoes TCP payloads with its report', async () => {
    const res = await callEcho({ url: `tcp://127.0.0.1:${server.ports.tcp}`, body: 'over-tcp' });
    const r = parseReport(res.body);
    expect(r.get('Proto')).toEqual(['TCP']);
    expect(r.get('Echo')).toEqual(['over-tcp']);
  });

  it('counts requests per protocol on /metrics', async () => {
    const res = await callEcho({ url: `http://127.0.0.1:${server.ports.http}/metrics` });
    expect(res.body).toMatch(/^echo_requests_total\{protocol="grpc"\} [1-9]/m);
    expect(res.body).toMatch(/^echo_requests_total\{protocol="http"\} [1-9]/m);
  });

  it('reduces every grpc-js peer form to the bare address', () => {
    expect(grpcPeerHost('ipv4:10.0.0.1:1234')).toBe('10.0.0.1');
    expect(grpcPeerHost('ipv6:[::1]:1234')).toBe('::1');
    expect(grpcPeerHost('[fd00::5]:80')).toBe('fd00::5');
    expect(peerAddress(grpcPeerHost('::ffff:10.244.0.21:48156'))).toBe('10.244.0.21');
  });

  it('round-trips the hand-written protobuf encoding, including multi-byte lengths', () => {
    const long = 'x'.repeat(300);
    expect(encodeMessage(long).subarray(0, 3)).toEqual(Buffer.from([0x0a, 0xac, 0x02]));
    expect(decodeMessage(encodeMessage(long))).toBe(long);
    expect(decodeMessage(Buffer.alloc(0))).toBe('');
  });
});
