// What an access log sees of one proxied TCP connection: the HTTP fields stay empty (Envoy prints
// "-" for them), the rest — addresses, cluster, upstream host, bytes, duration, response flags —
// is filled in as the connection ends.
import type { DownstreamConnection } from '../http-connection-manager/proxy-context.js';
import type { PeerMetadata, StreamInfo } from '../http-connection-manager/stream-info.js';

export interface TcpOutcome {
  clusterName?: string | undefined;
  upstreamHost?: string | undefined;
  /** Bytes from downstream to upstream, and back. */
  received: number;
  sent: number;
  /** Envoy short response flag, or '-' */
  flag: string;
  peer?: PeerMetadata | undefined;
}

export function tcpStreamInfo(conn: DownstreamConnection, startMs: number, o: TcpOutcome): StreamInfo {
  return {
    startTime: new Date(startMs),
    startMs,
    endMs: Date.now(),
    protocol: 'TCP',
    method: '',
    path: '',
    authority: '',
    requestHeaders: {},
    responseHeaders: {},
    responseTrailers: {},
    responseCode: 0,
    responseFlags: new Set(o.flag === '-' ? [] : [o.flag]),
    ...(o.clusterName ? { clusterName: o.clusterName } : {}),
    ...(o.upstreamHost ? { upstreamHost: o.upstreamHost } : {}),
    bytesReceived: o.received,
    bytesSent: o.sent,
    downstreamRemote: `${conn.remoteAddress}:${conn.remotePort}`,
    downstreamLocal: `${conn.localAddress}:${conn.localPort}`,
    attempts: o.upstreamHost ? 1 : 0,
    ...(o.peer ? { peer: o.peer } : {}),
    tls: conn.tls,
    ...(conn.peerPrincipal ? { peerPrincipal: conn.peerPrincipal } : {}),
  };
}
