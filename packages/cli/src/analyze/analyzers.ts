// The semantic analyzers: each reads the world and returns findings. Pure.
import type { DestinationRule, Gateway, ServiceEntry, VirtualService } from '@skein/api-types';
import { finding, type Finding } from './finding.js';
import { untranslatedLogFilter } from './telemetry-filter.js';
import { fqdn, hostMatches, idOf, nsOf, workloadLabels, type Located, type World } from './world.js';

type Analyzer = (w: World) => Finding[];

const ofKind = <K extends string>(w: World, kind: K) =>
  w.mesh.filter((m) => m.object.kind === kind) as unknown as Located<
    Extract<VirtualService | DestinationRule | Gateway | ServiceEntry, { kind: K }>
  >[];

/** Every destination a VirtualService sends traffic to, with its field path. */
function destinations(vs: VirtualService): { host: string; subset?: string; path: string }[] {
  const out: { host: string; subset?: string; path: string }[] = [];
  vs.spec.http?.forEach((r, i) => {
    r.route?.forEach((d, j) =>
      out.push({ ...d.destination, path: `spec.http[${i}].route[${j}].destination` }),
    );
    if (r.mirror) out.push({ ...r.mirror, path: `spec.http[${i}].mirror` });
    r.mirrors?.forEach((m, j) =>
      out.push({ ...m.destination, path: `spec.http[${i}].mirrors[${j}].destination` }),
    );
  });
  vs.spec.tcp?.forEach((r, i) =>
    r.route?.forEach((d, j) =>
      out.push({ ...d.destination, path: `spec.tcp[${i}].route[${j}].destination` }),
    ),
  );
  vs.spec.tls?.forEach((r, i) =>
    r.route?.forEach((d, j) =>
      out.push({ ...d.destination, path: `spec.tls[${i}].route[${j}].destination` }),
    ),
  );
  return out;
}

function knownHosts(w: World): string[] {
  const hosts: string[] = [];
  for (const { object: o } of w.kube)
    if (o.kind === 'Service') hosts.push(`${o.metadata.name}.${nsOf(o)}.${w.domainSuffix}`);
  for (const { object: se } of ofKind(w, 'ServiceEntry')) hosts.push(...se.spec.hosts);
  return hosts;
}

const unknownSubset: Analyzer = (w) => {
  const subsets = new Map<string, Set<string>>();
  for (const { object: dr } of ofKind(w, 'DestinationRule')) {
    const host = fqdn(dr.spec.host, nsOf(dr), w.domainSuffix);
    const set = subsets.get(host) ?? new Set<string>();
    dr.spec.subsets?.forEach((s) => set.add(s.name));
    subsets.set(host, set);
  }
  const out: Finding[] = [];
  for (const { object: vs, origin } of ofKind(w, 'VirtualService')) {
    for (const d of destinations(vs)) {
      if (!d.subset) continue;
      const host = fqdn(d.host, nsOf(vs), w.domainSuffix);
      if (subsets.get(host)?.has(d.subset)) continue;
      out.push(
        finding(
          'SKN0201',
          idOf(vs),
          `subset "${d.subset}" of host ${host} is not defined by any DestinationRule`,
          `add a subset named "${d.subset}" to the DestinationRule for ${d.host}, or route without the subset`,
          { path: `${d.path}.subset`, origin },
        ),
      );
    }
  }
  return out;
};

const unknownHost: Analyzer = (w) => {
  const hosts = knownHosts(w);
  const out: Finding[] = [];
  for (const { object: vs, origin } of ofKind(w, 'VirtualService')) {
    for (const d of destinations(vs)) {
      const host = fqdn(d.host, nsOf(vs), w.domainSuffix);
      if (hosts.some((h) => hostMatches(h, host))) continue;
      out.push(
        finding(
          'SKN0202',
          idOf(vs),
          `destination host ${host} is not a known service`,
          'create the Service (or a ServiceEntry for hosts outside the mesh), or correct the host name',
          { path: `${d.path}.host`, origin },
        ),
      );
    }
  }
  return out;
};

