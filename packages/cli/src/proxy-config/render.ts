// The istioctl-style tables of `skeinctl proxy-config`. Pure: dump in, text out.
import { X509Certificate } from 'node:crypto';
import { renderTable } from '../output/table.js';
import { camelize, type ConfigDump } from './dump.js';

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (typeof v === 'object' && v !== null ? (v as Json) : {});
const arr = (v: unknown): Json[] => (Array.isArray(v) ? (v as Json[]) : []);
const str = (v: unknown, d = '-'): string => (v === undefined || v === null || v === '' ? d : String(v));

function socketAddress(a: unknown): { address: string; port: string } {
  const s = obj(obj(a).socketAddress);
  const pipe = obj(obj(a).pipe);
  if (pipe.path) return { address: `unix://${String(pipe.path)}`, port: '-' };
  return { address: str(s.address), port: str(s.portValue, '0') };
}

function chainMatch(m: Json): string {
  const parts: string[] = [];
  if (m.destinationPort !== undefined) parts.push(`Port: ${String(m.destinationPort)}`);
  if (arr(m.prefixRanges).length)
    parts.push(
      `Addr: ${arr(m.prefixRanges)
        .map((p) => `${str(p.addressPrefix)}/${str(p.prefixLen, '32')}`)
        .join(',')}`,
    );
  if (arr(m.serverNames).length) parts.push(`SNI: ${(m.serverNames as string[]).join(',')}`);
  if (m.transportProtocol) parts.push(`Trans: ${String(m.transportProtocol)}`);
  if (arr(m.applicationProtocols).length)
    parts.push(`App: ${(m.applicationProtocols as string[]).join(',')}`);
  return parts.length ? parts.join('; ') : 'ALL';
}

function chainDestination(chain: Json): string {
  for (const f of arr(chain.filters)) {
    const cfg = obj(f.typedConfig);
    const type = String(cfg['@type'] ?? '');
    if (type.endsWith('HttpConnectionManager')) {
      const rds = obj(cfg.rds);
      if (rds.routeConfigName) return `Route: ${String(rds.routeConfigName)}`;
      const vhosts = arr(obj(cfg.routeConfig).virtualHosts);
      return `Inline Route: ${vhosts.map((v) => str(v.name)).join(',') || '-'}`;
    }
    if (type.endsWith('TcpProxy')) {
      if (cfg.cluster) return `Cluster: ${String(cfg.cluster)}`;
      return `Clusters: ${arr(obj(cfg.weightedClusters).clusters)
        .map((c) => str(c.name))
        .join(',')}`;
    }
  }
  return (
    arr(chain.filters)
      .map((f) => str(f.name))
      .join(',') || 'Non-HTTP/Non-TCP'
  );
}

export function listenersTable(d: ConfigDump): string {
  const rows: string[][] = [];
  for (const { listener } of d.listeners) {
    const { address, port } = socketAddress(listener.address);
    const chains = [
      ...arr(listener.filterChains),
      ...(listener.defaultFilterChain ? [obj(listener.defaultFilterChain)] : []),
    ];
    if (listener.apiListener) rows.push([str(listener.name), '-', 'API listener', 'gRPC proxyless']);
    for (const chain of chains)
      rows.push([address, port, chainMatch(obj(chain.filterChainMatch)), chainDestination(chain)]);
    if (!chains.length && !listener.apiListener) rows.push([address, port, '-', str(listener.name)]);
  }
  return renderTable(['ADDRESSES', 'PORT', 'MATCH', 'DESTINATION'], rows);
}

function routeMatch(m: Json): string {
  if (m.prefix !== undefined) return `${String(m.prefix)}*`;
  if (m.path !== undefined) return String(m.path);
  if (m.safeRegex) return `regex ${String(obj(m.safeRegex).regex)}`;
  if (m.pathSeparatedPrefix !== undefined) return `${String(m.pathSeparatedPrefix)}/*`;
  return '*';
}

