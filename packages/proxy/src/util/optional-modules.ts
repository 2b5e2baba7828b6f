// Dependencies an idle proxy does not need, loaded when a configuration first asks for them:
// @skein/ca's RBAC engine and JWT verifier (RBAC and jwt_authn filters) and the OpenTelemetry SDK
// (HCM tracing). The proxy awaits `preloadFor` before it validates or applies listeners, so the
// synchronous data path finds them loaded.
import type * as Ca from '@skein/ca';

type CaModule = typeof Ca;

let ca: CaModule | undefined;
let caLoading: Promise<CaModule> | undefined;

/** Loads @skein/ca (once). */
export function loadCa(): Promise<CaModule> {
  caLoading ??= import('@skein/ca').then((m) => (ca = m));
  return caLoading;
}

/** @skein/ca, which `preloadFor` loaded for every listener that uses RBAC or JWT filters. */
export function caEngine(): CaModule {
  if (!ca) throw new Error('@skein/ca was not loaded before a listener that needs it was applied');
  return ca;
}

const CA_FILTER_TYPES = [
  'envoy.extensions.filters.http.rbac.v3.RBAC',
  'envoy.extensions.filters.network.rbac.v3.RBAC',
  'envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication',
];
const HCM_TYPE = 'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';

/** What a set of listeners (canonical JSON) needs loaded: @skein/ca, the tracing SDK. */
export function optionalModulesFor(listeners: readonly unknown[]): { ca: boolean; tracing: boolean } {
  const need = { ca: false, tracing: false };
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) {
      for (const x of v) walk(x);
      return;
    }
    if (v === null || typeof v !== 'object') return;
    const o = v as Record<string, unknown>;
    const type = o['@type'];
    if (typeof type === 'string') {
      if (CA_FILTER_TYPES.some((t) => type.endsWith(t))) need.ca = true;
      if (type.endsWith(HCM_TYPE) && o['tracing'] !== undefined) need.tracing = true;
    }
    for (const x of Object.values(o)) walk(x);
  };
  walk(listeners);
  return need;
}

/** Loads what `listeners` need before they are validated and applied. */
export async function preloadFor(
  listeners: readonly unknown[],
  tracing: { load(): Promise<void> },
): Promise<void> {
  const need = optionalModulesFor(listeners);
  await Promise.all([need.ca ? loadCa() : undefined, need.tracing ? tracing.load() : undefined]);
}
