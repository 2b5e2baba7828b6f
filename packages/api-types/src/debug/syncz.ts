// The JSON shape of skeind's `/debug/syncz`: per connected proxy and xDS type, what was last sent
// and acknowledged, the last NACK, and how long the last ACK took. skeinctl proxy-status reads it.

export interface SynczNack {
  readonly version: string;
  readonly nonce: string;
  readonly message: string;
  /** ISO time the NACK arrived. */
  readonly at: string;
}

export interface SynczTypeStatus {
  readonly typeUrl: string;
  /** LDS, RDS, CDS, EDS, ... */
  readonly type: string;
  readonly sentVersion: string;
  readonly sentNonce: string;
  readonly ackedVersion: string;
  readonly ackedNonce: string;
  /** SYNCED when the last sent nonce was ACKed, STALE while an ACK is due, NACKED after a NACK. */
  readonly status: 'SYNCED' | 'STALE' | 'NACKED' | 'NOT_SENT';
  readonly nack?: SynczNack | undefined;
  readonly lastSentAt?: string | undefined;
  readonly lastAckedAt?: string | undefined;
  /** Milliseconds between the last push and its ACK; null while unacknowledged. */
  readonly ackLagMs: number | null;
  /** Resources in the last response (SotW) or currently held by the client (delta). */
  readonly resources: number;
}

export interface SynczProxy {
  readonly proxyId: string;
  readonly connectionId: string;
  readonly namespace: string;
  readonly clusterId: string;
  readonly istioVersion: string;
  readonly generator: 'envoy' | 'grpc';
  /** `sotw` or `delta`. */
  readonly protocol: 'sotw' | 'delta';
  readonly connectedAt: string;
  readonly types: readonly SynczTypeStatus[];
}

export interface Syncz {
  readonly controlPlaneVersion: string;
  readonly configVersion: string;
  readonly proxies: readonly SynczProxy[];
}
