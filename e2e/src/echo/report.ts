/**
 * What the echo app answers with: one `Key=Value` line per fact about the request it saw
 * (its version, hostname, the peer address, every request header), the shape Istio's echo app
 * uses, so tests can assert on routing and on the headers a proxy added.
 */
export interface EchoFacts {
  readonly version: string;
  readonly hostname: string;
  readonly serviceName: string;
  readonly protocol: string;
  readonly port: number;
  readonly peer: string;
  readonly method?: string;
  readonly path?: string;
  readonly authority?: string;
  readonly headers?: ReadonlyArray<readonly [string, string]>;
  readonly body?: string;
}

export function formatReport(facts: EchoFacts): string {
  const lines = [
    `ServiceVersion=${facts.version}`,
    `ServiceName=${facts.serviceName}`,
    `ServicePort=${facts.port}`,
    `Hostname=${facts.hostname}`,
    `Proto=${facts.protocol}`,
    `IP=${facts.peer}`,
  ];
  if (facts.method !== undefined) lines.push(`Method=${facts.method}`);
  if (facts.path !== undefined) lines.push(`URL=${facts.path}`);
  if (facts.authority !== undefined) lines.push(`Host=${facts.authority}`);
  for (const [name, value] of facts.headers ?? []) lines.push(`RequestHeader=${name}:${value}`);
  if (facts.body !== undefined && facts.body.length > 0) lines.push(`Echo=${facts.body}`);
  return `${lines.join('\n')}\n`;
}

/** Parses a report back into its fields; repeated keys (RequestHeader) keep every value. */
export function parseReport(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    const key = line.slice(0, eq);
    const values = out.get(key) ?? [];
    values.push(line.slice(eq + 1));
    out.set(key, values);
  }
  return out;
}

/** Strips the IPv4-mapped IPv6 prefix Node reports for IPv4 peers on dual-stack sockets. */
export function peerAddress(address: string | undefined): string {
  if (address === undefined) return 'unknown';
  return address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
}
