// AuthorizationPolicy allow/deny tables: Istio YAML (validated by api-types) translated to RBAC
// and evaluated for requests and connections.
import {
  encodeJson,
  parseYamlDocuments,
  validateMeshObject,
  type AuthorizationPolicy,
} from '@skein/api-types';
import { describe, expect, it } from 'vitest';
import { translateAuthorizationPolicies, type RbacRulesJson } from './authorization-policy.js';
import { evaluateRbacChain, type RbacRequest } from './rbac-engine.js';

function policies(yaml: string): AuthorizationPolicy[] {
  return parseYamlDocuments(yaml).map((d) => {
    const r = validateMeshObject(d.value);
    if (!r.ok) throw new Error(JSON.stringify(r.problems));
    return r.object as AuthorizationPolicy;
  });
}

const TD = 'cluster.local';
const sa = (ns: string, name: string) => `spiffe://${TD}/ns/${ns}/sa/${name}`;
const http = (
  method: string,
  path: string,
  from: string | undefined,
  extra: Partial<RbacRequest> = {},
): RbacRequest => ({
  headers: {
    ':method': method,
    ':path': path,
    ':authority': 'web.shop.svc.cluster.local:8080',
    ...(extra.headers ?? {}),
  },
  ...(from ? { principal: from } : {}),
  directRemoteIp: '10.1.2.3',
  destinationPort: 8080,
  ...Object.fromEntries(Object.entries(extra).filter(([k]) => k !== 'headers')),
});

function chain(
  yaml: string,
  mode: 'http' | 'tcp' = 'http',
  workload = { namespace: 'shop', labels: { app: 'web' } },
) {
  const t = translateAuthorizationPolicies(policies(yaml), { trustDomain: TD, workload });
  const filters = mode === 'http' ? t.httpFilters : t.networkFilters;
  return { rules: filters.map((f) => f.typedConfig.rules as RbacRulesJson), t };
}

const POLICY = `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: web-allow, namespace: shop }
spec:
  selector: { matchLabels: { app: web } }
  action: ALLOW
  rules:
  - from:
    - source: { principals: ["cluster.local/ns/shop/sa/frontend"] }
    to:
    - operation: { methods: ["GET", "HEAD"], paths: ["/api/*", "/healthz"] }
  - from:
    - source: { namespaces: ["ops"] }
    to:
    - operation: { ports: ["8080"] }
    when:
    - key: request.headers[x-ops-token]
      values: ["letmein"]
  - from:
    - source: { ipBlocks: ["192.168.0.0/16"], notIpBlocks: ["192.168.9.0/24"] }
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: deny-admin, namespace: istio-system }
spec:
  action: DENY
  rules:
  - to:
    - operation: { paths: ["/api/admin*"] }
    when:
    - key: source.namespace
      notValues: ["ops"]
`;

