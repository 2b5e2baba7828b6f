// Proxies of one class receive identical outbound configuration, so it is generated once per
// class and shared. The class is everything outbound translation reads about a proxy: generator,
// namespace, the Sidecar that applies, interception mode, and which of the snapshot's label
// selectors (VirtualService sourceLabels, DestinationRule workloadSelector, Gateway selector)
// its labels match, its locality (locality load balancing), and whether it may have credentials.
import { labelsMatch } from '../model/hosts.js';
import type { Snapshot } from '../model/snapshot.js';
import type { TranslateContext } from './context.js';
import { autoAllocates } from './address-allocation.js';
import { credentialsAllowed } from './credentials.js';

const selectorCache = new WeakMap<Snapshot, Readonly<Record<string, string>>[]>();

/** Every distinct label selector translation may test a proxy's labels against. */
export function labelSelectors(snap: Snapshot): Readonly<Record<string, string>>[] {
  let list = selectorCache.get(snap);
  if (list) return list;
  const seen = new Map<string, Readonly<Record<string, string>>>();
  const add = (sel: Readonly<Record<string, string>> | undefined): void => {
    if (sel) seen.set(JSON.stringify(Object.entries(sel).sort()), sel);
  };
  for (const vs of snap.virtualServices) {
    for (const r of vs.spec.http ?? []) for (const m of r.match ?? []) add(m.sourceLabels);
    for (const r of vs.spec.tcp ?? []) for (const m of r.match ?? []) add(m.sourceLabels);
    for (const r of vs.spec.tls ?? []) for (const m of r.match ?? []) add(m.sourceLabels);
  }
  for (const dr of snap.destinationRules) add(dr.spec.workloadSelector?.matchLabels);
  for (const gw of snap.gateways) add(gw.spec.selector);
  for (const t of snap.byKind.get('Telemetry') ?? [])
    add(
      (t.spec as { selector?: { matchLabels?: Record<string, string> } } | undefined)?.selector?.matchLabels,
    );
  const sorted = [...seen.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
  const key = sorted.map(([k]) => k).join('\n');
  // The same selectors as the last snapshot's (e.g. only a weight changed): that list itself, so
  // a proxy's class key can be kept without testing its labels again (sameClassInputs).
  list = lastSelectors?.key === key ? lastSelectors.list : sorted.map(([, s]) => s);
  lastSelectors = { key, list };
  selectorCache.set(snap, list);
  return list;
}

let lastSelectors: { key: string; list: Readonly<Record<string, string>>[] } | undefined;

/**
 * Whether `next` has the class key `prev` had without computing it: the same proxy, the same
 * Sidecar, the same label selectors (by identity: `labelSelectors` keeps the list while its content
 * stays), and credential access that does not depend on the snapshot.
 */
export function sameClassInputs(prev: TranslateContext, next: TranslateContext): boolean {
  const access = next.proxy.credentialAccess;
  return (
    prev.proxy === next.proxy &&
    prev.scope.sidecar === next.scope.sidecar &&
    (access === undefined || access === 'open') &&
    labelSelectors(prev.snapshot) === labelSelectors(next.snapshot)
  );
}

export function proxyClassKey(ctx: TranslateContext): string {
  const { proxy, scope, snapshot } = ctx;
  const bits = labelSelectors(snapshot)
    .map((sel) => (labelsMatch(sel, proxy.labels) ? '1' : '0'))
    .join('');
  const sidecar = scope.sidecar
    ? `${scope.sidecar.metadata.namespace ?? 'default'}/${scope.sidecar.metadata.name}`
    : '-';
  const { region, zone, subZone } = proxy.locality;
  return [
    proxy.generator,
    proxy.type,
    proxy.namespace,
    sidecar,
    proxy.interceptionMode,
    bits,
    region,
    zone,
    subZone,
    autoAllocates(ctx) ? 'auto-vip' : '-',
    // Proxies of one class share generated Secrets: their credential access must agree.
    proxy.credentialAccess === undefined || proxy.credentialAccess === 'open'
      ? '-'
      : credentialsAllowed(ctx)
        ? 'creds'
        : 'no-creds',
  ].join('|');
}