function virtualServiceOf(route: Json): string {
  const config = obj(obj(obj(route.metadata).filterMetadata).istio).config;
  const m = typeof config === 'string' ? /namespaces\/([^/]+)\/virtual-service\/([^/]+)/.exec(config) : null;
  return m ? `${m[2]}.${m[1]}` : '-';
}

export function routesTable(d: ConfigDump): string {
  const rows: string[][] = [];
  for (const { routeConfig } of d.routes) {
    for (const vh of arr(routeConfig.virtualHosts)) {
      const domains = (vh.domains as string[] | undefined) ?? [];
      const shown = domains.length > 2 ? `${domains[0]} +${domains.length - 1} more...` : domains.join(', ');
      for (const r of arr(vh.routes))
        rows.push([
          str(routeConfig.name),
          str(vh.name),
          shown || '-',
          routeMatch(obj(r.match)),
          virtualServiceOf(r),
        ]);
    }
  }
  return renderTable(['NAME', 'VHOST NAME', 'DOMAINS', 'MATCH', 'VIRTUAL SERVICE'], rows);
}

export function clustersTable(d: ConfigDump): string {
  const rows = d.clusters.map(({ cluster }) => {
    const name = str(cluster.name);
    const parts = name.split('|');
    const type = str(cluster.type, cluster.clusterType ? 'EXTENSION' : 'STATIC');
    if (parts.length === 4) {
      const [dir, port, subset, host] = parts as [string, string, string, string];
      return [host || '-', port || '-', subset || '-', dir, type, '-'];
    }
    return [name, '-', '-', '-', type, '-'];
  });
  return renderTable(['SERVICE FQDN', 'PORT', 'SUBSET', 'DIRECTION', 'TYPE', 'DESTINATION RULE'], rows);
}

/** From /clusters?format=json. */
export function endpointsTable(clusters: unknown): string {
  const rows: string[][] = [];
  for (const c of arr(obj(camelize(clusters)).clusterStatuses)) {
    for (const h of arr(c.hostStatuses)) {
      const { address, port } = socketAddress(h.address);
      const health = obj(h.healthStatus);
      const status = str(health.edsHealthStatus, 'HEALTHY');
      const outlier = health.failedOutlierCheck ? 'FAILED' : 'OK';
      rows.push([port === '-' ? address : `${address}:${port}`, status, outlier, str(c.name)]);
    }
  }
  return renderTable(['ENDPOINT', 'STATUS', 'OUTLIER CHECK', 'CLUSTER'], rows);
}

function certOf(secret: Json | undefined): X509Certificate | undefined {
  const chain = obj(obj(obj(secret).tlsCertificate).certificateChain);
  const validation = obj(obj(obj(secret).validationContext).trustedCa);
  const src = chain.inlineBytes ?? chain.inlineString ?? validation.inlineBytes ?? validation.inlineString;
  if (typeof src !== 'string') return undefined;
  try {
    return new X509Certificate(
      chain.inlineBytes || validation.inlineBytes ? Buffer.from(src, 'base64') : src,
    );
  } catch {
    return undefined;
  }
}

export function secretsTable(d: ConfigDump, now = new Date()): string {
  const rows = d.secrets.map(({ name, secret }) => {
    const cert = certOf(secret);
    const type = obj(secret).validationContext ? 'CA' : 'Cert Chain';
    if (!cert) return [name, type, secret ? 'ACTIVE' : 'WARMING', '-', '-', '-', '-'];
    const from = new Date(cert.validFrom);
    const to = new Date(cert.validTo);
    const valid = from <= now && now <= to;
    return [
      name,
      type,
      'ACTIVE',
      String(valid),
      cert.serialNumber.toLowerCase(),
      to.toISOString(),
      from.toISOString(),
    ];
  });
  return renderTable(
    ['RESOURCE NAME', 'TYPE', 'STATUS', 'VALID CERT', 'SERIAL NUMBER', 'NOT AFTER', 'NOT BEFORE'],
    rows,
  );
}
