// Istio's rule set for one IP family, as iptables-save text: the nat table (outbound, and inbound
// in REDIRECT mode), the mangle table in TPROXY mode, and the policy route TPROXY needs. Pure:
// config in, rules out.
import type { IptablesConfig } from './iptables-config.js';

export type Family = 4 | 6;

/** Our nat chains, in the order they are created. */
export const CHAINS = ['ISTIO_INBOUND', 'ISTIO_REDIRECT', 'ISTIO_IN_REDIRECT', 'ISTIO_OUTPUT'] as const;
/** Our mangle chains (TPROXY mode). */
export const MANGLE_CHAINS = ['ISTIO_DIVERT', 'ISTIO_TPROXY', 'ISTIO_INBOUND'] as const;

/** Rules we add to the built-in chains carry this comment, so --cleanup finds exactly them. */
export const MARK = '-m comment --comment skein';

const isV6 = (cidr: string) => cidr.includes(':');

/** The `-A ...` rules of the nat table for one family (without table header and COMMIT). */
export function natRules(c: IptablesConfig, family: Family): string[] {
  const localhost = family === 4 ? '127.0.0.1/32' : '::1/128';
  const passthroughSource = family === 4 ? '127.0.0.6/32' : '::6/128';
  const ofFamily = (cidrs: string[]) => cidrs.filter((x) => x === '*' || isV6(x) === (family === 6));
  const r: string[] = [];
  const add = (s: string) => r.push(s);

  // Interfaces outside the mesh, and VM interfaces whose traffic is outbound, before any capture.
  for (const iface of c.excludeInterfaces) add(`-A PREROUTING -i ${iface} ${MARK} -j RETURN`);
  for (const iface of c.kubeVirtInterfaces) {
    for (const x of ofFamily(c.excludeOutboundCidrs))
      add(`-A PREROUTING -i ${iface} -d ${x} ${MARK} -j RETURN`);
    if (c.includeOutboundCidrs.includes('*')) add(`-A PREROUTING -i ${iface} ${MARK} -j ISTIO_REDIRECT`);
    else
      for (const i of ofFamily(c.includeOutboundCidrs))
        add(`-A PREROUTING -i ${iface} -d ${i} ${MARK} -j ISTIO_REDIRECT`);
    add(`-A PREROUTING -i ${iface} ${MARK} -j RETURN`);
  }
  // Inbound (TPROXY mode: in the mangle table, below).
  if (c.includeInboundPorts.length > 0 && c.mode === 'REDIRECT') {
    add(`-A PREROUTING -p tcp ${MARK} -j ISTIO_INBOUND`);
    add(`-A ISTIO_INBOUND -p tcp --dport ${c.inboundTunnelPort} -j RETURN`);
    if (c.includeInboundPorts.includes('*')) {
      for (const p of c.excludeInboundPorts) add(`-A ISTIO_INBOUND -p tcp --dport ${p} -j RETURN`);
      add(`-A ISTIO_INBOUND -p tcp -j ISTIO_IN_REDIRECT`);
    } else {
      for (const p of c.includeInboundPorts) add(`-A ISTIO_INBOUND -p tcp --dport ${p} -j ISTIO_IN_REDIRECT`);
    }
  }
  add(`-A ISTIO_IN_REDIRECT -p tcp -j REDIRECT --to-ports ${c.inboundCapturePort}`);
  add(`-A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports ${c.proxyPort}`);

  // Outbound.
  for (const iface of c.excludeInterfaces) add(`-A OUTPUT -o ${iface} ${MARK} -j RETURN`);
  add(`-A OUTPUT -p tcp ${MARK} -j ISTIO_OUTPUT`);
  for (const p of c.excludeOutboundPorts) add(`-A ISTIO_OUTPUT -p tcp --dport ${p} -j RETURN`);
  if (c.captureDns) {
    const dns = ofFamily(c.dnsServers);
    const owners = [
      ...c.proxyUids.map((u) => `--uid-owner ${u}`),
      ...c.proxyGids.map((g) => `--gid-owner ${g}`),
    ];
    for (const o of owners) add(`-A OUTPUT -p udp --dport 53 -m owner ${o} ${MARK} -j RETURN`);
    for (const d of dns.length > 0 ? dns : [undefined]) {
      const dst = d ? ` -d ${d.includes('/') ? d : `${d}/${family === 4 ? 32 : 128}`}` : '';
      add(`-A OUTPUT${dst} -p udp --dport 53 ${MARK} -j REDIRECT --to-ports ${c.dnsPort}`);
    }
  }
  // Traffic the proxy sends from 127.0.0.6 (inbound passthrough) goes straight to the app.
  add(`-A ISTIO_OUTPUT -s ${passthroughSource} -o lo -j RETURN`);
  const owner = (kind: 'uid' | 'gid', id: string) => {
    // A pod calling itself through its service: the proxy's outbound connection to the pod's own
    // IP leaves on lo and must come back in through the inbound capture.
    add(
      `-A ISTIO_OUTPUT ! -d ${localhost} -o lo -p tcp ! --dport ${c.inboundTunnelPort} -m owner --${kind}-owner ${id} -j ISTIO_IN_REDIRECT`,
    );
    // Other loopback traffic of the app is app-to-app: leave it alone.
    add(`-A ISTIO_OUTPUT -o lo -m owner ! --${kind}-owner ${id} -j RETURN`);
    // Everything else the proxy sends is its upstream traffic: never captured.
    add(`-A ISTIO_OUTPUT -m owner --${kind}-owner ${id} -j RETURN`);
  };
  for (const u of c.proxyUids) owner('uid', u);
  for (const g of c.proxyGids) owner('gid', g);
  if (c.captureDns) {
    const dns = ofFamily(c.dnsServers);
    for (const d of dns.length > 0 ? dns : [undefined]) {
      const dst = d ? ` -d ${d.includes('/') ? d : `${d}/${family === 4 ? 32 : 128}`}` : '';
      add(`-A ISTIO_OUTPUT${dst} -p tcp --dport 53 -j REDIRECT --to-ports ${c.dnsPort}`);
    }
  }
  add(`-A ISTIO_OUTPUT -d ${localhost} -j RETURN`);
  for (const p of c.includeOutboundPorts) add(`-A ISTIO_OUTPUT -p tcp --dport ${p} -j ISTIO_REDIRECT`);
  for (const x of ofFamily(c.excludeOutboundCidrs)) add(`-A ISTIO_OUTPUT -d ${x} -j RETURN`);
  if (c.includeOutboundCidrs.includes('*')) add(`-A ISTIO_OUTPUT -j ISTIO_REDIRECT`);
  else for (const i of ofFamily(c.includeOutboundCidrs)) add(`-A ISTIO_OUTPUT -d ${i} -j ISTIO_REDIRECT`);
  return r;
}

