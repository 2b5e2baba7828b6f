// A reference, not a proxy: each downstream connection relayed byte for byte to its own upstream
// connection, with no HTTP parsing at all — the CPU floor of moving these bytes through Node's
// sockets, to read skein-proxy's and nginx's figures against.
// Usage: node node-relay.mjs <listen-port> <upstream-port>
import net from 'node:net';

const [listenPort, upstreamPort] = process.argv.slice(2).map(Number);
net
  .createServer({ noDelay: true }, (down) => {
    const up = net.connect({ port: upstreamPort, host: '127.0.0.1', noDelay: true });
    down.on('data', (c) => up.write(c));
    up.on('data', (c) => down.write(c));
    down.on('close', () => up.destroy());
    up.on('close', () => down.destroy());
    down.on('error', () => {});
    up.on('error', () => {});
  })
  .listen(listenPort, '127.0.0.1');
