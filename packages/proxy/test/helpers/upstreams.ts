// Test upstreams on loopback: an HTTP/1.1 echo server that answers with its name, the request
// it saw, and a status chosen by the test; closes every connection on stop.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface EchoRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface Echo {
  name: string;
  port: number;
  requests: EchoRequest[];
  /** Status for the next responses (a function of the request count) — default 200. */
  status: (n: number, req: EchoRequest) => number;
  close(): Promise<void>;
}

export async function startEcho(name: string): Promise<Echo> {
  const echo: Echo = {
    name,
    port: 0,
    requests: [],
    status: () => 200,
    close: async () => {},
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: EchoRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      };
      echo.requests.push(r);
      const status = echo.status(echo.requests.length, r);
      const body = JSON.stringify({ name, ...r });
      res.writeHead(status, { 'content-type': 'application/json', 'x-upstream': name });
      res.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  echo.port = (server.address() as AddressInfo).port;
  echo.close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return echo;
}

export function staticCluster(
  name: string,
  ports: number[],
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    name,
    type: 'STATIC',
    connect_timeout: '1s',
    load_assignment: {
      cluster_name: name,
      endpoints: [
        {
          lb_endpoints: ports.map((p) => ({
            endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: p } } },
          })),
        },
      ],
    },
    ...extra,
  };
}

export const HCM =
  'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
export const ROUTER = {
  name: 'envoy.filters.http.router',
  typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' },
};

/** Route configuration `r`: one virtual host (`all`) for every domain, with `routes`. */
export function anyHostRoutes(routes: readonly Record<string, unknown>[]): Record<string, unknown> {
  return { name: 'r', virtual_hosts: [{ name: 'all', domains: ['*'], routes }] };
}

/** A listener on 127.0.0.1:0 with an HTTP connection manager over an inline route configuration. */
export function httpListener(
  name: string,
  routeConfig: Record<string, unknown>,
  hcmExtra: Record<string, unknown> = {},
  listenerExtra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    name,
    address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
    filter_chains: [
      {
        filters: [
          {
            name: 'envoy.filters.network.http_connection_manager',
            typed_config: {
              '@type': HCM,
              stat_prefix: name,
              route_config: routeConfig,
              http_filters: [ROUTER],
              ...hcmExtra,
            },
          },
        ],
      },
    ],
    ...listenerExtra,
  };
}

export const ADMIN = { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } };

/** Fetches through the proxy with an explicit Host header; returns status, headers and text. */
export async function get(
  port: number,
  path: string,
  headers: Record<string, string> = {},
  method = 'GET',
  body?: string,
): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          text: Buffer.concat(chunks).toString(),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
