// The service view after WorkloadEntries alone changed: only the ServiceEntries whose selector
// picks an added or removed WorkloadEntry are joined again, and their services take the places
// of the ones they replace (same hostnames and conflict order, so the sorted list keeps its
// order); every other service is the previous object.
import { labelsMatch } from './hosts.js';
import type { ServiceEntry, WorkloadEntry } from './istio-types.js';
import { servicesFromServiceEntries, type Service } from './services.js';

export interface ServiceView {
  readonly services: readonly Service[];
  readonly servicesByHost: ReadonlyMap<string, readonly Service[]>;
}

/** Past this many changed WorkloadEntries a full join is as cheap. */
const MAX_CHANGED = 32;

const nsOf = (o: { readonly metadata: { readonly namespace?: string | undefined } }): string =>
  o.metadata.namespace ?? 'default';

const labelsOf = (we: WorkloadEntry): Readonly<Record<string, string>> =>
  we.spec.labels ?? we.metadata.labels ?? {};

/**
 * The view for `workloadEntries` from `previous`, built from the same `serviceEntries` and
 * `previousEntries`; undefined when a full join is needed (many changes, or services that do
 * not line up with the previous ones).
 */
export function rejoinServices(
  previous: ServiceView,
  previousMembers: ReadonlySet<WorkloadEntry>,
  serviceEntries: readonly ServiceEntry[],
  workloadEntries: readonly WorkloadEntry[],
): ServiceView | undefined {
  const changed: WorkloadEntry[] = [];
  const current = new Set(workloadEntries);
  for (const we of workloadEntries) if (!previousMembers.has(we)) changed.push(we);
  for (const we of previousMembers) if (!current.has(we)) changed.push(we);
  if (changed.length > MAX_CHANGED) return undefined;
  const affected = serviceEntries.filter((se) => {
    const selector = se.spec.workloadSelector?.labels;
    return (
      selector !== undefined &&
      changed.some((we) => nsOf(we) === nsOf(se) && labelsMatch(selector, labelsOf(we)))
    );
  });
  if (affected.length === 0) return previous;
  // The affected entries joined again, each with its namespace's WorkloadEntries (in order).
  const byOrigin = new Map<string, Map<string, Service>>();
  for (const se of affected) {
    const ns = nsOf(se);
    const fresh = servicesFromServiceEntries(
      [se],
      workloadEntries.filter((we) => nsOf(we) === ns),
    );
    const byHost = new Map<string, Service>();
    for (const s of fresh) byHost.set(s.hostname, s);
    const origin = fresh[0]?.origin;
    if (origin === undefined || byHost.size !== fresh.length || byOrigin.has(origin)) return undefined;
    byOrigin.set(origin, byHost);
  }
  let replaced = 0;
  const touchedHosts = new Set<string>();
  const services = previous.services.map((s) => {
    const next = s.registry === 'ServiceEntry' ? byOrigin.get(s.origin)?.get(s.hostname) : undefined;
    if (!next) return s;
    replaced++;
    touchedHosts.add(s.hostname);
    return next;
  });
  let expected = 0;
  for (const m of byOrigin.values()) expected += m.size;
  if (replaced !== expected) return undefined;
  const servicesByHost = new Map(previous.servicesByHost);
  for (const host of touchedHosts)
    servicesByHost.set(
      host,
      (previous.servicesByHost.get(host) ?? []).map(
        (s) => (s.registry === 'ServiceEntry' ? byOrigin.get(s.origin)?.get(s.hostname) : undefined) ?? s,
      ),
    );
  return { services, servicesByHost };
}
