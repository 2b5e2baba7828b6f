// Istio's injection decision from namespace and pod labels.
import { describe, expect, it } from 'vitest';
import { injectionEnabled } from './namespaces.js';

describe('injectionEnabled', () => {
  it('any "disabled" wins, then any "enabled" injects', () => {
    expect(injectionEnabled({ 'istio-injection': 'enabled' }, {})).toBe(true);
    expect(injectionEnabled({ 'istio.io/rev': 'canary' }, {})).toBe(true);
    expect(injectionEnabled({}, { labels: { 'sidecar.istio.io/inject': 'true' } })).toBe(true);
    expect(injectionEnabled({}, {})).toBe(false);
    expect(injectionEnabled(undefined, {})).toBe(false);
    expect(
      injectionEnabled(
        { 'istio-injection': 'enabled' },
        { annotations: { 'sidecar.istio.io/inject': 'false' } },
      ),
    ).toBe(false);
    expect(
      injectionEnabled({ 'istio-injection': 'disabled' }, { labels: { 'sidecar.istio.io/inject': 'true' } }),
    ).toBe(false);
  });
});
