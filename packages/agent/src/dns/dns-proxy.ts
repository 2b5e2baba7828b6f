// The agent's DNS proxy (15053, UDP and TCP): answers A/AAAA for mesh names from the name table,
// forwards everything else to the upstream resolvers unchanged.
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import { isIP } from 'node:net';
import dnsPacket from 'dns-packet';
import type { NameTableIndex } from './name-table.js';

export interface DnsProxyOptions {
  host: string;
  port: number;
  /** Upstream resolvers (ip or ip:port), tried in order. */
  upstreams: string[];
  table: () => NameTableIndex | undefined;
  ttlSeconds?: number;
  upstreamTimeoutMs?: number;
}

export interface RunningDnsProxy {
  port: number;
  close(): Promise<void>;
  /** Queries answered from the table / forwarded / failed upstream. */
  stats(): { answered: number; forwarded: number; failed: number };
}

function upstreamAddr(u: string): { host: string; port: number } {
  if (isIP(u)) return { host: u, port: 53 };
  const m = /^\[?(.+?)\]?:(\d+)$/.exec(u);
  if (!m) throw new Error(`bad upstream resolver ${u}`);
  return { host: m[1]!, port: Number(m[2]) };
}

/** The answer for a query from the table, or undefined to forward it. */
export function answerFromTable(
  query: Buffer,
  table: NameTableIndex | undefined,
  ttl: number,
): Buffer | undefined {
  let q: dnsPacket.Packet;
  try {
    q = dnsPacket.decode(query);
  } catch {
    return undefined;
  }
  const question = q.questions?.[0];
  if (!question || !table || (question.type !== 'A' && question.type !== 'AAAA')) return undefined;
  const ips = table.lookup(question.name);
  if (!ips) return undefined;
  const family = question.type === 'A' ? 4 : 6;
  const answers = ips
    .filter((ip) => isIP(ip) === family)
    .map(
      (ip) => ({ type: question.type, name: question.name, ttl, class: 'IN', data: ip }) as dnsPacket.Answer,
    );
  return dnsPacket.encode({
    id: q.id ?? 0,
    type: 'response',
    flags:
      dnsPacket.AUTHORITATIVE_ANSWER |
      dnsPacket.RECURSION_AVAILABLE |
      ((q.flags ?? 0) & dnsPacket.RECURSION_DESIRED),
    questions: [question],
    answers,
  });
}

function servfail(query: Buffer): Buffer {
  try {
    const q = dnsPacket.decode(query);
    return dnsPacket.encode({ id: q.id ?? 0, type: 'response', flags: 2, questions: q.questions ?? [] });
  } catch {
    return Buffer.alloc(0);
  }
}

export async function startDnsProxy(o: DnsProxyOptions): Promise<RunningDnsProxy> {
  const ttl = o.ttlSeconds ?? 30;
  const timeout = o.upstreamTimeoutMs ?? 5000;
  const counters = { answered: 0, forwarded: 0, failed: 0 };

  async function forward(query: Buffer): Promise<Buffer> {
    for (const u of o.upstreams) {
      const { host, port } = upstreamAddr(u);
      const sock = dgram.createSocket(isIP(host) === 6 ? 'udp6' : 'udp4');
      try {
        const res = await new Promise<Buffer>((resolve, reject) => {
          const t = setTimeout(() => reject(new Error('timeout')), timeout);
          sock.once('message', (m) => {
            clearTimeout(t);
            resolve(m);
          });
          sock.once('error', reject);
          sock.send(query, port, host);
        });
        counters.forwarded++;
        return res;
      } catch {
        // try the next upstream
      } finally {
        sock.close();
      }
    }
    counters.failed++;
    return servfail(query);
  }

  async function resolve(query: Buffer): Promise<Buffer> {
    const local = answerFromTable(query, o.table(), ttl);
    if (local) {
      counters.answered++;
      return local;
    }
    return forward(query);
  }

  const onQuery = (udp: dgram.Socket) => (msg: Buffer, rinfo: dgram.RemoteInfo) => {
    void resolve(msg).then((res) => udp.send(res, rinfo.port, rinfo.address));
  };
  const tcp = net.createServer((s) => {
    let buf = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const q = Buffer.from(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        buf = buf.subarray(2 + q.length);
        void resolve(q).then((res) => {
          const len = Buffer.alloc(2);
          len.writeUInt16BE(res.length);
          s.write(Buffer.concat([len, res]));
        });
      }
    });
    s.on('error', () => undefined);
  });

  // UDP and TCP on one port number. With port 0 the UDP socket picks it, and the TCP port of
  // that number may be taken by another socket: then both are tried again on a new port.
  let udp: dgram.Socket | undefined;
  let port = 0;
  for (let attempt = 1; ; attempt++) {
    const u = dgram.createSocket(isIP(o.host) === 6 ? 'udp6' : 'udp4');
    u.on('message', onQuery(u));
    await new Promise<void>((r, j) => {
      u.once('error', j);
      u.bind(o.port, o.host, () => r());
    });
    port = u.address().port;
    const listened = await new Promise<Error | undefined>((r) => {
      const fail = (err: Error): void => r(err);
      tcp.once('error', fail);
      tcp.listen(port, o.host, () => {
        tcp.off('error', fail);
        r(undefined);
      });
    });
    if (!listened) {
      udp = u;
      break;
    }
    u.close();
    if (o.port !== 0 || attempt >= 10) throw listened;
  }
  const bound = udp;

  return {
    port,
    stats: () => ({ ...counters }),
    close: async () => {
      bound.close();
      await new Promise((r) => tcp.close(r));
    },
  };
}
