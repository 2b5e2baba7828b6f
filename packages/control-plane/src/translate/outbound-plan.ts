// Which outbound listeners a sidecar gets, shared by LDS and RDS so the two always agree: one
// per Sidecar egress listener with a port (bound to its address in captureMode NONE), and for
// the catch-all scope `0.0.0.0_<port>` per HTTP port and `<vip>_<port>` per TCP service port.
// A port of unknown protocol is sniffed: `<vip>_<port>` (or `0.0.0.0_<port>` without a VIP) with
// an HTTP chain routing through RDS `<port>` and a TCP chain for everything else.
import { isHttp, protocolOf } from '../model/protocol.js';
import type { Service, ServicePort } from '../model/services.js';
import type { TranslateContext } from './context.js';
import { listenerName } from './names.js';
import { withAutoAddress } from './address-allocation.js';

export interface OutboundListenerPlan {
  readonly name: string;
  readonly address: string;
  readonly port: number;
  /** True in captureMode NONE: the listener binds its own socket. */
  readonly bindToPort: boolean;
  /** HTTP listeners route through RDS `routeName` over `services`. */
  readonly http: boolean;
  readonly routeName: string;
  readonly services: readonly Service[];
  /** For TCP listeners: the service port traffic goes to. */
  readonly tcp?: { readonly service: Service; readonly port: ServicePort } | undefined;
  /** TLS services without an address share `0.0.0.0_<port>`, told apart by SNI. */
  readonly sni?: readonly { readonly service: Service; readonly port: ServicePort }[] | undefined;
  /** Unknown protocol: HTTP inspector, an HTTP chain (RDS) and a TCP chain (`tcp` or passthrough). */
  readonly sniff?: boolean | undefined;
}

const vipOf = (s: Service): string | undefined => s.addresses.find((a) => !a.includes('/'));

const servicePort = (s: Service, port: number): ServicePort | undefined =>
  s.ports.find((p) => p.number === port);

export function outboundPlan(ctx: TranslateContext): OutboundListenerPlan[] {
  const plans = new Map<string, OutboundListenerPlan>();
  const explicitPorts = new Set<number>();
  const none = ctx.proxy.interceptionMode === 'NONE';
  for (const e of ctx.scope.egress) {
    const l = e.listener;
    const port = l?.port?.number;
    if (!l || !port) continue;
    explicitPorts.add(port);
    const bound = none || l.captureMode === 'NONE';
    const address = l.bind ?? (bound ? '127.0.0.1' : '0.0.0.0');
    const services = e.services.filter((s) => servicePort(s, port)).map((s) => withAutoAddress(ctx, s));
    const declared = protocolOf({ protocol: l.port?.protocol, name: l.port?.name });
    const protocols = services.map((s) => servicePort(s, port)?.protocol ?? 'UNKNOWN');
    const sniff = declared === 'UNKNOWN' && protocols.some((p) => p === 'UNKNOWN');
    const http =
      declared === 'UNKNOWN'
        ? sniff || (services.length > 0 && protocols.every((p) => isHttp(p)))
        : isHttp(declared);
    const name = listenerName(address, port);
    const first = services[0];
    const firstPort = first ? servicePort(first, port) : undefined;
    plans.set(name, {
      name,
      address,
      port,
      bindToPort: bound,
      http,
      routeName: bound || l.bind ? name : String(port),
      services,
      tcp: (!http || sniff) && first && firstPort ? { service: first, port: firstPort } : undefined,
      sniff,
    });
  }
  if (none) return [...plans.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
  const catchAll = ctx.scope.egress.find((e) => !e.listener?.port?.number);
  for (const s of (catchAll?.services ?? []).map((x) => withAutoAddress(ctx, x))) {
    for (const p of s.ports) {
      if (explicitPorts.has(p.number)) continue;
      const vip = vipOf(s);
      if (p.protocol === 'UNKNOWN' && vip) {
        const name = listenerName(vip, p.number);
        if (plans.has(name)) continue;
        plans.set(name, {
          name,
          address: vip,
          port: p.number,
          bindToPort: false,
          http: true,
          routeName: String(p.number),
          services: [s],
          tcp: { service: s, port: p },
          sniff: true,
        });
      } else if (isHttp(p.protocol) || p.protocol === 'UNKNOWN') {
        const name = listenerName('0.0.0.0', p.number);
        const existing = plans.get(name);
        if (existing && !existing.http) continue;
        // Arrays made in this call: extended in place (copying them per service is O(n²)).
        const services = (existing?.services ?? []) as Service[];
        services.push(s);
        const sniff = existing?.sniff === true || p.protocol === 'UNKNOWN';
        plans.set(name, {
          name,
          address: '0.0.0.0',
          port: p.number,
          bindToPort: false,
          http: true,
          routeName: String(p.number),
          services,
          sniff,
          // Non-HTTP bytes on a wildcard port go to its only service, else pass through.
          tcp: sniff && services.length === 1 ? { service: s, port: p } : undefined,
        });
      } else if ((p.protocol === 'TLS' || p.protocol === 'HTTPS') && !vip) {
        const name = listenerName('0.0.0.0', p.number);
        const existing = plans.get(name);
        if (existing && !existing.sni) continue;
        plans.set(name, {
          name,
          address: '0.0.0.0',
          port: p.number,
          bindToPort: false,
          http: false,
          routeName: '',
          services: [...(existing?.services ?? []), s],
          sni: [...(existing?.sni ?? []), { service: s, port: p }],
        });
      } else {
        const address = vip ?? '0.0.0.0';
        const name = listenerName(address, p.number);
        if (plans.has(name)) continue;
        plans.set(name, {
          name,
          address,
          port: p.number,
          bindToPort: false,
          http: false,
          routeName: '',
          services: [s],
          tcp: { service: s, port: p },
        });
      }
    }
  }
  return [...plans.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
}
