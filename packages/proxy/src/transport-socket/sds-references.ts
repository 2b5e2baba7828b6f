// Finds every SDS secret a set of xDS resources refers to (tls_certificate_sds_secret_configs and
// validation_context_sds_secret_config anywhere inside, including nested typed configs), with the
// gRPC cluster that serves each, or whether it comes over the ADS stream.
import type { SecretRef } from './tls-context.js';

interface SdsConfigJson {
  name?: string;
  sdsConfig?: {
    apiConfigSource?: { grpcServices?: { envoyGrpc?: { clusterName?: string } }[] };
    ads?: object;
  };
}

function ref(c: SdsConfigJson): SecretRef {
  return {
    name: c.name ?? '',
    sdsCluster: c.sdsConfig?.apiConfigSource?.grpcServices?.[0]?.envoyGrpc?.clusterName,
    ...(c.sdsConfig?.ads !== undefined ? { ads: true } : {}),
  };
}

export function sdsReferences(resources: readonly unknown[]): SecretRef[] {
  const out: SecretRef[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (!v || typeof v !== 'object') return;
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (k === 'tlsCertificateSdsSecretConfigs' && Array.isArray(x))
        out.push(...(x as SdsConfigJson[]).map(ref));
      else if (k === 'validationContextSdsSecretConfig' && x && typeof x === 'object')
        out.push(ref(x as SdsConfigJson));
      else walk(x);
    }
  };
  walk(resources);
  return out.filter((r) => r.name !== '');
}
