// Access logs on real traffic: an HCM log keeping only 5xx responses, and tcp_proxy logging each
// connection when it ends (cluster, upstream host, bytes) and a failed connect with flag UF.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProxy, type RunningProxy } from '../src/index.js';
import { ADMIN, get, httpListener, startEcho, staticCluster, type Echo } from './helpers/upstreams.js';
import { freePort } from './helpers/free-port.js';

const FILE_LOG = 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog';
const TCP_PROXY = 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy';

let dir: string;
let echo: Echo;
let tcpEcho: net.Server;
let proxy: RunningProxy;

function tcpListener(name: string, cluster: string, path: string): Record<string, unknown> {
  return {
    name,
    address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
    filter_chains: [
      {
        filters: [
          {
            name: 'envoy.filters.network.tcp_proxy',
            typed_config: {
              '@type': TCP_PROXY,
              stat_prefix: name,
              cluster,
              access_log: [
                {
                  name: 'envoy.access_loggers.file',
                  typed_config: {
                    '@type': FILE_LOG,
                    path,
                    log_format: {
                      text_format_source: {
                        inline_string:
                          '%UPSTREAM_CLUSTER% %UPSTREAM_HOST% %BYTES_RECEIVED% %BYTES_SENT% %RESPONSE_FLAGS% %PROTOCOL%\n',
                      },
                    },
                  },
                },
              ],
            },
          },
        ],
      },
    ],
  };
}

async function lines(file: string, n: number): Promise<string[]> {
  for (let i = 0; i < 200; i++) {
    const text = await readFile(file, 'utf8').catch(() => '');
    const all = text.trim() ? text.trim().split('\n') : [];
    if (all.length >= n) return all;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${file} did not reach ${n} lines`);
}

/** Writes the payload, reads the same number of bytes back, then closes. */
function roundTrip(port: number, payload: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(payload));
    let got = '';
    s.on('data', (c: Buffer) => {
      got += c.toString();
      if (got.length >= payload.length) s.end();
    });
    s.on('close', () => resolve(got));
    s.on('error', reject);
  });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'skein-alog-'));
  echo = await startEcho('a');
  tcpEcho = net.createServer((s) => s.pipe(s));
  await new Promise<void>((r) => tcpEcho.listen(0, '127.0.0.1', r));
  const tcpPort = (tcpEcho.address() as net.AddressInfo).port;
  const deadPort = await freePort();
  const routes = {
    name: 'local',
    virtual_hosts: [
      {
        name: 'any',
        domains: ['*'],
        routes: [
          { match: { path: '/fail' }, direct_response: { status: 503 } },
          { match: { prefix: '/' }, route: { cluster: 'a' } },
        ],
      },
    ],
  };
  const errorsOnly = {
    name: 'envoy.access_loggers.file',
    filter: {
      status_code_filter: { comparison: { op: 'GE', value: { default_value: 500, runtime_key: 'x' } } },
    },
    typed_config: {
      '@type': FILE_LOG,
      path: join(dir, 'http.log'),
      log_format: { text_format_source: { inline_string: '%RESPONSE_CODE% %REQ(:PATH)%\n' } },
    },
  };
  proxy = await startProxy({
    node: { id: 'sidecar~127.0.0.1~test.default~default.svc.cluster.local', cluster: 'test' },
    admin: ADMIN,
    static_resources: {
      listeners: [
        httpListener('http', routes, { access_log: [errorsOnly] }),
        tcpListener('tcp', 'tcp-echo', join(dir, 'tcp.log')),
        tcpListener('dead', 'dead', join(dir, 'dead.log')),
      ],
      clusters: [
        staticCluster('a', [echo.port]),
        staticCluster('tcp-echo', [tcpPort]),
        staticCluster('dead', [deadPort]),
      ],
    },
  });
});

afterAll(async () => {
  await proxy?.stop();
  await echo?.close();
  await new Promise((r) => tcpEcho?.close(r));
  await rm(dir, { recursive: true, force: true });
});

describe('access log filters and TCP access logs', () => {
  it('writes only the requests the filter keeps', async () => {
    const port = proxy.listenerAddress('http')?.port ?? 0;
    expect((await get(port, '/ok')).status).toBe(200);
    expect((await get(port, '/fail')).status).toBe(503);
    expect((await get(port, '/ok2')).status).toBe(200);
    expect((await get(port, '/fail')).status).toBe(503);
    expect(await lines(join(dir, 'http.log'), 2)).toEqual(['503 /fail', '503 /fail']);
  });

  it('logs a TCP connection when it ends, and a failed connect with UF', async () => {
    expect(await roundTrip(proxy.listenerAddress('tcp')?.port ?? 0, 'hello')).toBe('hello');
    const [line] = await lines(join(dir, 'tcp.log'), 1);
    expect(line).toMatch(/^tcp-echo 127\.0\.0\.1:\d+ 5 5 - -$/);
    await roundTrip(proxy.listenerAddress('dead')?.port ?? 0, 'x').catch(() => '');
    const [dead] = await lines(join(dir, 'dead.log'), 1);
    expect(dead).toMatch(/^dead 127\.0\.0\.1:\d+ \d+ 0 UF -$/);
  });

  it('refuses a listener whose access log filter it cannot evaluate, naming it', async () => {
    const routes = { name: 'r', virtual_hosts: [{ name: 'v', domains: ['*'], routes: [] }] };
    const traced = {
      name: 'envoy.access_loggers.file',
      filter: { traceable_filter: {} },
      typed_config: { '@type': FILE_LOG, path: join(dir, 'never.log') },
    };
    await expect(
      startProxy({
        node: { id: 'sidecar~127.0.0.1~bad.default~default.svc.cluster.local', cluster: 'test' },
        admin: ADMIN,
        static_resources: {
          listeners: [httpListener('bad', routes, { access_log: [traced] })],
          clusters: [],
        },
      }),
    ).rejects.toThrow(/traceableFilter is not supported/);
  });
});
