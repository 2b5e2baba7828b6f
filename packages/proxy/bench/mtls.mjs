// The mutual-TLS part of `npm run bench:proxy`: pairs of proxies in series, the client side
// originating TLS with its certificate (verifying the server's SPIFFE SAN), the server side
// requiring and verifying the client's, keep-alive on every hop. Besides the skein and nginx mTLS
// pairs it runs a plain skein pair (the same two proxies without TLS) as a control: the difference
// between the two skein pairs is what TLS itself costs, the rest is two proxies in series; a plain
// nginx pair is the same control for the nginx mTLS pair.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { skeinBootstrap } from './bootstrap.mjs';
import { tlsCommon } from './certs.mjs';
import { freePort, waitPort } from './ports.mjs';

/**
 * The pair targets, as [name, launch(port)] for the bench's target list, with the certificates of
 * bench/certs.mjs (`certs`, their files in `work`). `skein(name, args)` starts a skein-proxy with the
 * given arguments; `baseline`, when set, does the same for the baseline build; `start(name, cmd,
 * args)` starts nginx.
 */
export function mtlsTargets({ work, certs, upstreamPort, start, skein, baseline }) {
  const skeinPair =
    (label, run, tls, sidecar = false) =>
    async (port) => {
      const serverPort = await freePort();
      const id = `${label}-${port}`;
      const fs = join(work, `${id}-server.json`);
      const fc = join(work, `${id}-client.json`);
      const serverSide = skeinBootstrap(
        serverPort,
        upstreamPort,
        0,
        tls ? { downstream: tlsCommon(certs.server, certs.ca, 'client') } : undefined,
      );
      const clientSide = skeinBootstrap(
        port,
        serverPort,
        0,
        tls ? { upstream: tlsCommon(certs.client, certs.ca, 'server') } : undefined,
      );
      if (sidecar) {
        asSidecar(serverSide, 'server', 'INBOUND');
        asSidecar(clientSide, 'client', 'OUTBOUND');
      }
      writeFileSync(fs, JSON.stringify(tls ? istioInbound(serverSide) : serverSide));
      writeFileSync(fc, JSON.stringify(tls ? istioOutbound(clientSide) : clientSide));
      const args = (f) => ['-c', f, '--concurrency', '1', '--log-level', 'warning'];
      const server = run(`${id}-server`, args(fs));
      const client = run(`${id}-client`, args(fc));
      await waitPort(serverPort);
      return { pid: client.pid, pids: [client.pid, server.pid] };
    };
  const targets = [
    ['skein mTLS pair', skeinPair('skein-mtls', skein, true)],
    ['skein plain pair', skeinPair('skein-plain', skein, false)],
  ];
  // BENCH_BASELINE_FIRST=1 measures the baseline pair before this build's in each round, so that
  // two runs in opposite orders cancel the bench's first-measured bias (an A/B reads both).
  // Opt-in (named in BENCH_ONLY): the mTLS pair with Istio's telemetry on, as sidecars run it.
  if (process.env.BENCH_ONLY?.split(',').includes('skein sidecar pair'))
    targets.push(['skein sidecar pair', skeinPair('skein-sidecar', skein, true, true)]);
  if (baseline) {
    const b = ['baseline mTLS pair', skeinPair('baseline-mtls', baseline, true)];
    if (process.env.BENCH_BASELINE_FIRST === '1') targets.unshift(b);
    else targets.push(b);
  }
  targets.push(['nginx mTLS pair', nginxPair(work, upstreamPort, start, true)]);
  targets.push(['nginx plain pair', nginxPair(work, upstreamPort, start, false)]);
  return targets;
}

/**
 * Two nginx in series, `tls`: the client side originating TLS with its certificate and verifying
 * the server's, the server side requiring and verifying the client's and forwarding its details (as
 * the skein pair's inbound side does); without `tls`, the same two nginx in plain text (the control
 * for what TLS costs nginx, as the plain skein pair is for skein).
 */
