// Which of a TLS context's certificates serve a ClientHello, as Envoy chooses: those whose DNS
// SANs (or CN) match the SNI — exact names before wildcards — else the whole list; of those, the
// first of each key type, so OpenSSL can pick ECDSA or RSA by the client's signature algorithms.

export interface CertPair {
  cert: string;
  key: string;
  /** DNS SANs, or the CN when there are none; lower case. */
  names: string[];
  /** 'rsa', 'ec', 'ed25519', ... */
  keyType: string;
}

function wildcardMatches(pattern: string, name: string): boolean {
  if (!pattern.startsWith('*.')) return false;
  const dot = name.indexOf('.');
  return dot > 0 && name.slice(dot) === pattern.slice(1);
}

/** One certificate per key type, first configured first. */
function firstOfEachKeyType(pairs: readonly CertPair[]): CertPair[] {
  const seen = new Set<string>();
  return pairs.filter((p) => (seen.has(p.keyType) ? false : (seen.add(p.keyType), true)));
}

export function certificateFor(pairs: readonly CertPair[], serverName: string | undefined): CertPair[] {
  if (serverName) {
    const sni = serverName.toLowerCase();
    const exact = pairs.filter((p) => p.names.includes(sni));
    if (exact.length > 0) return firstOfEachKeyType(exact);
    const wild = pairs.filter((p) => p.names.some((n) => wildcardMatches(n, sni)));
    if (wild.length > 0) return firstOfEachKeyType(wild);
  }
  // No SNI or no match: the first certificate, and the first of each other key type.
  return firstOfEachKeyType(pairs);
}
