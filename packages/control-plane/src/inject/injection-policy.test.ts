// Istio's injection decision as a table: any "disabled" wins, then any "enabled" injects, then
// the policy; host-network, ignored namespaces and injected pods never.
import { describe, expect, it } from 'vitest';
import { DEFAULT_INJECTOR_CONFIG } from './injector-config.js';
import { injectionDecision, type NamespaceInfo } from './injection-policy.js';
import type { Pod } from './pod-types.js';

const pod = (
  labels: Record<string, string> = {},
  annotations: Record<string, string> = {},
  extra = {},
): Pod => ({
  metadata: { name: 'p', labels, annotations },
  spec: { containers: [{ name: 'app' }], ...extra },
});
const ns = (labels: Record<string, string> = {}, name = 'apps'): NamespaceInfo => ({ name, labels });
const C = DEFAULT_INJECTOR_CONFIG;
const I = 'sidecar.istio.io/inject';

describe('injectionDecision', () => {
  const table: [string, Pod, NamespaceInfo | undefined, typeof C, boolean][] = [
    ['namespace enabled', pod(), ns({ 'istio-injection': 'enabled' }), C, true],
    [
      'namespace enabled, pod label false',
      pod({ [I]: 'false' }),
      ns({ 'istio-injection': 'enabled' }),
      C,
      false,
    ],
    [
      'namespace enabled, pod annotation false',
      pod({}, { [I]: 'false' }),
      ns({ 'istio-injection': 'enabled' }),
      C,
      false,
    ],
    ['pod label wins over the annotation', pod({ [I]: 'true' }, { [I]: 'false' }), ns(), C, true],
    [
      'namespace disabled wins over pod true',
      pod({ [I]: 'true' }),
      ns({ 'istio-injection': 'disabled' }),
      C,
      false,
    ],
    ['pod true in a plain namespace', pod({ [I]: 'true' }), ns(), C, true],
    [
      'pod "yes" counts as true under a disabled policy',
      pod({}, { [I]: 'yes' }),
      ns(),
      { ...C, policy: 'disabled' },
      true,
    ],
    [
      'policy disabled, namespace enabled',
      pod(),
      ns({ 'istio-injection': 'enabled' }),
      { ...C, policy: 'disabled' },
      false,
    ],
    ['istio.io/rev of this revision', pod(), ns({ 'istio.io/rev': 'default' }), C, true],
    ['istio.io/rev of another revision', pod(), ns({ 'istio.io/rev': 'canary' }), C, false],
    ['host network', pod({ [I]: 'true' }, {}, { hostNetwork: true }), ns(), C, false],
    ['kube-system', pod({ [I]: 'true' }), ns({}, 'kube-system'), C, false],
    ['already injected (status)', pod({}, { 'sidecar.istio.io/status': '{}' }), ns(), C, false],
    ['kube-inject, no namespace, policy enabled', pod(), undefined, C, true],
    ['kube-inject, pod false', pod({ [I]: 'false' }), undefined, C, false],
    [
      'neverInjectSelector matches',
      pod({ app: 'db' }),
      ns(),
      { ...C, neverInjectSelector: [{ matchLabels: { app: 'db' } }] },
      false,
    ],
    [
      'pod true beats neverInjectSelector',
      pod({ app: 'db', [I]: 'true' }),
      ns(),
      { ...C, neverInjectSelector: [{ matchLabels: { app: 'db' } }] },
      true,
    ],
    [
      'alwaysInjectSelector under a disabled policy',
      pod({ tier: 'web' }),
      ns(),
      {
        ...C,
        policy: 'disabled',
        alwaysInjectSelector: [{ matchExpressions: [{ key: 'tier', operator: 'In', values: ['web'] }] }],
      },
      true,
    ],
    [
      'never wins over always',
      pod({ app: 'db' }),
      ns(),
      {
        ...C,
        neverInjectSelector: [{ matchLabels: { app: 'db' } }],
        alwaysInjectSelector: [{ matchLabels: { app: 'db' } }],
      },
      false,
    ],
  ];
  for (const [name, p, n, config, want] of table)
    it(name, () => expect(injectionDecision(p, n, config).inject).toBe(want));

  it('says why not', () => {
    expect(injectionDecision(pod({ [I]: 'false' }), ns(), C)).toEqual({
      inject: false,
      reason: 'pod sidecar.istio.io/inject=false',
    });
  });

  it('sees an already injected pod by its istio-proxy container', () => {
    const p: Pod = { spec: { containers: [{ name: 'app' }], initContainers: [{ name: 'istio-proxy' }] } };
    expect(injectionDecision(p, ns({ 'istio-injection': 'enabled' }), C).inject).toBe(false);
  });
});
