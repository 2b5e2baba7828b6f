// Proxyless gRPC (node metadata GENERATOR: grpc): the Listener named `<host>:<port>` a client
// dialing `xds:///<host>:<port>` asks for, holding an api_listener whose HTTP connection
// manager points at RDS; the RouteConfiguration with the VirtualService's semantics; EDS
// clusters. Clients subscribe by name, so every generator here answers only what was asked.
import type { listenerV3, routeV3 } from '@skein/api-types';
import { fqdn } from '../model/hosts.js';
import { serviceFor, virtualServiceFor } from '../model/snapshot.js';
import type { TranslateContext } from './context.js';
import { T, typed } from './envoy.js';
import { httpConnectionManager } from './hcm.js';
import { httpRoutes } from './http-routes.js';
import { outboundClusterName } from './names.js';

/** `host:port` → the service and port it names (short hosts expand in the client's namespace). */
function resolveTarget(ctx: TranslateContext, name: string) {
  const colon = name.lastIndexOf(':');
  if (colon < 0) return undefined;
  const port = Number(name.slice(colon + 1));
  if (!Number.isInteger(port)) return undefined;
  const host = fqdn(name.slice(0, colon), ctx.proxy.namespace);
  const service = serviceFor(ctx.snapshot, host, ctx.proxy.namespace);
  const servicePort = service?.ports.find((p) => p.number === port);
  if (!service || !servicePort) return undefined;
  return { service, port: servicePort, host, routeName: outboundClusterName(port, '', service.hostname) };
}

export function grpcListeners(ctx: TranslateContext, names: readonly string[]): listenerV3.ListenerJson[] {
  const out: listenerV3.ListenerJson[] = [];
  for (const name of [...new Set(names)].sort()) {
    const t = resolveTarget(ctx, name);
    if (!t) continue;
    out.push({
      name,
      apiListener: {
        apiListener: typed(
          T.hcm,
          httpConnectionManager({
            statPrefix: name,
            routeName: t.routeName,
            mesh: ctx.snapshot.mesh,
            grpc: true,
          }),
        ),
      },
    });
  }
  return out;
}

export function grpcRouteConfigs(
  ctx: TranslateContext,
  names: readonly string[],
): routeV3.RouteConfigurationJson[] {
  const out: routeV3.RouteConfigurationJson[] = [];
  for (const name of [...new Set(names)].sort()) {
    const parts = name.split('|');
    if (parts.length !== 4 || parts[0] !== 'outbound') continue;
    const t = resolveTarget(ctx, `${parts[3]}:${parts[1]}`);
    if (!t) continue;
    const vs = virtualServiceFor(ctx.snapshot, t.service.hostname, ctx.proxy.namespace);
    const short = t.service.hostname.split('.')[0] ?? t.service.hostname;
    const domains = [
      ...new Set([t.service.hostname, short, `${t.service.hostname.split('.').slice(0, 2).join('.')}`]),
    ].flatMap((d) => [d, `${d}:${t.port.number}`]);
    out.push({
      name,
      virtualHosts: [
        {
          name: `${t.service.hostname}:${t.port.number}`,
          domains,
          routes: httpRoutes(ctx, vs, t.service, t.port, { grpc: true }),
        },
      ],
    });
  }
  return out;
}
