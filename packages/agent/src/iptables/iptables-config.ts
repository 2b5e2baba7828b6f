// The init step's configuration, with istio-iptables' flags and defaults.

export interface IptablesConfig {
  /** -p: outbound capture port. */
  proxyPort: number;
  /** -z: inbound capture port. */
  inboundCapturePort: number;
  /** Inbound tunnel port that always passes (15008). */
  inboundTunnelPort: number;
  /** -u: UIDs whose traffic is never redirected. */
  proxyUids: string[];
  /** -g: GIDs whose traffic is never redirected. */
  proxyGids: string[];
  /**
   * -m: how inbound traffic reaches the proxy. REDIRECT: nat REDIRECT (original destination from
   * SO_ORIGINAL_DST). TPROXY: mangle TPROXY with a packet mark and a policy route, so the proxy's
   * transparent (IP_TRANSPARENT) listener sees the original destination as its local address and
   * the client's real source address. Outbound is REDIRECT in both, as in Istio.
   */
  mode: 'REDIRECT' | 'TPROXY';
  /** TPROXY: the mark of inbound packets diverted to the proxy (`--tproxy-mark`; +1 marks the proxy's own loopback calls). */
  inboundTproxyMark: number;
  /** TPROXY: the routing table delivering marked packets locally. */
  inboundTproxyRouteTable: number;
  /** -i: outbound CIDRs to capture; ['*'] for all, [] for none. */
  includeOutboundCidrs: string[];
  /** -x: outbound CIDRs never captured. */
  excludeOutboundCidrs: string[];
  /** -b: inbound ports to capture; ['*'] for all, [] for none. */
  includeInboundPorts: string[];
  /** -d: inbound ports never captured (with '*'). */
  excludeInboundPorts: string[];
  /** -o: outbound ports never captured. */
  excludeOutboundPorts: string[];
  /** -q: outbound ports always captured, even outside includeOutboundCidrs. */
  includeOutboundPorts: string[];
  /** -c: interfaces left alone entirely: nothing arriving on or leaving by them is captured. */
  excludeInterfaces: string[];
  /**
   * -k: virtual interfaces (KubeVirt VMs) whose inbound traffic is the VM's outbound traffic: it is
   * redirected to the outbound capture port (for the included outbound CIDRs) and never to inbound.
   */
  kubeVirtInterfaces: string[];
  /** Capture DNS (port 53 to the resolvers) to the agent's DNS proxy. */
  captureDns: boolean;
  /** Resolvers whose traffic is captured (from /etc/resolv.conf); empty: every destination. */
  dnsServers: string[];
  /** The agent's DNS proxy port (15053). */
  dnsPort: number;
}

export const DEFAULT_IPTABLES_CONFIG: IptablesConfig = {
  proxyPort: 15001,
  inboundCapturePort: 15006,
  inboundTunnelPort: 15008,
  proxyUids: ['1337'],
  proxyGids: ['1337'],
  mode: 'REDIRECT',
  inboundTproxyMark: 1337,
  inboundTproxyRouteTable: 133,
  includeOutboundCidrs: ['*'],
  excludeOutboundCidrs: [],
  includeInboundPorts: ['*'],
  excludeInboundPorts: ['15090', '15021', '15020'],
  excludeOutboundPorts: [],
  includeOutboundPorts: [],
  excludeInterfaces: [],
  kubeVirtInterfaces: [],
  captureDns: false,
  dnsServers: [],
  dnsPort: 15053,
};

/** Splits a comma-separated flag value ("" → []). */
export function list(v: string | undefined): string[] {
  return (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** The nameservers of a resolv.conf text. */
export function nameservers(resolvConf: string): string[] {
  return resolvConf
    .split('\n')
    .map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1])
    .filter((s): s is string => s !== undefined);
}
