// Runs inside the test's "pod" network namespace (ip netns exec): an app on 127.0.0.1:8080 that
// answers with what it received and who called it, and a skein-proxy (the built package) whose
// virtualInbound on 15006 is `transparent` (IP_TRANSPARENT) with a chain for destination port
// 8080 → the app, plus a second listener on 15007 for port 8081 that is not transparent. iptables
// TPROXY (set up by the test) sends new inbound connections to 8080 / 8081 to those listeners.
// Prints one JSON line when ready; stops when stdin ends.
import net from 'node:net';
import { startProxy } from '../../dist/index.js';

const TCP_PROXY = 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy';

const app = net.createServer((s) => {
  s.once('data', (d) => s.end(`app got ${d.toString()} from ${s.remoteAddress}`));
  s.on('error', () => undefined);
});
await new Promise((r) => app.listen(8080, '127.0.0.1', r));

const chain = (port) => ({
  filter_chain_match: { destination_port: port },
  filters: [
    {
      name: 'envoy.filters.network.tcp_proxy',
      typed_config: { '@type': TCP_PROXY, stat_prefix: `inbound_${port}`, cluster: 'inbound|8080||' },
    },
  ],
});
const proxy = await startProxy(
  {
    admin: { address: { socket_address: { address: '127.0.0.1', port_value: 15000 } } },
    static_resources: {
      listeners: [
        {
          name: 'virtualInbound',
          address: { socket_address: { address: '0.0.0.0', port_value: 15006 } },
          transparent: true,
          traffic_direction: 'INBOUND',
          filter_chains: [chain(8080)],
        },
        {
          name: 'notTransparent',
          address: { socket_address: { address: '0.0.0.0', port_value: 15007 } },
          filter_chains: [chain(8081)],
        },
      ],
      clusters: [
        {
          name: 'inbound|8080||',
          type: 'STATIC',
          connect_timeout: '1s',
          load_assignment: {
            cluster_name: 'inbound|8080||',
            endpoints: [
              {
                lb_endpoints: [
                  { endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: 8080 } } } },
                ],
              },
            ],
          },
        },
      ],
    },
  },
  { logLevel: 'off' },
);
process.stdout.write(JSON.stringify({ ready: true }) + '\n');
process.stdin.resume();
process.stdin.on('end', async () => {
  await proxy.stop();
  app.close();
});
