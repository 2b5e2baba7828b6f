// The bench's skein-proxy bootstrap: one listener (HTTP connection manager, a catch-all route as
// skeind makes a sidecar's outbound route: `timeout: 0s` and Istio's default retry policy) in front
// of the upstream cluster `up`, optional extra clusters and TLS either side; shared by run.mjs,
// mtls.mjs and side-by-side.mjs. BENCH_ROUTE=plain drops the retry policy (the route before 26 Nov).

/** Istio's default retry policy, as skeind's translation writes it on every sidecar route. */
export const ISTIO_RETRY_POLICY = Object.freeze({
  retry_on: 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes',
  num_retries: 2,
  retriable_status_codes: [503],
  retry_host_predicate: [
    {
      name: 'envoy.retry_host_predicates.previous_hosts',
      typed_config: {
        '@type': 'type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate',
      },
    },
  ],
  host_selection_retry_max_attempts: '5',
});

/** The bench's route action: `route` is 'istio' (the default, or BENCH_ROUTE) or 'plain'. */
export function benchRouteAction(route = process.env.BENCH_ROUTE ?? 'istio') {
  if (route === 'plain') return { cluster: 'up', timeout: '0s' };
  if (route !== 'istio') throw new Error(`BENCH_ROUTE: 'istio' or 'plain', not ${route}`);
  return { cluster: 'up', timeout: '0s', retry_policy: ISTIO_RETRY_POLICY };
}

/** A STATIC cluster `name` of one endpoint, 127.0.0.1:`port` (its load assignment named `assignment`). */
export function loopbackCluster(name, port, assignment = name) {
  return {
    name,
    type: 'STATIC',
    connect_timeout: '1s',
    load_assignment: {
      cluster_name: assignment,
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

/**
 * `tls`: `{ upstream?, downstream? }` common TLS contexts (downstream requires client certificates);
 * `route`: see benchRouteAction.
 */
export function skeinBootstrap(port, upstream, extraClusters = 0, tls = undefined, route = undefined) {
  const clusters = [loopbackCluster('up', upstream)];
  for (let i = 0; i < extraClusters; i++)
    clusters.push(loopbackCluster(`outbound|80||svc-${i}.default.svc.cluster.local`, 10000 + i, `c${i}`));
  if (tls?.upstream)
    clusters[0].transport_socket = {
      name: 'tls',
      typed_config: {
        '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
        common_tls_context: tls.upstream,
      },
    };
  const chainTls = tls?.downstream
    ? {
        transport_socket: {
          name: 'tls',
          typed_config: {
            '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
            require_client_certificate: true,
            common_tls_context: tls.downstream,
          },
        },
      }
    : {};
  return {
    node: { id: 'bench', cluster: 'bench' },
    admin: { address: { socket_address: { address: '127.0.0.1', port_value: 0 } } },
    static_resources: {
      listeners: [
        {
          name: 'bench',
          address: { socket_address: { address: '127.0.0.1', port_value: port } },
          filter_chains: [
            {
              ...chainTls,
              filters: [
                {
                  name: 'hcm',
                  typed_config: {
                    '@type':
                      'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
                    stat_prefix: 'bench',
                    route_config: {
                      virtual_hosts: [
                        {
                          name: 'all',
                          domains: ['*'],
                          routes: [{ match: { prefix: '/' }, route: benchRouteAction(route) }],
                        },
                      ],
                    },
                    http_filters: [
                      {
                        name: 'router',
                        typed_config: {
                          '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router',
                        },
                      },
                    ],
                  },
                },
              ],
            },
          ],
        },
      ],
      clusters,
    },
  };
}