const conflictingVirtualServices: Analyzer = (w) => {
  const claims = new Map<string, Located<VirtualService>[]>();
  for (const l of ofKind(w, 'VirtualService')) {
    const gateways = (l.object.spec.gateways ?? ['mesh']).slice().sort().join(',');
    for (const h of l.object.spec.hosts ?? []) {
      const key = `${fqdn(h, nsOf(l.object), w.domainSuffix)} via ${gateways}`;
      claims.set(key, [...(claims.get(key) ?? []), l]);
    }
  }
  const out: Finding[] = [];
  for (const [key, list] of claims) {
    if (list.length < 2) continue;
    for (const { object: vs, origin } of list) {
      const others = list.filter((o) => o.object !== vs).map((o) => idOf(o.object));
      out.push(
        finding(
          'SKN0203',
          idOf(vs),
          `host ${key.split(' via ')[0]} is also claimed by ${others.join(', ')}`,
          'merge the routes into one VirtualService per host (only one of them takes effect for sidecars)',
          { path: 'spec.hosts', origin },
        ),
      );
    }
  }
  return out;
};

const unknownGateway: Analyzer = (w) => {
  const gateways = new Set(ofKind(w, 'Gateway').map(({ object: g }) => `${nsOf(g)}/${g.metadata.name}`));
  const out: Finding[] = [];
  for (const { object: vs, origin } of ofKind(w, 'VirtualService')) {
    vs.spec.gateways?.forEach((ref, i) => {
      if (ref === 'mesh') return;
      const full = ref.includes('/') ? ref : `${nsOf(vs)}/${ref}`;
      if (gateways.has(full)) return;
      out.push(
        finding(
          'SKN0204',
          idOf(vs),
          `gateway ${full} does not exist`,
          'create the Gateway, or name it as <namespace>/<name>',
          { path: `spec.gateways[${i}]`, origin },
        ),
      );
    });
  }
  return out;
};

const gatewaySelectsNothing: Analyzer = (w) => {
  const workloads = w.kube
    .map((k) => workloadLabels(k.object))
    .filter((l): l is Record<string, string> => !!l);
  const out: Finding[] = [];
  for (const { object: g, origin } of ofKind(w, 'Gateway')) {
    const sel = g.spec.selector ?? {};
    if (Object.keys(sel).length === 0) continue;
    if (workloads.some((labels) => Object.entries(sel).every(([k, v]) => labels[k] === v))) continue;
    out.push(
      finding(
        'SKN0205',
        idOf(g),
        `selector ${Object.entries(sel)
          .map(([k, v]) => `${k}=${v}`)
          .join(',')} matches no workload`,
        'deploy a gateway workload carrying these labels, or fix the selector',
        { path: 'spec.selector', origin },
      ),
    );
  }
  return out;
};

const unknownCredential: Analyzer = (w) => {
  const secrets = new Set(
    w.kube
      .filter((k) => k.object.kind === 'Secret')
      .map((k) => `${nsOf(k.object)}/${k.object.metadata.name}`),
  );
  const out: Finding[] = [];
  const check = (
    obj: { kind: string; metadata: { name: string; namespace?: string } },
    origin: string,
    name: string | undefined,
    path: string,
  ) => {
    if (!name) return;
    const full = name.includes('/') ? name : `${nsOf(obj)}/${name}`;
    if (secrets.has(full)) return;
    out.push(
      finding(
        'SKN0206',
        idOf(obj),
        `credentialName ${name} names no Secret (looked for ${full})`,
        `create a TLS Secret named ${name} in namespace ${full.split('/')[0]}`,
        { path, origin },
      ),
    );
  };
  for (const { object: g, origin } of ofKind(w, 'Gateway'))
    g.spec.servers.forEach((s, i) =>
      check(g, origin, s.tls?.credentialName, `spec.servers[${i}].tls.credentialName`),
    );
  for (const { object: dr, origin } of ofKind(w, 'DestinationRule'))
    check(dr, origin, dr.spec.trafficPolicy?.tls?.credentialName, 'spec.trafficPolicy.tls.credentialName');
  return out;
};

/** Every semantic analyzer, in report order. */
export const analyzers: readonly Analyzer[] = [
  unknownSubset,
  unknownHost,
  conflictingVirtualServices,
  unknownGateway,
  gatewaySelectsNothing,
  unknownCredential,
  untranslatedLogFilter,
];
