// skeinctl kube-inject's core: every workload kind's pod template gets the sidecar, other
// documents pass through, `sidecar.istio.io/inject: "false"` is honoured, and the output is
// multi-document YAML that parses back.
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { DEFAULT_INJECTOR_CONFIG } from './injector-config.js';
import { kubeInject } from './kube-inject.js';

const config = { ...DEFAULT_INJECTOR_CONFIG, proxyImage: 'skein/proxy:test' };
const template = (extraLabels = '', indent = '    ') => `
${indent}metadata: { labels: { app: web${extraLabels} } }
${indent}spec: { containers: [{ name: web, image: web:1 }] }`;

const INPUT = `
apiVersion: v1
kind: Service
metadata: { name: web }
spec: { ports: [{ port: 80 }] }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  selector: { matchLabels: { app: web } }
  template:${template()}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: db }
spec:
  template:${template()}
---
apiVersion: batch/v1
kind: Job
metadata: { name: once }
spec:
  template:${template()}
---
apiVersion: batch/v1
kind: CronJob
metadata: { name: nightly }
spec:
  schedule: '0 0 * * *'
  jobTemplate:
    spec:
      template:${template('', '        ')}
---
apiVersion: v1
kind: Pod
metadata: { name: bare }
spec: { containers: [{ name: app, image: app:1 }] }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: opted-out }
spec:
  template:${template(", sidecar.istio.io/inject: 'false'")}
---
apiVersion: v1
kind: List
items:
  - apiVersion: apps/v1
    kind: DaemonSet
    metadata: { name: agent }
    spec:
      template:
        metadata: { labels: { app: agent } }
        spec: { containers: [{ name: a, image: a:1 }] }
`;

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('kubeInject', () => {
  const docs = parseAllDocuments(kubeInject(INPUT, config)).map((d) => d.toJS() as Obj);
  const byName = (kind: string, name: string): Obj =>
    docs.find((d) => d['kind'] === kind && d['metadata']?.['name'] === name) ?? {};
  const sidecars = (pod: Obj | undefined): string[] =>
    ((pod?.['spec']?.['initContainers'] ?? []) as { name: string }[]).map((c) => c.name);
  const workloadEnv = (pod: Obj): string | undefined =>
    (pod['spec']['initContainers'][1]['env'] as { name: string; value?: string }[]).find(
      (e) => e.name === 'ISTIO_META_WORKLOAD_NAME',
    )?.value;

  it('keeps every document, in order', () => {
    expect(docs.map((d) => d['kind'])).toEqual([
      'Service',
      'Deployment',
      'StatefulSet',
      'Job',
      'CronJob',
      'Pod',
      'Deployment',
      'List',
    ]);
    expect(byName('Service', 'web')).toEqual({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web' },
      spec: { ports: [{ port: 80 }] },
    });
  });

  it('injects the pod template of Deployments, StatefulSets, Jobs, CronJobs, Pods and List items', () => {
    for (const [kind, name] of [
      ['Deployment', 'web'],
      ['StatefulSet', 'db'],
      ['Job', 'once'],
    ] as const) {
      const pod = byName(kind, name)['spec']['template'];
      expect(sidecars(pod), `${kind} ${name}`).toEqual(['istio-init', 'istio-proxy']);
      expect(workloadEnv(pod)).toBe(name);
      expect(pod['metadata']['annotations']['sidecar.istio.io/status']).toContain('istio-proxy');
    }
    expect(sidecars(byName('CronJob', 'nightly')['spec']['jobTemplate']['spec']['template'])).toEqual([
      'istio-init',
      'istio-proxy',
    ]);
    expect(sidecars(byName('Pod', 'bare'))).toEqual(['istio-init', 'istio-proxy']);
    expect(
      sidecars((docs.find((d) => d['kind'] === 'List') ?? {})['items']?.[0]?.['spec']['template']),
    ).toEqual(['istio-init', 'istio-proxy']);
  });

  it('leaves a pod that says sidecar.istio.io/inject: "false" alone', () => {
    expect(sidecars(byName('Deployment', 'opted-out')['spec']['template'])).toEqual([]);
  });

  it('is idempotent: injecting injected YAML changes nothing', () => {
    const once = kubeInject(INPUT, config);
    expect(kubeInject(once, config)).toBe(once);
  });

  it('reports a workload without containers and invalid YAML', () => {
    expect(() => kubeInject('kind: Deployment\nmetadata: { name: x }\nspec: {}\n', config)).toThrow(
      /Deployment x: spec.template.spec.containers is missing/,
    );
    expect(() => kubeInject('kind: [', config)).toThrow(/invalid YAML/);
  });
});
