import { describe, expect, it } from 'vitest';
import { claimMismatch } from './xds-gate.js';

const node = (ns: string, sa: string) => ({
  id: `sidecar~10.0.0.1~web-0.${ns}~${ns}.svc.cluster.local`,
  metadata: { NAMESPACE: ns, SERVICE_ACCOUNT: sa },
});

describe('claimMismatch', () => {
  it('accepts a node claiming the authenticated identity', () => {
    expect(claimMismatch(node('demo', 'web'), 'spiffe://cluster.local/ns/demo/sa/web')).toBeUndefined();
  });

  it('refuses a node claiming another service account or namespace', () => {
    expect(claimMismatch(node('demo', 'admin'), 'spiffe://cluster.local/ns/demo/sa/web')).toMatch(
      /authenticated as spiffe:\/\/cluster.local\/ns\/demo\/sa\/web claims namespace demo service account admin/,
    );
    expect(claimMismatch(node('prod', 'web'), 'spiffe://cluster.local/ns/demo/sa/web')).toMatch(/prod/);
  });

  it('refuses a malformed node id', () => {
    expect(claimMismatch({ id: 'nonsense' }, 'spiffe://cluster.local/ns/demo/sa/web')).toMatch(/node id/);
  });
});
