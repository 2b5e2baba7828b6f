// The pod annotations that shape the sidecar container itself, as Istio's injector reads them:
// `sidecar.istio.io/userVolume` / `userVolumeMount` (JSON: an array of volumes / mounts with
// names, or a map from name to the rest), `sidecar.istio.io/proxyImage`, and the
// `readiness.status.sidecar.istio.io/{initialDelaySeconds,periodSeconds,failureThreshold}` of the
// proxy's readiness probe. A malformed value is an error naming the annotation (the pod is refused).
import { isRecord, type Json } from './pod-types.js';

export const USER_VOLUME = 'sidecar.istio.io/userVolume';
export const USER_VOLUME_MOUNT = 'sidecar.istio.io/userVolumeMount';
export const PROXY_IMAGE = 'sidecar.istio.io/proxyImage';
const READINESS = 'readiness.status.sidecar.istio.io/';

/** Named JSON objects from an array (`[{"name": ...}]`) or a map (`{"<name>": {...}}`). */
function namedObjects(annotations: Readonly<Record<string, string>>, key: string): Json[] {
  const raw = annotations[key];
  if (raw === undefined || raw.trim() === '') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (e) {
    throw new Error(`annotation ${key}: not JSON: ${(e as Error).message}`);
  }
  const items: unknown[] = Array.isArray(parsed)
    ? parsed
    : isRecord(parsed)
      ? Object.entries(parsed).map(([name, v]) => (isRecord(v) ? { name, ...v } : v))
      : [parsed];
  return items.map((item, i) => {
    if (!isRecord(item) || typeof item['name'] !== 'string' || item['name'] === '')
      throw new Error(`annotation ${key}: entry ${i}: want an object with a name`);
    return item;
  });
}

/** Volumes the pod gains for the sidecar (`sidecar.istio.io/userVolume`). */
export function userVolumes(annotations: Readonly<Record<string, string>>): Json[] {
  return namedObjects(annotations, USER_VOLUME);
}

/** Mounts the sidecar container gains (`sidecar.istio.io/userVolumeMount`); each needs a mountPath. */
export function userVolumeMounts(annotations: Readonly<Record<string, string>>): Json[] {
  const mounts = namedObjects(annotations, USER_VOLUME_MOUNT);
  for (const m of mounts)
    if (typeof m['mountPath'] !== 'string' || m['mountPath'] === '')
      throw new Error(`annotation ${USER_VOLUME_MOUNT}: ${String(m['name'])}: mountPath is required`);
  return mounts;
}

/** Checks every user mount names a volume the pod will have. */
export function checkUserMounts(mounts: readonly Json[], volumeNames: readonly string[]): void {
  for (const m of mounts)
    if (!volumeNames.includes(String(m['name'])))
      throw new Error(
        `annotation ${USER_VOLUME_MOUNT}: ${String(m['name'])}: no such volume in the pod or ${USER_VOLUME}`,
      );
}

export interface ReadinessSettings {
  readonly initialDelaySeconds?: number;
  readonly periodSeconds: number;
  readonly failureThreshold: number;
}

/** The proxy readiness probe's timing, the defaults overridden by the readiness annotations. */
export function readinessSettings(annotations: Readonly<Record<string, string>>): ReadinessSettings {
  const num = (field: string, min: number): number | undefined => {
    const v = annotations[`${READINESS}${field}`];
    if (v === undefined || v === '') return undefined;
    if (!/^\d+$/.test(v.trim()) || Number(v) < min)
      throw new Error(
        `annotation ${READINESS}${field}: want a whole number ≥ ${min}, got ${JSON.stringify(v)}`,
      );
    return Number(v);
  };
  const initialDelaySeconds = num('initialDelaySeconds', 0);
  return {
    ...(initialDelaySeconds !== undefined ? { initialDelaySeconds } : {}),
    periodSeconds: num('periodSeconds', 1) ?? 2,
    failureThreshold: num('failureThreshold', 1) ?? 4,
  };
}
