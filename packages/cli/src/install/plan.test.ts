import { describe, expect, it } from 'vitest';
import { groupManifests, loadManifests, parseManifest } from './manifests.js';
import { knownKind, resourcePath } from './objects.js';
import {
  customize,
  imagesOf,
  keepLiveFields,
  MANAGED_BY,
  RESTARTED_AT,
  skeindDeployment,
  uninstallPlan,
} from './plan.js';
import type { KubeObject } from './objects.js';

const repo = loadManifests();

describe('the repository manifests', () => {
  it('hold 12 CRDs, the control plane with its namespace first, and two webhook configurations', () => {
    expect(repo.crds).toHaveLength(12);
    expect(repo.controlPlane[0]).toMatchObject({ kind: 'Namespace', metadata: { name: 'skein-system' } });
    expect(repo.webhooks.map((w) => w.kind)).toEqual([
      'MutatingWebhookConfiguration',
      'ValidatingWebhookConfiguration',
    ]);
  });

  it('use only kinds install knows where to send (a new kind in manifests/ fails here)', () => {
    for (const o of [...repo.crds, ...repo.controlPlane, ...repo.webhooks])
      expect(knownKind(o.apiVersion, o.kind), `${o.apiVersion} ${o.kind}`).toBe(true);
  });
});

describe('customize', () => {
  it("sets skeind's image and its --proxy-image= argument on the parsed objects, leaving the input untouched", () => {
    const before = imagesOf(skeindDeployment(repo));
    const m = customize(repo, { skeindImage: 'r/skeind:9', proxyImage: 'r/proxy:9' });
    expect(imagesOf(skeindDeployment(m))).toEqual({ skeind: 'r/skeind:9', proxy: 'r/proxy:9' });
    expect(imagesOf(skeindDeployment(repo))).toEqual(before);
    const args = (skeindDeployment(m)['spec'] as { template: { spec: { containers: { args: string[] }[] } } })
      .template.spec.containers[0]?.args;
    expect(args?.filter((a) => a.startsWith('--proxy-image='))).toEqual(['--proxy-image=r/proxy:9']);
  });

  it('labels every object managed-by skeinctl and sets the restart annotation only when asked', () => {
    const m = customize(repo, {});
    for (const o of [...m.crds, ...m.controlPlane, ...m.webhooks])
      expect(o.metadata.labels?.[MANAGED_BY]).toBe('skeinctl');
    const annotations = (d: KubeObject): Record<string, string> | undefined =>
      (d['spec'] as { template: { metadata: { annotations?: Record<string, string> } } }).template.metadata
        .annotations;
    expect(annotations(skeindDeployment(m))?.[RESTARTED_AT]).toBeUndefined();
    const r = customize(repo, { restartedAt: '2026-11-26T07:00:00Z' });
    expect(annotations(skeindDeployment(r))?.[RESTARTED_AT]).toBe('2026-11-26T07:00:00Z');
  });

  it('names what is missing when the manifests changed shape', () => {
    const noSkeind = groupManifests(repo.controlPlane.filter((o) => o.kind !== 'Deployment'));
    expect(() => customize(noSkeind, { skeindImage: 'x' })).toThrow('no Deployment skein-system/skeind');
    const renamed = structuredClone(repo);
    const c = (
      skeindDeployment(renamed)['spec'] as { template: { spec: { containers: { name: string }[] } } }
    ).template.spec.containers[0];
    if (c) c.name = 'other';
    expect(() => customize(renamed, {})).toThrow('has no container named skeind');
  });
});

describe('keepLiveFields', () => {
  const validator = repo.webhooks.find((w) => w.kind === 'ValidatingWebhookConfiguration') as KubeObject;
  const policy = (o: KubeObject): unknown =>
    (o['webhooks'] as { failurePolicy?: string }[])[0]?.failurePolicy;

  it("leaves the validator's failurePolicy out of the apply once skeind switched it to Fail", () => {
    expect(policy(validator)).toBe('Ignore');
    const live = structuredClone(validator);
    (live['webhooks'] as { failurePolicy: string }[])[0]!.failurePolicy = 'Fail';
    expect(policy(keepLiveFields(validator, live))).toBeUndefined();
    expect(policy(keepLiveFields(validator, validator))).toBe('Ignore');
    expect(policy(keepLiveFields(validator, undefined))).toBe('Ignore');
  });

  it("keeps a live restart annotation on skeind's pod template unless this install sets one", () => {
    const live = skeindDeployment(customize(repo, { restartedAt: 'then' }));
    const kept = keepLiveFields(skeindDeployment(repo), live);
    expect(JSON.stringify(kept)).toContain('"kubectl.kubernetes.io/restartedAt":"then"');
    const fresh = keepLiveFields(skeindDeployment(customize(repo, { restartedAt: 'now' })), live);
    expect(JSON.stringify(fresh)).toContain('"kubectl.kubernetes.io/restartedAt":"now"');
  });
});

describe('uninstallPlan', () => {
  const names = (purge: boolean): string[] =>
    uninstallPlan(repo, purge).deletions.map((d) => `${d.ref.kind}/${d.ref.name}:${d.propagation}`);

  it('deletes the webhooks first, skeind in the foreground, then the RBAC; keeps the namespace and the CRDs', () => {
    const n = names(false);
    expect(n.slice(0, 2)).toEqual([
      'MutatingWebhookConfiguration/skein-sidecar-injector:Background',
      'ValidatingWebhookConfiguration/skein-validator:Background',
    ]);
    expect(n[2]).toBe('Deployment/skeind:Foreground');
    expect(n).toContain('ClusterRole/skeind:Background');
    expect(n.some((x) => x.startsWith('Namespace/') || x.startsWith('CustomResourceDefinition/'))).toBe(
      false,
    );
    expect(uninstallPlan(repo, false).kept.join('\n')).toContain('Namespace skein-system');
  });

  it('with purge also deletes the namespace and every CRD, last, the CRDs once the namespace is gone', () => {
    const n = names(true);
    const stages = uninstallPlan(repo, true).deletions.map((d) => `${d.ref.kind}:${d.stage}`);
    expect(stages.slice(-12).every((x) => x === 'CustomResourceDefinition:1')).toBe(true);
    expect(stages.slice(0, -12).every((x) => x.endsWith(':0'))).toBe(true);
    expect(n.slice(-13, -12)).toEqual(['Namespace/skein-system:Background']);
    expect(n.slice(-12).every((x) => x.startsWith('CustomResourceDefinition/'))).toBe(true);
    expect(uninstallPlan(repo, true).kept).toEqual([]);
  });
});

describe('parseManifest and resourcePath', () => {
  it('skips empty documents and refuses objects without identity', () => {
    expect(
      parseManifest('---\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n', 'x.yaml'),
    ).toHaveLength(1);
    expect(() => parseManifest('kind: Namespace\n', 'x.yaml')).toThrow(
      'x.yaml: a document without apiVersion',
    );
    expect(() => parseManifest('a: [', 'x.yaml')).toThrow(/^x\.yaml: /);
  });

  it('builds core, group, namespaced and cluster-scoped paths', () => {
    expect(resourcePath({ apiVersion: 'v1', kind: 'Namespace', name: 'skein-system' })).toBe(
      '/api/v1/namespaces/skein-system',
    );
    expect(
      resourcePath({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'skein-system', name: 'skeind' }),
    ).toBe('/apis/apps/v1/namespaces/skein-system/deployments/skeind');
    expect(() => resourcePath({ apiVersion: 'x/v1', kind: 'Thing', name: 'a' })).toThrow(
      'does not know the kind x/v1 Thing',
    );
  });
});
