/**
 * The ground the mesh suites stand on, proven on the real cluster `npm run cluster:up` made:
 * an init container with NET_ADMIN/NET_RAW installs iptables rules that take effect in its
 * pod; privileged DaemonSets (ours and kube-proxy) run; a Service name resolves through
 * CoreDNS and the Service answers through kube-proxy from another pod, over HTTP/1.1, h2c,
 * gRPC and TCP; Prometheus discovers and scrapes a pod.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { apply } from './harness/apply.js';
import { connect, type Cluster } from './harness/cluster.js';
import { exec } from './harness/exec.js';
import { images } from './harness/images.js';
import { useNamespace } from './harness/namespace.js';
import { portForward } from './harness/port-forward.js';
import { waitFor, waitForPods, waitForRollout } from './harness/wait.js';
import { parseReport } from './echo/report.js';
import { REDIRECT_PORT, basicsManifest } from './manifests/basics.js';

const ECHO_CLIENT = ['node', '/app/e2e/dist/echo/main.js', 'client'];

describe('cluster basics', () => {
  let cluster: Cluster;
  // registered before useNamespace's hooks, which need the connection
  beforeAll(() => {
    cluster = connect();
  });
  const ns = useNamespace(() => cluster, 'basics');
  let echoPod = '';
  let echoPodIp = '';
  let clientPod = '';
  let clientPodIp = '';

  it('reports the cluster Kubernetes version', async () => {
    const version = await cluster.serverVersion();
    console.log(`cluster Kubernetes version: ${version}`);
    expect(version).toMatch(/^v1\.\d+\.\d+/);
    const nodes = await cluster.core.listNode();
    for (const node of nodes.items) {
      console.log(
        `node ${node.metadata?.name}: kubelet ${node.status?.nodeInfo?.kubeletVersion}, ${node.status?.nodeInfo?.containerRuntimeVersion}`,
      );
    }
    expect(nodes.items.length).toBeGreaterThan(0);
  });

  it('deploys the workloads and rolls them out', async () => {
    await apply(
      cluster,
      basicsManifest({ namespace: ns.name, echoImage: images.echo, prometheusImage: images.prometheus() }),
      ns.name,
    );
    await Promise.all([
      waitForRollout(cluster, 'Deployment', ns.name, 'echo'),
      waitForRollout(cluster, 'Deployment', ns.name, 'client'),
      waitForRollout(cluster, 'DaemonSet', ns.name, 'privileged'),
      waitForRollout(cluster, 'Deployment', ns.name, 'prometheus'),
    ]);
    const [echo] = await waitForPods(cluster, ns.name, 'app=echo');
    const [client] = await waitForPods(cluster, ns.name, 'app=client');
    echoPod = echo?.metadata?.name ?? '';
    echoPodIp = echo?.status?.podIP ?? '';
    clientPod = client?.metadata?.name ?? '';
    clientPodIp = client?.status?.podIP ?? '';
    expect(echoPodIp).not.toBe('');
    expect(clientPodIp).not.toBe('');
  });

  it('ran the NET_ADMIN/NET_RAW init container, and its iptables rules are in effect in the pod', async () => {
    const pod = await cluster.core.readNamespacedPod({ name: echoPod, namespace: ns.name });
    const init = pod.status?.initContainerStatuses?.find((s) => s.name === 'init-iptables');
    expect(init?.state?.terminated?.exitCode).toBe(0);
    const log = await cluster.core.readNamespacedPodLog({
      name: echoPod,
      namespace: ns.name,
      container: 'init-iptables',
    });
    expect(log).toContain(`--dport ${REDIRECT_PORT} -j REDIRECT --to-ports 8080`);
    // nothing listens on 15999: only the nat rule can connect this call to the app on 8080
    const res = await exec(cluster, ns.name, echoPod, 'echo', [
      ...ECHO_CLIENT,
      `http://127.0.0.1:${REDIRECT_PORT}/through-redirect`,
    ]);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    const report = parseReport(res.stdout);
    expect(report.get('URL')).toEqual(['/through-redirect']);
    expect(report.get('Hostname')).toEqual([echoPod]);
  });

  it('runs privileged DaemonSets: ours with full capabilities, and kube-proxy', async () => {
    const [pod] = await waitForPods(cluster, ns.name, 'app=privileged');
    const status = await exec(cluster, ns.name, pod?.metadata?.name ?? '', 'privileged', [
      'grep',
      'CapEff',
      '/proc/self/status',
    ]);
    expect(status.code).toBe(0);
    const capEff = BigInt(`0x${status.stdout.split(/\s+/)[1] ?? '0'}`);
    const CAP_SYS_ADMIN = 21n;
    const CAP_NET_ADMIN = 12n;
    expect((capEff >> CAP_SYS_ADMIN) & 1n).toBe(1n);
    expect((capEff >> CAP_NET_ADMIN) & 1n).toBe(1n);
    await waitForRollout(cluster, 'DaemonSet', 'kube-system', 'kube-proxy', { timeoutMs: 30_000 });
  });

  it('resolves the Service through CoreDNS and reaches it through kube-proxy from another pod', async () => {
    const svc = await cluster.core.readNamespacedService({ name: 'echo', namespace: ns.name });
    const clusterIp = svc.spec?.clusterIP ?? '';
    const lookup = await exec(cluster, ns.name, clientPod, 'client', [
      'node',
      '-e',
      `require('node:dns').promises.lookup('echo.${ns.name}.svc.cluster.local', 4).then((r) => console.log(r.address))`,
    ]);
    expect(lookup.code, lookup.stderr).toBe(0);
    expect(lookup.stdout.trim()).toBe(clusterIp);

    // kube-proxy programs a new Service's rules asynchronously (until then: REJECT, "connection
    // refused"); wait for the first answer, then every protocol must answer at once
    await waitFor(
      'the echo Service to answer through kube-proxy',
      async () => {
        const res = await exec(cluster, ns.name, clientPod, 'client', [
          ...ECHO_CLIENT,
          'http://echo:8080/ready',
          '--timeout',
          '2000',
        ]);
        if (res.code !== 0) throw new Error(res.stdout + res.stderr);
        return true;
      },
      { timeoutMs: 60_000, intervalMs: 1_000 },
    );
    const calls: Array<[string, string]> = [
      ['http://echo:8080/hello', 'HTTP/1.1'],
      ['h2c://echo:8081/hello', 'HTTP/2.0'],
      ['grpc://echo:7070', 'GRPC'],
      ['tcp://echo:9090', 'TCP'],
    ];
    for (const [url, proto] of calls) {
      const res = await exec(cluster, ns.name, clientPod, 'client', [
        ...ECHO_CLIENT,
        url,
        '--header',
        'x-e2e: basics',
      ]);
      expect(res.code, `${url}: ${res.stdout}${res.stderr}`).toBe(0);
      const report = parseReport(res.stdout);
      expect(report.get('Proto'), url).toEqual([proto]);
      expect(report.get('Hostname'), url).toEqual([echoPod]);
      expect(report.get('ServiceVersion'), url).toEqual(['v1']);
      // ClusterIP traffic inside the cluster is not masqueraded: the app sees the client pod
      expect(report.get('IP'), url).toEqual([clientPodIp]);
      if (proto !== 'TCP') expect(report.get('RequestHeader'), url).toContain('x-e2e:basics');
    }
  });

  it('has Prometheus discover the echo pod through the API server and scrape it', async () => {
    const [prom] = await waitForPods(cluster, ns.name, 'app=prometheus');
    const forward = await portForward(cluster, ns.name, prom?.metadata?.name ?? '', 9090);
    try {
      const base = `http://127.0.0.1:${forward.localPort}`;
      await waitFor(
        'Prometheus to scrape the echo pod',
        async () => {
          const targets = (await (await fetch(`${base}/api/v1/targets?state=active`)).json()) as {
            data: {
              activeTargets: Array<{ labels: Record<string, string>; health: string; lastError: string }>;
            };
          };
          const echo = targets.data.activeTargets.find((t) => t.labels['pod'] === echoPod);
          if (echo === undefined)
            throw new Error(`echo pod not among ${targets.data.activeTargets.length} targets`);
          if (echo.health !== 'up') throw new Error(`target ${echo.health}: ${echo.lastError}`);
          return echo;
        },
        { timeoutMs: 120_000, intervalMs: 2_000 },
      );
      // the gRPC call of the previous test shows up in a scrape taken after it
      const value = await waitFor(
        "the echo pod's gRPC request count in Prometheus",
        async () => {
          const q = encodeURIComponent(`echo_requests_total{pod="${echoPod}",protocol="grpc"}`);
          const res = (await (await fetch(`${base}/api/v1/query?query=${q}`)).json()) as {
            data: { result: Array<{ value: [number, string] }> };
          };
          const v = Number(res.data.result[0]?.value[1] ?? 0);
          if (v < 1) throw new Error(`result ${JSON.stringify(res.data.result)}`);
          return v;
        },
        { timeoutMs: 60_000, intervalMs: 2_000 },
      );
      expect(value).toBeGreaterThanOrEqual(1);
    } finally {
      await forward.close();
    }
  });
});
