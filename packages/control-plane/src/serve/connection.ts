// The state of one ADS stream: the proxy behind it and, per xDS type, its subscription and the
// send / ACK / NACK bookkeeping that the nonce and version rules need (and /debug/syncz shows).
import type { Proxy } from '../model/proxy.js';
import type { EncodedResource } from './resource-encoder.js';
import type { Subscription } from './subscriptions.js';
import type { SynczNack, SynczProxy, SynczTypeStatus } from './syncz.js';
import { typeShortName, type XdsTypeUrl } from '@skein/api-types';

export interface TypeState {
  /** Explicitly subscribed names (empty + wildcard = everything). */
  names: Set<string>;
  /** `names` sorted and joined; reset to undefined whenever `names` changes. */
  sortedNames?: readonly string[] | undefined;
  /** SotW: the shared subscription `names` belongs to. */
  sub?: Subscription | undefined;
  namesKey?: string | undefined;
  wildcard: boolean;
  sentVersion: string;
  sentNonce: string;
  /** SotW: the sequence number behind `sentNonce` (nonces only increase on a stream). */
  sentSeq?: number | undefined;
  ackedVersion: string;
  ackedNonce: string;
  nack: SynczNack | undefined;
  sentAt: number | undefined;
  ackedAt: number | undefined;
  ackLagMs: number | null;
  /** When the change that caused the unacknowledged push happened (for convergence time). */
  changeAt: number | undefined;
  resources: number;
  /** SotW: the full resource list last sent, and the one the client last ACKed. */
  sentList?: readonly EncodedResource[] | undefined;
  ackedList?: readonly EncodedResource[] | undefined;
  /**
   * Delta: name → version the client holds, while it is not simply `heldList` (before the first
   * send, with `initial_resource_versions`, or after an unsubscribe); read it through `heldMap`.
   */
  held: Map<string, string>;
  /** Delta: the resource list the client was last sent in full (then `held` is empty). */
  heldList?: readonly EncodedResource[] | undefined;
  /** VHDS: resource name → the on-demand names it answers (sent as the resource's aliases). */
  aliases?: Map<string, string[]> | undefined;
  /** VHDS: on-demand names already answered on this stream. */
  answered?: Set<string> | undefined;
  /**
   * The list last generated for this stream (its own resources merged into its class's shared
   * list) and its version: while neither part changed, the next push reuses it as it is.
   */
  merged?: MergedList | undefined;
}

export interface MergedList {
  readonly shared: readonly EncodedResource[];
  readonly own: readonly EncodedResource[];
  readonly resources: EncodedResource[];
  readonly version: string;
}

export function newTypeState(): TypeState {
  return {
    names: new Set(),
    wildcard: false,
    sentVersion: '',
    sentNonce: '',
    ackedVersion: '',
    ackedNonce: '',
    nack: undefined,
    sentAt: undefined,
    ackedAt: undefined,
    ackLagMs: null,
    changeAt: undefined,
    resources: 0,
    held: new Map(),
  };
}

/** Delta: what the client holds as a name → version map (materialized from `heldList`). */
export function heldMap(s: TypeState): Map<string, string> {
  if (s.heldList) {
    s.held = new Map(s.heldList.map((r) => [r.name, r.version]));
    s.heldList = undefined;
  }
  return s.held;
}

export class Connection {
  readonly types = new Map<string, TypeState>();
  private nonces = 0;

  constructor(
    readonly id: string,
    readonly proxy: Proxy,
    readonly protocol: 'sotw' | 'delta',
    readonly connectedAt: number,
  ) {}

  state(typeUrl: string): TypeState {
    let s = this.types.get(typeUrl);
    if (!s) {
      s = newTypeState();
      this.types.set(typeUrl, s);
    }
    return s;
  }

  nextNonce(): string {
    return `${this.id}-${++this.nonces}`;
  }

  syncz(): SynczProxy {
    const iso = (t: number | undefined) => (t === undefined ? undefined : new Date(t).toISOString());
    const types: SynczTypeStatus[] = [...this.types.entries()]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([typeUrl, s]) => ({
        typeUrl,
        type: typeShortName[typeUrl as XdsTypeUrl] ?? typeUrl,
        sentVersion: s.sentVersion,
        sentNonce: s.sentNonce,
        ackedVersion: s.ackedVersion,
        ackedNonce: s.ackedNonce,
        status: !s.sentNonce
          ? 'NOT_SENT'
          : s.nack && s.nack.nonce === s.sentNonce
            ? 'NACKED'
            : s.ackedNonce === s.sentNonce
              ? 'SYNCED'
              : 'STALE',
        nack: s.nack,
        lastSentAt: iso(s.sentAt),
        lastAckedAt: iso(s.ackedAt),
        ackLagMs: s.ackLagMs,
        resources: this.protocol === 'delta' ? (s.heldList?.length ?? s.held.size) : s.resources,
      }));
    return {
      proxyId: this.proxy.id,
      connectionId: this.id,
      namespace: this.proxy.namespace,
      clusterId: this.proxy.clusterId,
      istioVersion: this.proxy.istioVersion,
      generator: this.proxy.generator,
      protocol: this.protocol,
      connectedAt: new Date(this.connectedAt).toISOString(),
      types,
    };
  }
}
