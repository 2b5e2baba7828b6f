// SKN0207: a Telemetry access-log filter expression outside the CEL subset skeind translates into
// Envoy access-log filters. Such an entry logs every request (nothing lost, but more than asked).
import { accessLogFilterOf } from '@skein/control-plane';
import { finding, type Finding } from './finding.js';
import { idOf, type World } from './world.js';

interface TelemetryLike {
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: { accessLogging?: { filter?: { expression?: string } }[] };
}

export function untranslatedLogFilter(w: World): Finding[] {
  const out: Finding[] = [];
  for (const { object, origin } of w.mesh) {
    if (object.kind !== 'Telemetry') continue;
    const t = object as unknown as TelemetryLike;
    t.spec?.accessLogging?.forEach((e, i) => {
      const expr = e.filter?.expression;
      if (!expr) return;
      const r = accessLogFilterOf(expr);
      if (!('error' in r)) return;
      out.push(
        finding(
          'SKN0207',
          idOf(t),
          `access-log filter "${expr}" cannot be translated (${r.error}); every request is logged`,
          'use response.code, response.duration, response.grpc_status, request headers/method/path/host, has(), &&, ||',
          { path: `spec.accessLogging[${i}].filter.expression`, origin },
        ),
      );
    });
  }
  return out;
}
