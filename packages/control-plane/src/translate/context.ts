// What every generator receives: the immutable snapshot, the proxy it is generating for, that
// proxy's Sidecar scope, the pluggable security contributions, and optionally the memo of virtual
// hosts that makes route generation incremental (a cache: the output is the same without it).
import type { Proxy } from '../model/proxy.js';
import { sidecarScope, type SidecarScope } from '../model/sidecar-scope.js';
import type { Snapshot } from '../model/snapshot.js';
import { noSecurity, type SecurityContributor } from './security.js';
import type { VirtualHostMemo } from './vhost-memo.js';

export interface TranslateContext {
  readonly snapshot: Snapshot;
  readonly proxy: Proxy;
  readonly scope: SidecarScope;
  readonly security: SecurityContributor;
  /** Virtual hosts already generated, by what determines them (see vhost-memo). */
  readonly virtualHosts?: VirtualHostMemo | undefined;
}

export function translateContext(
  snapshot: Snapshot,
  proxy: Proxy,
  security: SecurityContributor = noSecurity,
  virtualHosts?: VirtualHostMemo,
): TranslateContext {
  return { snapshot, proxy, scope: sidecarScope(snapshot, proxy), security, virtualHosts };
}
