// The hop-by-hop and connection-specific header names a proxy never forwards (Envoy's list): the
// HTTP/1.1 parser keeps them out of the header records it makes, the connection manager out of the
// records it copies from node:http and node:http2.

/** Hop-by-hop and connection-specific headers never forwarded. */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'expect',
  'http2-settings',
]);
