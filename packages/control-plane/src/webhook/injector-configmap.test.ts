// Istio's injector ConfigMap `config` text: policy and selectors read, templates reported as
// ignored, malformed values reported without taking effect.
import { describe, expect, it } from 'vitest';
import { injectorSettingsFrom } from './injector-configmap.js';

describe('injectorSettingsFrom', () => {
  it('reads policy, neverInjectSelector and alwaysInjectSelector', () => {
    const r = injectorSettingsFrom(`
policy: disabled
neverInjectSelector:
  - matchExpressions: [{ key: openshift.io/build.name, operator: Exists }]
alwaysInjectSelector:
  - matchLabels: { mesh: 'yes' }
`);
    expect(r).toEqual({
      settings: {
        policy: 'disabled',
        neverInjectSelector: [{ matchExpressions: [{ key: 'openshift.io/build.name', operator: 'Exists' }] }],
        alwaysInjectSelector: [{ matchLabels: { mesh: 'yes' } }],
      },
      problems: [],
    });
  });

  it('reports what it ignores or cannot read', () => {
    const r = injectorSettingsFrom(
      'policy: sometimes\nneverInjectSelector: app=db\ntemplates: { sidecar: x }\n',
    );
    expect(r.settings).toEqual({});
    expect(r.problems).toEqual([
      'policy: want enabled or disabled, got "sometimes"',
      'neverInjectSelector: want a list of label selectors',
      'templates: ignored (Skein injects its own sidecar template)',
    ]);
    expect(injectorSettingsFrom('[1').problems[0]).toMatch(/^config: /);
    expect(injectorSettingsFrom(undefined)).toEqual({ settings: {}, problems: [] });
  });
});
