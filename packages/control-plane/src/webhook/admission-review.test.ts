// The AdmissionReview answers without a server: the injection patch applied to the pod gives the
// injected pod; a skipped pod says why; an invalid VirtualService is refused naming the object,
// the field and the reason; warnings pass through.
import { describe, expect, it } from 'vitest';
import { DEFAULT_INJECTOR_CONFIG } from '../inject/injector-config.js';
import { injectPod } from '../inject/inject-pod.js';
import type { Json, Pod } from '../inject/pod-types.js';
import { admitMeshObject, admitPod, parseReview } from './admission-review.js';
import { applyPatch, jsonPatch, type PatchOp } from './json-patch.js';

const config = { ...DEFAULT_INJECTOR_CONFIG, proxyImage: 'skein/proxy:test' };
const pod = (labels: Record<string, string> = {}): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { generateName: 'web-', labels: { app: 'web', ...labels } },
  spec: { containers: [{ name: 'web', image: 'web:1', ports: [{ containerPort: 80 }] }] },
});
const ns = { name: 'apps', labels: { 'istio-injection': 'enabled' } };

describe('admitPod', () => {
  it('answers with a JSONPatch that turns the pod into the injected pod', () => {
    const out = admitPod({ uid: 'u1', namespace: 'apps', object: pod() }, ns, config);
    expect(out.injected).toBe(true);
    expect(out.response).toMatchObject({ uid: 'u1', allowed: true, patchType: 'JSONPatch' });
    const ops = JSON.parse(Buffer.from(out.response.patch ?? '', 'base64').toString()) as PatchOp[];
    expect(applyPatch(pod() as unknown as Json, ops)).toEqual(injectPod(pod(), config));
  });

  it('allows without a patch, with the reason, when the pod opts out', () => {
    const out = admitPod({ uid: 'u2', object: pod({ 'sidecar.istio.io/inject': 'false' }) }, ns, config);
    expect(out.response).toEqual({
      uid: 'u2',
      allowed: true,
      auditAnnotations: { 'sidecar-injection': 'pod sidecar.istio.io/inject=false' },
    });
  });

  it('refuses a pod whose proxy.istio.io/config is malformed', () => {
    const bad = pod();
    bad.metadata = { ...bad.metadata, annotations: { 'proxy.istio.io/config': '[1, 2]' } };
    const out = admitPod({ uid: 'u3', object: bad }, ns, config);
    expect(out.response.allowed).toBe(false);
    expect(out.response.status?.message).toMatch(/proxy.istio.io\/config: must be a mapping/);
  });
});

describe('admitMeshObject', () => {
  const vs = (weight: number) => ({
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name: 'reviews' },
    spec: { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews' }, weight }] }] },
  });

  it('refuses an invalid VirtualService with its name, the field path and the reason', () => {
    const r = admitMeshObject({ uid: 'v1', namespace: 'bookinfo', operation: 'CREATE', object: vs(-1) });
    expect(r.allowed).toBe(false);
    expect(r.status?.code).toBe(400);
    expect(r.status?.message).toContain('VirtualService bookinfo/reviews');
    expect(r.status?.message).toContain('spec.http[0].route[0].weight');
  });

  it('allows a valid one, and any DELETE', () => {
    expect(admitMeshObject({ uid: 'v2', namespace: 'x', operation: 'CREATE', object: vs(100) })).toEqual({
      uid: 'v2',
      allowed: true,
    });
    expect(admitMeshObject({ uid: 'v3', operation: 'DELETE', object: vs(-1) }).allowed).toBe(true);
  });

  it('passes warnings (EnvoyFilter is accepted but unsupported)', () => {
    const r = admitMeshObject({
      uid: 'v4',
      namespace: 'x',
      object: {
        apiVersion: 'networking.istio.io/v1alpha3',
        kind: 'EnvoyFilter',
        metadata: { name: 'f' },
        spec: {},
      },
    });
    expect(r.allowed).toBe(true);
    expect(r.warnings?.join()).toMatch(/EnvoyFilter x\/f: kind: .*does not apply it/);
  });
});

describe('parseReview and jsonPatch', () => {
  it('rejects what is not an AdmissionReview', () => {
    expect(() => parseReview({ kind: 'Pod' })).toThrow(/AdmissionReview/);
    expect(() => parseReview({ kind: 'AdmissionReview', request: {} })).toThrow(/uid/);
  });

  it('escapes keys and removes dropped fields', () => {
    const ops = jsonPatch(
      { metadata: { 'a/b': 1, gone: 2 }, spec: {} },
      { metadata: { 'a/b': 3 }, spec: {} },
    );
    expect(ops).toEqual([
      { op: 'remove', path: '/metadata/gone' },
      { op: 'add', path: '/metadata/a~1b', value: 3 },
    ]);
  });
});
