// analyze: a table of inputs and the findings they must (and must not) produce.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeSources } from './analyze.js';

const cluster = {
  name: 'cluster.yaml',
  text: readFileSync(join(import.meta.dirname, '../../testdata/analyze/cluster.yaml'), 'utf8'),
};

const dr = `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews, namespace: bookinfo }
spec:
  host: reviews
  subsets:
    - { name: v1, labels: { version: v1 } }
    - { name: v2, labels: { version: v2 } }
`;
const vs = (name: string, body: string) => `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ${name}, namespace: bookinfo }
spec:
${body}`;
const gw = (selector: string, credential: string) => `
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: public, namespace: istio-system }
spec:
  selector: { ${selector} }
  servers:
    - port: { number: 443, name: https, protocol: HTTPS }
      hosts: ["*"]
      tls: { mode: SIMPLE, credentialName: ${credential} }
`;

const cases: { name: string; yaml: string; expect: string[] }[] = [
  {
    name: 'a clean canary',
    yaml:
      dr +
      '---' +
      vs(
        'canary',
        `  hosts: [reviews]\n  http:\n    - route:\n        - { destination: { host: reviews, subset: v1 }, weight: 90 }\n        - { destination: { host: reviews, subset: v2 }, weight: 10 }\n`,
      ),
    expect: [],
  },
  {
    name: 'a subset no DestinationRule defines',
    yaml:
      dr +
      '---' +
      vs(
        'canary',
        `  hosts: [reviews]\n  http:\n    - route:\n        - { destination: { host: reviews, subset: v3 } }\n`,
      ),
    expect: ['SKN0201 Error VirtualService bookinfo/canary spec.http[0].route[0].destination.subset'],
  },
  {
    name: 'a host no service has',
    yaml: vs(
      'typo',
      `  hosts: [reviews]\n  http:\n    - route:\n        - { destination: { host: reveiws } }\n`,
    ),
    expect: ['SKN0202 Error VirtualService bookinfo/typo spec.http[0].route[0].destination.host'],
  },
  {
    name: 'two VirtualServices for one host',
    yaml:
      vs('a', `  hosts: [ratings]\n  http:\n    - route:\n        - { destination: { host: ratings } }\n`) +
      '---' +
      vs(
        'b',
        `  hosts: [ratings.bookinfo.svc.cluster.local]\n  http:\n    - route:\n        - { destination: { host: ratings } }\n`,
      ),
    expect: [
      'SKN0203 Error VirtualService bookinfo/a spec.hosts',
      'SKN0203 Error VirtualService bookinfo/b spec.hosts',
    ],
  },
  {
    name: 'a gateway that does not exist',
    yaml: vs(
      'edge',
      `  hosts: [reviews]\n  gateways: [istio-system/missing, mesh]\n  http:\n    - route:\n        - { destination: { host: reviews } }\n`,
    ),
    expect: ['SKN0204 Error VirtualService bookinfo/edge spec.gateways[0]'],
  },
  {
    name: 'a gateway selector matching no workload, and a missing credential',
    yaml: gw('istio: egressgateway', 'no-such-cert'),
    expect: [
      'SKN0205 Error Gateway istio-system/public spec.selector',
      'SKN0206 Error Gateway istio-system/public spec.servers[0].tls.credentialName',
    ],
  },
  {
    name: 'a gateway that selects a workload and has its credential',
    yaml: gw('istio: ingressgateway', 'bookinfo-cert'),
    expect: [],
  },
  {
    name: 'a schema error with its field path',
    yaml: vs(
      'bad',
      `  hosts: [reviews]\n  http:\n    - timeout: soon\n      route:\n        - { destination: { host: reviews } }\n`,
    ),
    expect: ['SKN0101 Error VirtualService bookinfo/bad spec.http[0].timeout'],
  },
  {
    name: 'unsupported kinds as warnings',
    yaml: `apiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\nmetadata: { name: f, namespace: istio-system }\nspec: { configPatches: [] }\n`,
    expect: ['SKN0301 Warning EnvoyFilter istio-system/f kind'],
  },
  {
    name: 'a Telemetry filter skeind translates, and one it cannot',
    yaml: `apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: { name: logs, namespace: bookinfo }
spec:
  accessLogging:
    - filter: { expression: 'response.code >= 400' }
    - filter: { expression: 'connection.mtls && response.code >= 400' }
`,
    expect: ['SKN0207 Warning Telemetry bookinfo/logs spec.accessLogging[1].filter.expression'],
  },
  {
    name: 'broken YAML',
    yaml: 'kind: [unclosed\n',
    expect: ['SKN0001 Error document 0 -'],
  },
];

describe('skeinctl analyze', () => {
  it.each(cases)('$name', ({ yaml, expect: want }) => {
    const got = analyzeSources([cluster, { name: 'input.yaml', text: yaml }]).map(
      (f) => `${f.code} ${f.severity} ${f.object} ${f.path ?? '-'}`,
    );
    expect(got.sort()).toEqual([...want].sort());
  });

  it('gives every finding a message and a hint', () => {
    const all = cases.flatMap((c) => analyzeSources([cluster, { name: 'x.yaml', text: c.yaml }]));
    expect(all.length).toBeGreaterThan(5);
    for (const f of all) {
      expect(f.message.length).toBeGreaterThan(5);
      expect(f.hint.length).toBeGreaterThan(5);
      expect(f.origin).toMatch(/^x\.yaml#\d+$/);
    }
  });
});
