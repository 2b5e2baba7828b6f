// TCP connections are access-logged like requests (Istio logs tcp_proxy traffic with the same
// Telemetry and mesh settings): every tcp_proxy filter of a proxy's listeners gets the access logs
// its direction's Telemetry plan names. Applied after the listeners are built, so the listener
// generators stay unaware of logging.
import type { listenerV3 } from '@skein/api-types';
import type { TranslateContext } from './context.js';
import { FilterName } from './envoy.js';
import { fileLogs } from './hcm.js';
import { telemetryPlan } from './telemetry.js';

type ListenerJson = listenerV3.ListenerJson;

export function withTcpAccessLogs(
  listeners: ListenerJson[],
  ctx: TranslateContext,
  mode: 'CLIENT' | 'SERVER',
): ListenerJson[] {
  const sinks = telemetryPlan(ctx, mode).accessLog?.sinks ?? [];
  if (sinks.length === 0) return listeners;
  const accessLog = fileLogs(sinks, ctx.snapshot.mesh);
  const withLogs = (f: NonNullable<ListenerJson['filterChains']>[number]) => ({
    ...f,
    filters: (f.filters ?? []).map((n) =>
      n.name === FilterName.tcpProxy ? { ...n, typedConfig: { ...n.typedConfig, accessLog } } : n,
    ),
  });
  return listeners.map((l) => ({
    ...l,
    ...(l.filterChains ? { filterChains: l.filterChains.map(withLogs) } : {}),
    ...(l.defaultFilterChain ? { defaultFilterChain: withLogs(l.defaultFilterChain) } : {}),
  }));
}
