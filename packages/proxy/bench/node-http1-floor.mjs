// A reference, not a proxy: the least HTTP/1.1 work a keep-alive proxy can do in Node. Each request
// head is found (CRLF CRLF) and its Content-Length read; the request goes, bytes as received, to an
// idle upstream connection from a shared pool (a new one when none is idle); the response head's
// Content-Length is read and the response goes back, bytes as received, and the upstream connection
// returns to the pool when its body is complete. No header is parsed beyond the framing, none is
// added or removed, there is no routing, no timeout, no statistic. Chunked bodies and pipelining are
// not handled (the bench sends neither and its upstream answers with a Content-Length). The CPU of
// framing and pooling in Node's sockets, to read skein-proxy's figures against beside the byte
// relay (node-relay.mjs), which has no HTTP at all.
// Usage: node node-http1-floor.mjs <listen-port> <upstream-port>
import net from 'node:net';

const [listenPort, upstreamPort] = process.argv.slice(2).map(Number);
const CRLF2 = Buffer.from('\r\n\r\n');
const idle = [];

/**
 * The head collected so far in `holder.head` plus `chunk`, and where it ends (its CRLF CRLF);
 * undefined while the head is incomplete (then kept in `holder.head`).
 */
function takeHead(holder, chunk) {
  const buf = holder.head ? Buffer.concat([holder.head, chunk]) : chunk;
  const end = buf.indexOf(CRLF2);
  holder.head = end < 0 ? buf : undefined;
  return end < 0 ? undefined : { buf, end };
}

/** The Content-Length of a head (latin1 text), -1 when it has none. */
function contentLength(head) {
  const at = head.toLowerCase().indexOf('\ncontent-length:');
  if (at < 0) return -1;
  const end = head.indexOf('\r', at + 16);
  return Number(head.slice(at + 16, end).trim());
}

function upstream() {
  const socket = net.connect({ port: upstreamPort, host: '127.0.0.1', noDelay: true });
  const up = { socket, down: undefined, head: undefined, left: -1 };
  socket.on('data', (chunk) => {
    let c = chunk;
    if (up.left < 0) {
      const head = takeHead(up, c);
      if (!head) return;
      const { buf, end } = head;
      up.left = contentLength(buf.latin1Slice(0, end + 2));
      if (up.left < 0) throw new Error('response without Content-Length');
      up.left += end + 4;
      c = buf;
    }
    up.left -= c.length;
    up.down?.socket.write(c);
    if (up.left <= 0) {
      const down = up.down;
      up.left = -1;
      up.down = undefined;
      idle.push(up);
      if (down) {
        down.up = undefined;
        if (down.pending) {
          const p = down.pending;
          down.pending = undefined;
          onRequestBytes(down, p);
        }
      }
    }
  });
  socket.on('error', () => {});
  socket.on('close', () => {
    const i = idle.indexOf(up);
    if (i >= 0) idle.splice(i, 1);
    up.down?.socket.destroy();
  });
  return up;
}

function onRequestBytes(down, chunk) {
  if (down.up && down.left <= 0) {
    // A next request before this response ended: held until it has (no pipelining).
    down.pending = down.pending ? Buffer.concat([down.pending, chunk]) : chunk;
    return;
  }
  let c = chunk;
  if (!down.up) {
    const head = takeHead(down, c);
    if (!head) return;
    const { buf, end } = head;
    const length = contentLength(buf.latin1Slice(0, end + 2));
    down.left = (length < 0 ? 0 : length) + end + 4;
    down.up = idle.pop() ?? upstream();
    down.up.down = down;
    c = buf;
  }
  const body = Math.min(c.length, down.left);
  down.left -= body;
  down.up.socket.write(body === c.length ? c : c.subarray(0, body));
  if (body < c.length) down.pending = c.subarray(body);
}

net
  .createServer({ noDelay: true }, (socket) => {
    const down = { socket, up: undefined, head: undefined, left: 0, pending: undefined };
    socket.on('data', (c) => onRequestBytes(down, c));
    socket.on('close', () => down.up?.socket.destroy());
    socket.on('error', () => {});
  })
  .listen(listenPort, '127.0.0.1');
