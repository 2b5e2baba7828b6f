// Which SDS protocol each SDS cluster is spoken with: the `api_type` of the `sds_config`
// (`GRPC` = state of the world StreamSecrets, `DELTA_GRPC` = incremental DeltaSecrets) that the
// TLS contexts' secret references name, by their gRPC cluster.

/** SDS cluster name → true when its references ask for `DELTA_GRPC`. */
export function sdsDeltaClusters(resources: readonly unknown[]): Map<string, boolean> {
  const out = new Map<string, boolean>();
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (!v || typeof v !== 'object') return;
    const o = v as Record<string, unknown>;
    const source = (o['sdsConfig'] as { apiConfigSource?: ApiConfigSource } | undefined)?.apiConfigSource;
    const cluster = source?.grpcServices?.[0]?.envoyGrpc?.clusterName;
    if (cluster) out.set(cluster, (out.get(cluster) ?? false) || source?.apiType === 'DELTA_GRPC');
    for (const x of Object.values(o)) walk(x);
  };
  walk(resources);
  return out;
}

interface ApiConfigSource {
  apiType?: string;
  grpcServices?: { envoyGrpc?: { clusterName?: string } }[];
}
