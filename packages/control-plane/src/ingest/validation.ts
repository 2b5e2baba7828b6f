// Validation of incoming mesh objects: one seam (a Validator) so every source rejects an invalid
// object the same way — with the object, the field path and the reason — and skips only it. The
// default is the schema validation of @skein/api-types (validateMeshObject).
import { validateMeshObject, type Problem } from '@skein/api-types';
import type { ConfigObject } from '../model/istio-types.js';

export type { Problem };

export type Validation =
  { ok: true; object: ConfigObject; warnings: Problem[] } | { ok: false; problems: Problem[] };

export type Validator = (obj: unknown) => Validation;

/** The mesh API's schema validation (every kind, every listed version, RE2, durations, weights). */
export const meshValidator: Validator = (obj) => {
  const r = validateMeshObject(obj);
  return r.ok ? { ok: true, object: r.object as unknown as ConfigObject, warnings: r.warnings } : r;
};
