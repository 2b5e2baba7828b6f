// Validation of incoming mesh objects: one seam (a Validator) so every source rejects an invalid
// object the same way — with the object, the field path and the reason — and skips only it.
import { compileRe2 } from '@skein/api-types';
import type { ConfigObject } from '../model/istio-types.js';

export interface Problem {
  /** `Kind namespace/name` of the offending object (or the file when it has no identity). */
  readonly object: string;
  /** Field path inside the object, e.g. `spec.http[0].route[1].weight`. */
  readonly path: string;
  readonly reason: string;
  readonly severity: 'error' | 'warning';
}

export type Validation =
  { ok: true; object: ConfigObject; warnings: Problem[] } | { ok: false; problems: Problem[] };

export type Validator = (obj: unknown) => Validation;

/** The kinds skeind understands, by API group (every listed version shares one schema). */
export const MESH_KINDS: Readonly<Record<string, readonly string[]>> = {
  'networking.istio.io': [
    'VirtualService',
    'DestinationRule',
    'Gateway',
    'ServiceEntry',
    'Sidecar',
    'WorkloadEntry',
    'WorkloadGroup',
    'EnvoyFilter',
  ],
  'security.istio.io': ['PeerAuthentication', 'AuthorizationPolicy', 'RequestAuthentication'],
  'telemetry.istio.io': ['Telemetry'],
};

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** `Kind namespace/name` for messages and metrics. */
export function objectRef(obj: unknown): string {
  if (!isRecord(obj)) return '<not an object>';
  const meta = isRecord(obj['metadata']) ? obj['metadata'] : {};
  const ns = typeof meta['namespace'] === 'string' ? meta['namespace'] : 'default';
  return `${String(obj['kind'] ?? '<no kind>')} ${ns}/${String(meta['name'] ?? '<no name>')}`;
}

/**
 * Structural validation of the envelope plus the semantic rules translation relies on (RE2
 * regexes, route weights). The full schema validation of @skein/api-types plugs in through the
 * same Validator type.
 */
export const basicValidator: Validator = (obj) => {
  const ref = objectRef(obj);
  const problems: Problem[] = [];
  const err = (path: string, reason: string): void => {
    problems.push({ object: ref, path, reason, severity: 'error' });
  };
  if (!isRecord(obj))
    return { ok: false, problems: [{ object: ref, path: '', reason: 'not a mapping', severity: 'error' }] };
  const apiVersion = obj['apiVersion'];
  const kind = obj['kind'];
  if (typeof apiVersion !== 'string') err('apiVersion', 'required');
  if (typeof kind !== 'string') err('kind', 'required');
  const group = typeof apiVersion === 'string' ? (apiVersion.split('/')[0] ?? '') : '';
  if (typeof kind === 'string' && typeof apiVersion === 'string' && !MESH_KINDS[group]?.includes(kind))
    err('kind', `unknown kind ${kind} in ${apiVersion}`);
  const meta = obj['metadata'];
  if (!isRecord(meta) || typeof meta['name'] !== 'string' || meta['name'] === '')
    err('metadata.name', 'required');
  if (obj['spec'] !== undefined && !isRecord(obj['spec'])) err('spec', 'must be a mapping');
  if (problems.length === 0 && kind === 'VirtualService') checkVirtualService(obj['spec'], err);
  if (problems.length > 0) return { ok: false, problems };
  const warnings: Problem[] =
    kind === 'EnvoyFilter'
      ? [
          {
            object: ref,
            path: '',
            reason: 'EnvoyFilter is not supported by skeind; ignored',
            severity: 'warning',
          },
        ]
      : [];
  return { ok: true, object: obj as unknown as ConfigObject, warnings };
};

function checkStringMatch(m: unknown, path: string, err: (p: string, r: string) => void): void {
  if (!isRecord(m)) return;
  const regex = m['regex'];
  if (typeof regex === 'string') {
    const r = compileRe2(regex);
    if (!r.ok) err(`${path}.regex`, `invalid RE2 regex: ${r.error}`);
  }
}

function checkVirtualService(spec: unknown, err: (p: string, r: string) => void): void {
  if (!isRecord(spec)) return;
  const http = spec['http'];
  if (!Array.isArray(http)) return;
  http.forEach((route: unknown, i) => {
    if (!isRecord(route)) return;
    const base = `spec.http[${i}]`;
    const matches = route['match'];
    if (Array.isArray(matches))
      matches.forEach((m: unknown, j) => {
        if (!isRecord(m)) return;
        for (const f of ['uri', 'method', 'authority', 'scheme'])
          checkStringMatch(m[f], `${base}.match[${j}].${f}`, err);
        for (const f of ['headers', 'queryParams', 'withoutHeaders']) {
          const map = m[f];
          if (isRecord(map))
            for (const [k, v] of Object.entries(map))
              checkStringMatch(v, `${base}.match[${j}].${f}.${k}`, err);
        }
      });
    const dests = route['route'];
    if (Array.isArray(dests)) {
      let sum = 0;
      dests.forEach((d: unknown, j) => {
        const w = isRecord(d) ? d['weight'] : undefined;
        if (typeof w === 'number' && w < 0) err(`${base}.route[${j}].weight`, 'weight must not be negative');
        sum += typeof w === 'number' ? w : 0;
        if (!isRecord(d) || !isRecord(d['destination']) || typeof d['destination']['host'] !== 'string')
          err(`${base}.route[${j}].destination.host`, 'required');
      });
      const anyWeight = dests.some((d: unknown) => isRecord(d) && typeof d['weight'] === 'number');
      if (dests.length > 1 && anyWeight && sum === 0) err(`${base}.route`, 'the weights sum to zero');
    }
  });
}
