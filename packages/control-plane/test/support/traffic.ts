// What tests send through a sidecar's bound listener — one HTTP/1.1 request on a fresh connection,
// one line over a fresh TCP connection — and an app that answers both.
import { request, type Agent } from 'node:http';
import { connect, createServer, type Server } from 'node:net';

export interface Target {
  readonly ip: string;
  readonly port: number;
  /** The Host header (the service's hostname). */
  readonly host: string;
}

export interface GetOptions {
  readonly agent?: Agent | false;
  /** A failed connection resolves with this status instead of rejecting (to poll for a refusal). */
  readonly failAs?: number;
  readonly headers?: Record<string, string>;
}

/** One GET: the status code. */
export async function httpStatus(t: Target, path: string, o: GetOptions = {}): Promise<number> {
  return (await httpGet(t, path, o)).status;
}

/** One GET: status and body. */
export function httpGet(
  t: Target,
  path: string,
  o: GetOptions = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const fail = (e: Error): void =>
      o.failAs === undefined ? reject(e) : resolve({ status: o.failAs, body: '' });
    const req = request(
      {
        host: t.ip,
        port: t.port,
        path,
        headers: { host: t.host, ...o.headers },
        agent: o.agent ?? false,
        timeout: 10_000,
      },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', fail);
      },
    );
    req.on('error', fail);
    req.on('timeout', () => req.destroy(new Error(`no answer from ${t.ip}:${t.port}${path}`)));
    req.end();
  });
}

/** Writes `line` on a new connection and resolves with as many bytes as came back. */
export function tcpEcho(t: Pick<Target, 'ip' | 'port'>, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(t.port, t.ip, () => s.write(line));
    let got = '';
    s.setTimeout(10_000, () => s.destroy(new Error(`no echo (got ${JSON.stringify(got)})`)));
    s.on('data', (d: Buffer) => {
      got += d.toString();
      if (got.length >= line.length) {
        s.end();
        resolve(got);
      }
    });
    s.on('error', reject);
    s.on('close', () => reject(new Error(`closed after ${JSON.stringify(got)}`)));
  });
}

/**
 * The app of the sniffing tests, on `ip:port`: answers a connection that starts with an HTTP/1
 * request line with `200 hello http`, and echoes anything else (a toy TCP protocol).
 */
export function httpOrEchoApp(ip: string, port: number): Promise<Server> {
  const server = createServer((socket) => {
    socket.on('error', () => socket.destroy());
    socket.once('data', (first) => {
      if (/^[A-Z]+ \S+ HTTP\/1\.[01]\r\n/.test(first.toString('latin1'))) {
        socket.end(
          'HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 11\r\nconnection: close\r\n\r\nhello http\n',
        );
        return;
      }
      socket.write(first);
      socket.pipe(socket);
    });
  });
  return new Promise((r) => server.listen(port, ip, () => r(server)));
}
