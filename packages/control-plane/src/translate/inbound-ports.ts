// The inbound ports of a proxy's workload: from its Sidecar's ingress listeners when it has any
// (each with its bind address, capture mode and default endpoint), otherwise from the service
// ports whose endpoints are this workload (captured through 15006).
import { endpointPort } from '../model/services.js';
import { servicesOfProxy } from '../model/sidecar-scope.js';
import { isHttp, protocolOf, type Protocol } from '../model/protocol.js';
import type { TranslateContext } from './context.js';
import { parseHostPort } from './envoy.js';

export interface InboundTarget {
  /** The port traffic arrives on (the inbound cluster is `inbound|<port>||`). */
  readonly port: number;
  readonly protocol: Protocol;
  /** Where the app listens. */
  readonly endpoint: { readonly address: string; readonly port: number };
  /** A listener of its own bound to this address (captureMode NONE), else a 15006 chain. */
  readonly bind: string | undefined;
}

export function inboundIngressTargets(ctx: TranslateContext): InboundTarget[] {
  const { proxy } = ctx;
  const out = new Map<number, InboundTarget>();
  if (ctx.scope.ingress.length > 0) {
    for (const l of ctx.scope.ingress) {
      const port = l.port?.number;
      if (!port) continue;
      const ep = parseHostPort(l.defaultEndpoint ?? `127.0.0.1:${l.port?.targetPort ?? port}`);
      if (!ep) continue;
      const address = ep.address === '0.0.0.0' ? proxy.ip : ep.address;
      const own = l.captureMode === 'NONE' || proxy.interceptionMode === 'NONE';
      out.set(port, {
        port,
        protocol: protocolOf({ protocol: l.port?.protocol, name: l.port?.name }),
        endpoint: { address, port: ep.port },
        bind: own ? (l.bind ?? proxy.ip) : undefined,
      });
    }
  } else if (proxy.interceptionMode !== 'NONE') {
    const ips = new Set(proxy.ips);
    for (const s of servicesOfProxy(ctx.snapshot, proxy)) {
      const w = s.workloads.find((x) => ips.has(x.address));
      for (const p of s.ports) {
        // not (yet) a ready endpoint: the service port's numeric targetPort, or the port itself
        const target = w
          ? endpointPort(w, p)
          : p.targetPortName === undefined
            ? (p.targetPort ?? p.number)
            : 0;
        if (target === 0) continue;
        if (out.has(target)) continue;
        out.set(target, {
          port: target,
          protocol: p.protocol,
          endpoint: { address: proxy.ip, port: target },
          bind: undefined,
        });
      }
    }
  }
  return [...out.values()].sort((a, b) => a.port - b.port);
}

export function inboundIsHttp(t: InboundTarget): boolean {
  return isHttp(t.protocol);
}
