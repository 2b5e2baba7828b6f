// AdmissionReview (admission.k8s.io/v1) in and out, pure: `/inject` answers with a JSONPatch that
// adds the sidecar (or none, with the reason in the audit annotation), `/validate` refuses an
// invalid mesh object with its kind, name, field path and reason — what `kubectl apply` prints.
import { formatProblems, validateMeshObject } from '@skein/api-types';
import { injectionDecision, type NamespaceInfo } from '../inject/injection-policy.js';
import type { InjectorConfig } from '../inject/injector-config.js';
import { injectPod } from '../inject/inject-pod.js';
import { isRecord, type Json, type Pod } from '../inject/pod-types.js';
import { jsonPatch } from './json-patch.js';

export interface AdmissionRequest {
  uid: string;
  kind?: { group: string; version: string; kind: string };
  resource?: { group: string; version: string; resource: string };
  namespace?: string;
  name?: string;
  operation?: string;
  object?: unknown;
  dryRun?: boolean;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  patchType?: 'JSONPatch';
  patch?: string;
  status?: { code: number; reason: string; message: string };
  warnings?: string[];
  auditAnnotations?: Record<string, string>;
}

export interface AdmissionReview {
  apiVersion: 'admission.k8s.io/v1';
  kind: 'AdmissionReview';
  response: AdmissionResponse;
}

/** The request of an AdmissionReview body; throws a message fit for a 400 answer. */
export function parseReview(body: unknown): AdmissionRequest {
  if (!isRecord(body) || body['kind'] !== 'AdmissionReview')
    throw new Error('expected an AdmissionReview (admission.k8s.io/v1)');
  const req = body['request'];
  if (!isRecord(req) || typeof req['uid'] !== 'string')
    throw new Error('AdmissionReview without request.uid');
  return req as unknown as AdmissionRequest;
}

export function review(response: AdmissionResponse): AdmissionReview {
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response };
}

export interface InjectOutcome {
  response: AdmissionResponse;
  injected: boolean;
  reason: string;
}

/** The mutating answer for a pod. `namespace` is looked up by the caller (labels decide too). */
export function admitPod(
  req: AdmissionRequest,
  namespace: NamespaceInfo | undefined,
  config: InjectorConfig,
): InjectOutcome {
  const obj = req.object;
  if (!isRecord(obj) || !isRecord(obj['spec']) || !Array.isArray(obj['spec']['containers']))
    return { response: { uid: req.uid, allowed: true }, injected: false, reason: 'not a pod' };
  const pod = obj as unknown as Pod;
  const decision = injectionDecision(pod, namespace, config);
  if (!decision.inject)
    return {
      response: { uid: req.uid, allowed: true, auditAnnotations: { 'sidecar-injection': decision.reason } },
      injected: false,
      reason: decision.reason,
    };
  let injected: Pod;
  try {
    injected = injectPod(pod, config);
  } catch (e) {
    const message = `sidecar injection failed: ${(e as Error).message}`;
    return {
      response: { uid: req.uid, allowed: false, status: { code: 400, reason: 'BadRequest', message } },
      injected: false,
      reason: message,
    };
  }
  const patch = jsonPatch(pod as unknown as Json, injected as unknown as Json);
  return {
    response: {
      uid: req.uid,
      allowed: true,
      patchType: 'JSONPatch',
      patch: Buffer.from(JSON.stringify(patch)).toString('base64'),
    },
    injected: true,
    reason: decision.reason,
  };
}

/** The validating answer for a mesh object (DELETE and unknown groups pass). */
export function admitMeshObject(req: AdmissionRequest): AdmissionResponse {
  if (req.operation === 'DELETE' || req.object === undefined) return { uid: req.uid, allowed: true };
  // The object in a review may lack its namespace (namespaced creates); name the object fully.
  const obj = req.object;
  const withNs =
    isRecord(obj) && isRecord(obj['metadata']) && obj['metadata']['namespace'] === undefined && req.namespace
      ? { ...obj, metadata: { ...obj['metadata'], namespace: req.namespace } }
      : obj;
  const r = validateMeshObject(withNs);
  if (r.ok) {
    const warnings = r.warnings.map((w) => `${w.object}: ${w.path || '<root>'}: ${w.reason}`);
    return { uid: req.uid, allowed: true, ...(warnings.length ? { warnings } : {}) };
  }
  const errors = r.problems.filter((p) => p.severity === 'error');
  return {
    uid: req.uid,
    allowed: false,
    status: {
      code: 400,
      reason: 'Invalid',
      message: `configuration is invalid: ${formatProblems(errors)
        .replace(/^error: /gm, '')
        .split('\n')
        .join('; ')}`,
    },
  };
}
