// Envoy's filter chain match: among a listener's filter chains, the most specific match on
// destination port, destination IP prefix, server name (SNI), transport protocol, application
// protocols, source type, source prefix and source port — criteria applied in that order,
// each narrowing the candidates. Pure.
import net from 'node:net';
import type { listenerComponentsV3 } from '@skein/api-types';

export interface ConnectionFacts {
  destinationIp: string;
  destinationPort: number;
  sourceIp: string;
  sourcePort: number;
  serverName: string | undefined;
  transportProtocol: string; // 'raw_buffer' or 'tls'
  applicationProtocols: readonly string[];
}

type Chain = listenerComponentsV3.FilterChainJson;
type Match = listenerComponentsV3.FilterChainMatchJson;

function ipInPrefix(ip: string, prefix: string, len: number): boolean {
  const family = net.isIPv6(prefix) ? 'ipv6' : 'ipv4';
  if ((net.isIPv6(ip) ? 'ipv6' : 'ipv4') !== family) {
    // IPv4-mapped IPv6 addresses match IPv4 prefixes.
    const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
    if (!m?.[1] || family !== 'ipv4') return false;
    ip = m[1];
  }
  const list = new net.BlockList();
  list.addSubnet(prefix, len, family);
  return list.check(ip, family);
}

/** The longest prefix length among `ranges` containing ip: -1 none match, 0 for no ranges (any). */
function prefixScore(ranges: Match['prefixRanges'], ip: string): number {
  if (!ranges || ranges.length === 0) return 0;
  let best = -1;
  for (const r of ranges) {
    const len = r.prefixLen ?? (net.isIPv6(r.addressPrefix ?? '') ? 128 : 32);
    if (r.addressPrefix && ipInPrefix(ip, r.addressPrefix, len)) best = Math.max(best, len + 1);
  }
  return best;
}

function serverNameScore(names: readonly string[] | undefined, sni: string | undefined): number {
  if (!names || names.length === 0) return 0;
  if (!sni) return -1;
  const s = sni.toLowerCase();
  let best = -1;
  for (const n of names) {
    const nl = n.toLowerCase();
    if (nl === s) best = Math.max(best, 1000);
    else if (nl.startsWith('*.') && s.endsWith(nl.slice(1))) best = Math.max(best, nl.length);
  }
  return best;
}

/** Narrows candidates by one criterion: keeps those with the best non-negative score. */
function narrow(cands: Chain[], score: (m: Match) => number): Chain[] {
  let best = -1;
  let out: Chain[] = [];
  for (const c of cands) {
    const s = score(c.filterChainMatch ?? {});
    if (s < 0) continue;
    if (s > best) {
      best = s;
      out = [c];
    } else if (s === best) out.push(c);
  }
  return out;
}

export function selectFilterChain(
  chains: readonly Chain[],
  f: ConnectionFacts,
  fallback?: Chain,
): Chain | undefined {
  let c = [...chains];
  c = narrow(c, (m) =>
    m.destinationPort === undefined ? 0 : m.destinationPort === f.destinationPort ? 1 : -1,
  );
  c = narrow(c, (m) => prefixScore(m.prefixRanges, f.destinationIp));
  c = narrow(c, (m) => serverNameScore(m.serverNames, f.serverName));
  c = narrow(c, (m) => (!m.transportProtocol ? 0 : m.transportProtocol === f.transportProtocol ? 1 : -1));
  c = narrow(c, (m) =>
    !m.applicationProtocols || m.applicationProtocols.length === 0
      ? 0
      : m.applicationProtocols.some((p) => f.applicationProtocols.includes(p))
        ? 1
        : -1,
  );
  c = narrow(c, (m) => {
    const t = m.sourceType ?? 'ANY';
    if (t === 'ANY') return 0;
    const local = f.sourceIp === f.destinationIp || f.sourceIp.startsWith('127.') || f.sourceIp === '::1';
    return (t === 'SAME_IP_OR_LOOPBACK') === local ? 1 : -1;
  });
  c = narrow(c, (m) => prefixScore(m.sourcePrefixRanges, f.sourceIp));
  c = narrow(c, (m) =>
    !m.sourcePorts || m.sourcePorts.length === 0 ? 0 : m.sourcePorts.includes(f.sourcePort) ? 1 : -1,
  );
  return c[0] ?? fallback;
}
