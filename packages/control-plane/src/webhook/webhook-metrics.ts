// The webhooks' Prometheus counters, named as istiod's: sidecar_injection_* for /inject and
// galley_validation_* for /validate, registered in skeind's registry (served on /metrics).
import { Counter, type Registry } from 'prom-client';

export type AdmissionOutcome =
  | { webhook: 'inject'; outcome: 'injected' | 'skipped' | 'failed' | 'bad-request' }
  | {
      webhook: 'validate';
      outcome: 'allowed' | 'denied' | 'bad-request';
      group?: string | undefined;
      version?: string | undefined;
      resource?: string | undefined;
    };

export function webhookMetrics(registry: Registry): (o: AdmissionOutcome) => void {
  const registers = [registry];
  const requests = new Counter({
    name: 'sidecar_injection_requests_total',
    help: 'Sidecar injection requests',
    registers,
  });
  const success = new Counter({ name: 'sidecar_injection_success_total', help: 'Pods injected', registers });
  const skip = new Counter({
    name: 'sidecar_injection_skip_total',
    help: 'Pods not injected (policy, labels, annotations)',
    registers,
  });
  const failure = new Counter({
    name: 'sidecar_injection_failure_total',
    help: 'Injection requests refused or unreadable',
    labelNames: ['type'],
    registers,
  });
  const passed = new Counter({
    name: 'galley_validation_passed',
    help: 'Mesh objects the validation webhook allowed',
    labelNames: ['group', 'version', 'resource'],
    registers,
  });
  const failed = new Counter({
    name: 'galley_validation_failed',
    help: 'Mesh objects the validation webhook refused',
    labelNames: ['group', 'version', 'resource', 'reason'],
    registers,
  });
  return (o) => {
    if (o.webhook === 'inject') {
      requests.inc();
      if (o.outcome === 'injected') success.inc();
      else if (o.outcome === 'skipped') skip.inc();
      else failure.inc({ type: o.outcome === 'failed' ? 'inject' : 'load' });
      return;
    }
    const labels = { group: o.group ?? '', version: o.version ?? '', resource: o.resource ?? '' };
    if (o.outcome === 'allowed') passed.inc(labels);
    else failed.inc({ ...labels, reason: o.outcome === 'denied' ? 'invalid_config' : 'invalid_request' });
  };
}