/**
 * The `-A ...` rules of the mangle table for one family in TPROXY mode (none in REDIRECT mode):
 * new inbound connections are TPROXYed to the inbound capture port with the mark, packets of
 * established ones are marked (ISTIO_DIVERT) so the policy route delivers them locally, the mark
 * is saved on the connection and restored on the replies. The proxy's own calls to its pod IP
 * over lo carry mark+1 and are the only loopback traffic diverted; 127.0.0.6 passthrough is not.
 */
export function mangleRules(c: IptablesConfig, family: Family): string[] {
  if (c.mode !== 'TPROXY' || c.includeInboundPorts.length === 0) return [];
  const localhost = family === 4 ? '127.0.0.1/32' : '::1/128';
  const passthroughSource = family === 4 ? '127.0.0.6/32' : '::6/128';
  const mark = c.inboundTproxyMark;
  const own = mark + 1;
  const r: string[] = [];
  const add = (s: string) => r.push(s);
  add(`-A PREROUTING -p tcp ${MARK} -j ISTIO_INBOUND`);
  add(`-A PREROUTING -p tcp -m mark --mark ${mark} ${MARK} -j CONNMARK --save-mark`);
  add(`-A OUTPUT -p tcp -o lo -m mark --mark ${mark} ${MARK} -j RETURN`);
  for (const [kind, ids] of [
    ['uid', c.proxyUids],
    ['gid', c.proxyGids],
  ] as const)
    for (const id of ids)
      add(
        `-A OUTPUT ! -d ${localhost} -p tcp -o lo -m owner --${kind}-owner ${id} ${MARK} -j MARK --set-mark ${own}`,
      );
  add(`-A OUTPUT -p tcp -m connmark --mark ${mark} ${MARK} -j CONNMARK --restore-mark`);
  add(`-A ISTIO_DIVERT -j MARK --set-mark ${mark}`);
  add(`-A ISTIO_DIVERT -j ACCEPT`);
  add(
    `-A ISTIO_TPROXY ! -d ${localhost} -p tcp -j TPROXY --tproxy-mark ${mark}/0xffffffff --on-port ${c.inboundCapturePort}`,
  );
  add(`-A ISTIO_INBOUND -p tcp -m mark --mark ${mark} -j RETURN`);
  add(`-A ISTIO_INBOUND -p tcp -s ${passthroughSource} -i lo -j RETURN`);
  add(`-A ISTIO_INBOUND -p tcp -i lo -m mark ! --mark ${own} -j RETURN`);
  add(`-A ISTIO_INBOUND -p tcp --dport ${c.inboundTunnelPort} -j RETURN`);
  for (const iface of [...c.excludeInterfaces, ...c.kubeVirtInterfaces])
    add(`-A ISTIO_INBOUND -i ${iface} -j RETURN`);
  const divert = (port: string) => {
    const dport = port === '*' ? '' : ` --dport ${port}`;
    add(`-A ISTIO_INBOUND -p tcp${dport} -m conntrack --ctstate RELATED,ESTABLISHED -j ISTIO_DIVERT`);
    add(`-A ISTIO_INBOUND -p tcp${dport} -j ISTIO_TPROXY`);
  };
  if (c.includeInboundPorts.includes('*')) {
    for (const p of c.excludeInboundPorts) add(`-A ISTIO_INBOUND -p tcp --dport ${p} -j RETURN`);
    divert('*');
  } else for (const p of c.includeInboundPorts) divert(p);
  return r;
}

