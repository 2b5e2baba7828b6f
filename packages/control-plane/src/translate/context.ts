// What every generator receives: the immutable snapshot, the proxy it is generating for, that
// proxy's Sidecar scope, and the pluggable security contributions.
import type { Proxy } from '../model/proxy.js';
import { sidecarScope, type SidecarScope } from '../model/sidecar-scope.js';
import type { Snapshot } from '../model/snapshot.js';
import { noSecurity, type SecurityContributor } from './security.js';

export interface TranslateContext {
  readonly snapshot: Snapshot;
  readonly proxy: Proxy;
  readonly scope: SidecarScope;
  readonly security: SecurityContributor;
}

export function translateContext(
  snapshot: Snapshot,
  proxy: Proxy,
  security: SecurityContributor = noSecurity,
): TranslateContext {
  return { snapshot, proxy, scope: sidecarScope(snapshot, proxy), security };
}
