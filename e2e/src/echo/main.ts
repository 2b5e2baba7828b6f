/**
 * Entry point of the echo test app (image `skein/echo`).
 *   echo serve [--version v1] [--http 8080] [--h2c 8081] [--grpc 7070] [--tcp 9090]
 *   echo client <url> [--header k:v ...] [--body text] [--count n] [--duration ms] [--timeout ms]
 * `--duration` keeps calling (one call after another) until that much time has passed, at least
 * `--count` calls; the exit code is 1 when any call failed.
 * A port of -1 disables that listener. Defaults also come from the environment
 * (ECHO_VERSION, ECHO_SERVICE, ECHO_HTTP_PORT, ...), so a Deployment can set them per version.
 */
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { callEcho } from './client.js';
import { startEcho } from './server.js';

const [command = 'serve', ...rest] = process.argv.slice(2);

if (command === 'serve') {
  const { values } = parseArgs({
    args: rest,
    options: {
      version: { type: 'string', default: process.env['ECHO_VERSION'] ?? 'v1' },
      service: { type: 'string', default: process.env['ECHO_SERVICE'] ?? 'echo' },
      http: { type: 'string', default: process.env['ECHO_HTTP_PORT'] ?? '8080' },
      h2c: { type: 'string', default: process.env['ECHO_H2C_PORT'] ?? '8081' },
      grpc: { type: 'string', default: process.env['ECHO_GRPC_PORT'] ?? '7070' },
      tcp: { type: 'string', default: process.env['ECHO_TCP_PORT'] ?? '9090' },
    },
  });
  const server = await startEcho({
    version: values.version,
    serviceName: values.service,
    hostname: hostname(),
    httpPort: Number(values.http),
    h2cPort: Number(values.h2c),
    grpcPort: Number(values.grpc),
    tcpPort: Number(values.tcp),
  });
  console.log(JSON.stringify({ msg: 'echo listening', version: values.version, ports: server.ports }));
  // with every listener disabled nothing holds the event loop: stay up until told to stop
  const keepAlive = setInterval(() => undefined, 1 << 30);
  const stop = (): void => {
    clearInterval(keepAlive);
    void server.close().then(() => process.exit(0));
    setTimeout(() => process.exit(0), 5_000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} else if (command === 'client') {
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      header: { type: 'string', multiple: true, default: [] },
      body: { type: 'string' },
      count: { type: 'string', default: '1' },
      duration: { type: 'string', default: '0' },
      timeout: { type: 'string', default: '5000' },
    },
  });
  const url = positionals[0];
  if (url === undefined) {
    console.error(
      'usage: echo client <url> [--header k:v] [--body text] [--count n] [--duration ms] [--timeout ms]',
    );
    process.exit(2);
  }
  const headers: Record<string, string> = {};
  for (const h of values.header) {
    const i = h.indexOf(':');
    if (i > 0) headers[h.slice(0, i).trim()] = h.slice(i + 1).trim();
  }
  let failed = 0;
  const until = Date.now() + Number(values.duration);
  for (let i = 0; i < Number(values.count) || Date.now() < until; i++) {
    try {
      const res = await callEcho({
        url,
        headers,
        timeoutMs: Number(values.timeout),
        ...(values.body === undefined ? {} : { body: values.body }),
      });
      process.stdout.write(`[${i}] ResponseCode=${res.code}\n${res.body}`);
      if (res.code !== 200 && res.code !== 'OK') failed++;
    } catch (err) {
      process.stdout.write(`[${i}] Error=${(err as Error).message}\n`);
      failed++;
    }
  }
  process.exit(failed === 0 ? 0 : 1);
} else {
  console.error(`unknown command ${command} (serve | client)`);
  process.exit(2);
}