function nginxPair(work, upstreamPort, start, tls) {
  return async (port) => {
    const serverPort = await freePort();
    const tag = tls ? 'mtls' : 'plain';
    const events = 'events { worker_connections 4096; }';
    const http = (upstream) =>
      `access_log off; keepalive_requests 1000000; upstream up { server 127.0.0.1:${upstream}; keepalive 64; }`;
    const sconf = join(work, `nginx-${tag}-server-${serverPort}.conf`);
    const serverTls = tls
      ? ` ssl; ssl_certificate ${work}/server.crt; ssl_certificate_key ${work}/server.key;
  ssl_client_certificate ${work}/ca.crt; ssl_verify_client on; ssl_protocols TLSv1.3 TLSv1.2`
      : '';
    const xfcc = tls
      ? `
    proxy_set_header X-Forwarded-Client-Cert "Hash=$ssl_client_fingerprint;Subject=\\"$ssl_client_s_dn\\"";`
      : '';
    writeFileSync(
      sconf,
      `daemon off; worker_processes 1; pid ${work}/ngx-${tag}-s.pid; error_log ${work}/ngx-${tag}-s.err; ${events}
http { ${http(upstreamPort)}
server { listen 127.0.0.1:${serverPort}${serverTls};
  location / { proxy_pass http://up; proxy_http_version 1.1; proxy_set_header Connection "";${xfcc} } } }\n`,
    );
    const cconf = join(work, `nginx-${tag}-client-${port}.conf`);
    const clientTls = tls
      ? `
    proxy_ssl_certificate ${work}/client.crt; proxy_ssl_certificate_key ${work}/client.key;
    proxy_ssl_trusted_certificate ${work}/ca.crt; proxy_ssl_verify on; proxy_ssl_name server.bench;
    proxy_ssl_session_reuse on;`
      : '';
    writeFileSync(
      cconf,
      `daemon off; worker_processes 1; pid ${work}/ngx-${tag}-c.pid; error_log ${work}/ngx-${tag}-c.err; ${events}
http { ${http(serverPort)}
server { listen 127.0.0.1:${port};
  location / { proxy_pass ${tls ? 'https' : 'http'}://up; proxy_http_version 1.1; proxy_set_header Connection "";${clientTls} } } }\n`,
    );
    const server = start(`nginx-${tag}-server`, 'nginx', ['-c', sconf, '-p', work]);
    const client = start(`nginx-${tag}-client`, 'nginx', ['-c', cconf, '-p', work]);
    await waitPort(serverPort);
    return { pid: client.pid, pids: [client.pid, server.pid] };
  };
}

/**
 * Node identity and workload metadata as skein-agent writes them, and the listener's
 * traffic_direction: with it the proxies exchange workload metadata in request headers and record
 * Istio's standard metrics per request (reporter source on the client side, destination on the server).
 */
export function asSidecar(bootstrap, app, direction) {
  bootstrap.node = {
    id: `sidecar~127.0.0.1~${app}-0.bench~bench.svc.cluster.local`,
    cluster: `${app}.bench`,
    metadata: {
      NAMESPACE: 'bench',
      WORKLOAD_NAME: app,
      SERVICE_ACCOUNT: app,
      CLUSTER_ID: 'Kubernetes',
      LABELS: { app, version: 'v1' },
    },
  };
  bootstrap.static_resources.listeners[0].traffic_direction = direction;
  return bootstrap;
}

/** Istio's in-mesh HTTP ALPN values, which an inbound sidecar's HTTP chain matches on. */
const ISTIO_HTTP_ALPN = ['istio-http/1.0', 'istio-http/1.1', 'istio-h2'];

/**
 * The server side shaped like an Istio sidecar's inbound listener in STRICT mode: the TLS inspector
 * reads the ClientHello and the filter chain is chosen by transport protocol `tls` and Istio's HTTP
 * ALPN values; the chain's TLS context offers `h2, http/1.1` as Istio's inbound contexts do, and
 * its HCM appends the client's certificate details (x-forwarded-client-cert) as Istio's does.
 */