describe('AuthorizationPolicy → RBAC', () => {
  const { rules } = chain(POLICY);
  const table: [string, RbacRequest, boolean][] = [
    ['frontend GET /api/items', http('GET', '/api/items?x=1', sa('shop', 'frontend')), true],
    ['frontend HEAD /healthz', http('HEAD', '/healthz', sa('shop', 'frontend')), true],
    ['frontend POST /api/items (method)', http('POST', '/api/items', sa('shop', 'frontend')), false],
    ['frontend GET /other (path)', http('GET', '/other', sa('shop', 'frontend')), false],
    ['other sa GET /api/items (principal)', http('GET', '/api/items', sa('shop', 'other')), false],
    ['plaintext GET /api/items (no principal)', http('GET', '/api/items', undefined), false],
    ['frontend GET /api/admin (mesh DENY)', http('GET', '/api/admin/users', sa('shop', 'frontend')), false],
    ['ops with token', http('POST', '/x', sa('ops', 'bot'), { headers: { 'x-ops-token': 'letmein' } }), true],
    [
      'ops with token to /api/admin (DENY exempts ops)',
      http('GET', '/api/admin', sa('ops', 'bot'), { headers: { 'x-ops-token': 'letmein' } }),
      true,
    ],
    ['ops without token', http('POST', '/x', sa('ops', 'bot')), false],
    [
      'ops on another port',
      http('POST', '/x', sa('ops', 'bot'), { destinationPort: 9090, headers: { 'x-ops-token': 'letmein' } }),
      false,
    ],
    ['from 192.168.1.1', http('GET', '/anything', undefined, { directRemoteIp: '192.168.1.1' }), true],
    [
      'from 192.168.9.9 (notIpBlocks)',
      http('GET', '/anything', undefined, { directRemoteIp: '192.168.9.9' }),
      false,
    ],
  ];
  for (const [name, req, allowed] of table) {
    it(`${allowed ? 'allows' : 'denies'} ${name}`, () => {
      expect(evaluateRbacChain(rules, req).allowed).toBe(allowed);
    });
  }

  it('orders DENY before ALLOW and names policies after Istio', () => {
    expect(rules.map((r) => r.action)).toEqual(['DENY', 'ALLOW']);
    expect(Object.keys(rules[1]!.policies)).toEqual([
      'ns[shop]-policy[web-allow]-rule[0]',
      'ns[shop]-policy[web-allow]-rule[1]',
      'ns[shop]-policy[web-allow]-rule[2]',
    ]);
  });

  it('for TCP drops ALLOW rules that need HTTP and keeps DENY rules without their HTTP parts', () => {
    const { rules: tcp } = chain(POLICY, 'tcp');
    // Rule 0 (methods/paths) and rule 1 (header condition) cannot match a connection; rule 2 can.
    expect(Object.keys(tcp[1]!.policies)).toEqual(['ns[shop]-policy[web-allow]-rule[2]']);
    const conn = (principal: string | undefined, ip: string): RbacRequest => ({
      ...(principal ? { principal } : {}),
      directRemoteIp: ip,
      destinationPort: 8080,
    });
    expect(evaluateRbacChain(tcp, conn(undefined, '192.168.1.1')).allowed).toBe(false); // DENY without path: all non-ops
    expect(evaluateRbacChain(tcp, conn(sa('ops', 'x'), '192.168.1.1')).allowed).toBe(true);
    expect(evaluateRbacChain(tcp, conn(sa('ops', 'x'), '10.0.0.1')).allowed).toBe(false);
  });

  it('treats allow-nothing, allow-all and deny-nothing as Istio does', () => {
    const base = (name: string, spec: string) => `apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: ${name}, namespace: shop }
spec: ${spec}
`;
    const req = http('GET', '/', sa('shop', 'a'));
    expect(evaluateRbacChain(chain(base('nothing', '{}')).rules, req).allowed).toBe(false);
    expect(evaluateRbacChain(chain(base('all', '{ rules: [ {} ] }')).rules, req).allowed).toBe(true);
    expect(evaluateRbacChain(chain(base('deny', '{ action: DENY }')).rules, req).allowed).toBe(true);
    expect(evaluateRbacChain(chain('').rules, req).allowed).toBe(true);
  });

  it('logs AUDIT without deciding, and reports CUSTOM as unsupported', () => {
    const { rules: r, t } = chain(`apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: audit, namespace: shop }
spec: { action: AUDIT, rules: [ { to: [ { operation: { methods: [GET] } } ] } ] }
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: ext, namespace: shop }
spec: { action: CUSTOM, provider: { name: opa }, rules: [ {} ] }
`);
    expect(r.map((x) => x.action)).toEqual(['LOG']);
    expect(evaluateRbacChain(r, http('GET', '/', undefined)).allowed).toBe(true);
    expect(t.problems).toEqual([
      expect.objectContaining({
        object: 'AuthorizationPolicy shop/ext',
        path: 'spec.action',
        severity: 'warning',
      }),
    ]);
  });

  it('matches hosts case-insensitively with or without port, and JWT principals from metadata', () => {
    const { rules: r } = chain(`apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: jwt, namespace: shop }
spec:
  rules:
  - from: [ { source: { requestPrincipals: ["https://issuer.example/*"] } } ]
    to: [ { operation: { hosts: ["Web.Shop.svc.cluster.local"] } } ]
    when:
    - key: request.auth.claims[groups]
      values: ["admins"]
`);
    const authn = (groups: string[]) => ({
      istio_authn: {
        'request.auth.principal': 'https://issuer.example/alice',
        'request.auth.claims.groups': groups,
      },
    });
    expect(evaluateRbacChain(r, http('GET', '/', undefined, { metadata: authn(['admins']) })).allowed).toBe(
      true,
    );
    expect(evaluateRbacChain(r, http('GET', '/', undefined, { metadata: authn(['users']) })).allowed).toBe(
      false,
    );
    expect(evaluateRbacChain(r, http('GET', '/', undefined)).allowed).toBe(false);
    const other = http('GET', '/', undefined, {
      metadata: authn(['admins']),
      headers: { ':authority': 'evil.com' },
    });
    expect(evaluateRbacChain(r, other).allowed).toBe(false);
  });

  it('produces RBAC filters that are valid Envoy messages', () => {
    const t = translateAuthorizationPolicies(policies(POLICY), { trustDomain: TD });
    for (const f of [...t.httpFilters, ...t.networkFilters]) {
      const { '@type': type, ...body } = f.typedConfig;
      expect(() => encodeJson(type, body)).not.toThrow();
    }
  });
});
