// PeerAuthentication resolution: the mTLS mode a workload accepts on each port. Workload policy
// (selector) > namespace policy > mesh policy (root namespace) > PERMISSIVE; UNSET inherits; port-level
// settings (selector policies only) override the workload's mode for that port.
import type { PeerAuthentication } from '@skein/api-types';
import { oldestFirst, type WorkloadView } from './workload-view.js';

export type MtlsMode = 'STRICT' | 'PERMISSIVE' | 'DISABLE';

export interface InboundMtls {
  /** Mode for ports without a port-level setting. */
  mode: MtlsMode;
  /** Port number → mode, where it differs from `mode`. */
  ports: Record<number, MtlsMode>;
}

const set = (m: string | undefined): MtlsMode | undefined =>
  m === 'STRICT' || m === 'PERMISSIVE' || m === 'DISABLE' ? m : undefined;

export function resolveInboundMtls(
  policies: PeerAuthentication[],
  workload: WorkloadView,
  rootNamespace = 'istio-system',
): InboundMtls {
  const nsOf = (p: PeerAuthentication) => p.metadata.namespace ?? 'default';
  const hasSelector = (p: PeerAuthentication) => Object.keys(p.spec.selector?.matchLabels ?? {}).length > 0;
  const sorted = [...policies].sort(oldestFirst);
  const mesh = sorted.find((p) => nsOf(p) === rootNamespace && !hasSelector(p));
  const namespace = sorted.find((p) => nsOf(p) === workload.namespace && !hasSelector(p));
  const matching = sorted.filter(
    (p) =>
      nsOf(p) === workload.namespace &&
      hasSelector(p) &&
      Object.entries(p.spec.selector?.matchLabels ?? {}).every(([k, v]) => workload.labels[k] === v),
  );
  const selected = matching[0];
  let mode: MtlsMode = 'PERMISSIVE';
  for (const p of [mesh, namespace, selected]) mode = set(p?.spec.mtls?.mode) ?? mode;
  const ports: Record<number, MtlsMode> = {};
  for (const [port, m] of Object.entries(selected?.spec.portLevelMtls ?? {})) {
    const pm = set(m.mode);
    if (pm && pm !== mode) ports[Number(port)] = pm;
  }
  return { mode, ports };
}

export function modeForPort(m: InboundMtls, port: number): MtlsMode {
  return m.ports[port] ?? m.mode;
}