/** TPROXY mode: the `ip` commands (arguments) routing marked packets to the local stack. */
export function policyRoutes(c: IptablesConfig, family: Family): string[][] {
  if (c.mode !== 'TPROXY' || c.includeInboundPorts.length === 0) return [];
  const ip = family === 4 ? ['-4'] : ['-6'];
  const table = String(c.inboundTproxyRouteTable);
  return [
    [...ip, 'rule', 'add', 'fwmark', String(c.inboundTproxyMark), 'lookup', table],
    [...ip, 'route', 'add', 'local', 'default', 'dev', 'lo', 'table', table],
  ];
}

/** The full iptables-save / iptables-restore input for one family (plus, as comments, the policy route). */
export function iptablesSave(c: IptablesConfig, family: Family): string {
  const mangle = mangleRules(c, family);
  const lines = [
    ...(mangle.length > 0
      ? ['* mangle', ...MANGLE_CHAINS.map((ch) => `:${ch} - [0:0]`), ...mangle, 'COMMIT']
      : []),
    '* nat',
    ...CHAINS.map((ch) => `:${ch} - [0:0]`),
    ...natRules(c, family),
    'COMMIT',
    ...policyRoutes(c, family).map((args) => `# ip ${args.join(' ')}`),
  ];
  return `${lines.join('\n')}\n`;
}
