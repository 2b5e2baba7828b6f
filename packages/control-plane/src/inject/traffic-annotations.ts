// The init step's command line (`skein-agent iptables`, flags as istio-iptables) from the pod's
// `traffic.sidecar.istio.io/*` and `sidecar.istio.io/interceptionMode` annotations. The agent's
// own ports (15090, 15021, 15020) are always excluded from inbound capture.
import { PORTS, PROXY_UID } from './injector-config.js';

const T = 'traffic.sidecar.istio.io/';

export type InterceptionMode = 'REDIRECT' | 'TPROXY' | 'NONE';

export function interceptionMode(annotations: Readonly<Record<string, string>>): InterceptionMode {
  const m = annotations['sidecar.istio.io/interceptionMode']?.toUpperCase();
  return m === 'TPROXY' || m === 'NONE' ? m : 'REDIRECT';
}

const list = (v: string | undefined): string[] =>
  (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

/** Arguments after `skein-agent iptables`. */
export function iptablesArgs(
  annotations: Readonly<Record<string, string>>,
  options: { dnsCapture: boolean },
): string[] {
  const includeOut = annotations[`${T}includeOutboundIPRanges`];
  const includeIn = annotations[`${T}includeInboundPorts`];
  const excludeIn = [
    ...new Set([
      String(PORTS.prometheus),
      String(PORTS.readiness),
      String(PORTS.agentStatus),
      ...list(annotations[`${T}excludeInboundPorts`]),
    ]),
  ];
  const args = [
    '-p',
    String(PORTS.outboundCapture),
    '-z',
    String(PORTS.inboundCapture),
    '-u',
    String(PROXY_UID),
    '-g',
    String(PROXY_UID),
    '-m',
    interceptionMode(annotations),
    '-i',
    includeOut === undefined ? '*' : list(includeOut).join(','),
  ];
  const excludeOut = list(annotations[`${T}excludeOutboundIPRanges`]);
  if (excludeOut.length) args.push('-x', excludeOut.join(','));
  args.push('-b', includeIn === undefined ? '*' : list(includeIn).join(','));
  args.push('-d', excludeIn.join(','));
  const excludeOutPorts = list(annotations[`${T}excludeOutboundPorts`]);
  if (excludeOutPorts.length) args.push('-o', excludeOutPorts.join(','));
  const includeOutPorts = list(annotations[`${T}includeOutboundPorts`]);
  if (includeOutPorts.length) args.push('-q', includeOutPorts.join(','));
  const virt = list(
    annotations['istio.io/reroute-virtual-interfaces'] ?? annotations[`${T}kubevirtInterfaces`],
  );
  if (virt.length) args.push('-k', virt.join(','));
  const excludeIfaces = list(annotations[`${T}excludeInterfaces`]);
  if (excludeIfaces.length) args.push('-c', excludeIfaces.join(','));
  if (options.dnsCapture) args.push('--redirect-dns');
  return args;
}
