// What every generator receives: the immutable snapshot, the proxy it is generating for, that
// proxy's Sidecar scope, the pluggable security contributions, and optionally the memos (virtual
// hosts, load assignments) that make translation incremental (a cache: the output is the same without it).
import type { Proxy } from '../model/proxy.js';
import { sidecarScope, type SidecarScope } from '../model/sidecar-scope.js';
import type { Snapshot } from '../model/snapshot.js';
import { noSecurity, type SecurityContributor } from './security.js';
import type { EndpointsMemo } from './endpoints-memo.js';
import type { VirtualHostMemo } from './vhost-memo.js';

export interface TranslateContext {
  readonly snapshot: Snapshot;
  readonly proxy: Proxy;
  readonly scope: SidecarScope;
  readonly security: SecurityContributor;
  /** Virtual hosts already generated, by what determines them (see vhost-memo). */
  readonly virtualHosts?: VirtualHostMemo | undefined;
  /** Load assignments already generated, by what determines them (see endpoints-memo). */
  readonly endpoints?: EndpointsMemo | undefined;
}

/** The memos that make translation incremental, kept by the server across snapshots. */
export interface TranslateMemos {
  readonly virtualHosts: VirtualHostMemo;
  readonly endpoints: EndpointsMemo;
}

export function translateContext(
  snapshot: Snapshot,
  proxy: Proxy,
  security: SecurityContributor = noSecurity,
  memos?: TranslateMemos,
): TranslateContext {
  return {
    snapshot,
    proxy,
    scope: sidecarScope(snapshot, proxy),
    security,
    virtualHosts: memos?.virtualHosts,
    endpoints: memos?.endpoints,
  };
}