export function istioInbound(bootstrap) {
  const listener = bootstrap.static_resources.listeners[0];
  listener.listener_filters = [
    {
      name: 'envoy.filters.listener.tls_inspector',
      typed_config: {
        '@type': 'type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector',
      },
    },
  ];
  for (const chain of listener.filter_chains) {
    chain.filter_chain_match = { transport_protocol: 'tls', application_protocols: ISTIO_HTTP_ALPN };
    // Istio's sidecar inbound HCM forwards the caller's certificate details to the application.
    Object.assign(chain.filters[0].typed_config, {
      forward_client_cert_details: 'APPEND_FORWARD',
      set_current_client_cert_details: { subject: true, uri: true, dns: true },
    });
    chain.transport_socket.typed_config.common_tls_context.alpn_protocols = ['h2', 'http/1.1'];
  }
  return bootstrap;
}

/**
 * The client side's cluster shaped like Istio's ISTIO_MUTUAL one: ALPN `istio-peer-exchange, istio`
 * (so HTTP/1.1 connections offer `istio-http/1.1, istio, http/1.1`) and Istio's outbound SNI.
 */
export function istioOutbound(bootstrap) {
  const tls = bootstrap.static_resources.clusters[0].transport_socket.typed_config;
  tls.common_tls_context.alpn_protocols = ['istio-peer-exchange', 'istio'];
  tls.sni = 'outbound_.80_._.server.bench.svc.cluster.local';
  return bootstrap;
}

/** The mTLS lines of the report: each pair, TLS's own share, and the ratio to the nginx pair. */
export function printMtls(m, s, fmt, pr) {
  const has = (n) => Number.isFinite(m(n, 'p90'));
  if (!has('skein mTLS pair') || !has('nginx mTLS pair')) return;
  const pair = (n) =>
    `added p50 ${fmt(m(n, 'p50'))} ms, p90 ${fmt(m(n, 'p90'))} ms, p99 ${fmt(m(n, 'p99'))} ms, CPU ${fmt(m(n, 'cpu'), 3)} s/1000 req, saturation ${fmt(s(n), 0)} rps`;
  console.log(`  mTLS, client + server skein-proxy: ${pair('skein mTLS pair')}`);
  if (has('skein plain pair'))
    console.log(`  same pair without TLS (control):   ${pair('skein plain pair')}`);
  if (has('skein sidecar pair'))
    console.log(`  mTLS pair with Istio telemetry:    ${pair('skein sidecar pair')}`);
  if (has('baseline mTLS pair'))
    console.log(`  mTLS pair, baseline build:         ${pair('baseline mTLS pair')}`);
  console.log(`  mTLS, client + server nginx:       ${pair('nginx mTLS pair')}`);
  if (has('nginx plain pair'))
    console.log(`  same nginx pair without TLS:       ${pair('nginx plain pair')}`);
  console.log(
    `  mTLS pair added p90 skein / nginx: ${fmt(m('skein mTLS pair', 'p90') / m('nginx mTLS pair', 'p90'))}  (target: within noise of 1); per round: CPU ${pr('skein mTLS pair', 'nginx mTLS pair', 'cpu')}, saturation ${pr('skein mTLS pair', 'nginx mTLS pair', 'sat')}`,
  );
  // What TLS itself costs a pair: its mTLS row against its plain control.
  for (const who of ['skein', 'nginx']) {
    const [tls, plain] = [`${who} mTLS pair`, `${who} plain pair`];
    if (has(plain))
      console.log(
        `  TLS's own cost in the ${who} pair:  p90 ${fmt(m(tls, 'p90') - m(plain, 'p90'))} ms, CPU ${fmt(m(tls, 'cpu') / m(plain, 'cpu'))}x the plain pair's (+${fmt(m(tls, 'cpu') - m(plain, 'cpu'), 3)} s/1000 req)`,
      );
  }
  if (has('skein plain pair') && has('nginx plain pair'))
    console.log(
      `  plain pairs, skein / nginx:        per round: CPU ${pr('skein plain pair', 'nginx plain pair', 'cpu')}, saturation ${pr('skein plain pair', 'nginx plain pair', 'sat')}`,
    );
  console.log(
    '  Istio 1.20 published, two Envoys with mTLS at 1000 rps: +0.228 ms p90, +0.298 ms p99 (on dedicated hardware)',
  );
}
