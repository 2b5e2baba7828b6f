// Runs inside the test's network namespace (ip netns exec): two upstream apps, a skein-proxy
// (the built package) with Istio's 15001 virtual outbound listener (use_original_dst) and one
// listener per service address, and a client whose traffic iptables REDIRECTs to 15001. Prints
// one JSON line: what each call returned.
import http from 'node:http';
import { startProxy } from '../../dist/index.js';

const HCM =
  'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const ROUTER = {
  name: 'envoy.filters.http.router',
  typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' },
};

function hcm(routes) {
  return {
    filters: [
      {
        name: 'envoy.filters.network.http_connection_manager',
        typed_config: {
          '@type': HCM,
          stat_prefix: 'out',
          route_config: { virtual_hosts: [{ name: 'v', domains: ['*'], routes }] },
          http_filters: [ROUTER],
        },
      },
    ],
  };
}
function listener(name, address, port, chain, extra = {}) {
  return {
    name,
    address: { socket_address: { address, port_value: port } },
    filter_chains: [chain],
    ...extra,
  };
}
function cluster(name, port) {
  return {
    name,
    type: 'STATIC',
    connect_timeout: '1s',
    load_assignment: {
      cluster_name: name,
      endpoints: [
        {
          lb_endpoints: [
            { endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } } },
          ],
        },
      ],
    },
  };
}

async function app(name) {
  const s = http.createServer((req, res) => res.end(`${name} saw ${req.headers.host}${req.url}`));
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  return { server: s, port: s.address().port };
}

function call(url) {
  return new Promise((resolve) => {
    http
      .get(url, { agent: false }, (res) => {
        let d = '';
        res.on('data', (c) => (d += c));
        res.on('end', () => resolve(`${res.statusCode} ${d}`));
      })
      .on('error', (e) => resolve(`error ${e.code}`));
  });
}

const a = await app('reviews');
const b = await app('ratings');
const proxy = await startProxy(
  {
    admin: { address: { socket_address: { address: '127.0.0.1', port_value: 15000 } } },
    static_resources: {
      listeners: [
        listener(
          'virtualOutbound',
          '0.0.0.0',
          15001,
          hcm([
            {
              match: { prefix: '/' },
              direct_response: { status: 502, body: { inline_string: 'no listener for this destination' } },
            },
          ]),
          { use_original_dst: true },
        ),
        listener(
          '10.10.0.10_80',
          '10.10.0.10',
          80,
          hcm([{ match: { prefix: '/' }, route: { cluster: 'reviews' } }]),
          { bind_to_port: false },
        ),
        listener(
          '0.0.0.0_9080',
          '0.0.0.0',
          9080,
          hcm([{ match: { prefix: '/' }, route: { cluster: 'ratings' } }]),
          { bind_to_port: false },
        ),
      ],
      clusters: [cluster('reviews', a.port), cluster('ratings', b.port)],
    },
  },
  { logLevel: 'off' },
);
const results = {
  exact: await call('http://10.10.0.10/r'),
  wildcardPort: await call('http://10.10.0.20:9080/x'),
  none: await call('http://10.10.0.30/'),
};
await proxy.stop();
a.server.close();
b.server.close();
process.stdout.write(JSON.stringify(results) + '\n');
