/**
 * The mesh on real Kubernetes: `skeinctl install` puts skeind (with the CRDs and its webhook
 * configurations, from manifests/) on the cluster and waits for it; skeind watches the cluster and serves its admission webhooks. In a namespace labelled
 * `istio-injection=enabled`, plain Deployments of echo v1/v2 and a client come up with the sidecar
 * the injector adds (iptables init step + skein-agent and skein-proxy as a native sidecar, app
 * probes rewritten to the agent); a pod labelled `sidecar.istio.io/inject: "false"` gets none,
 * and an invalid VirtualService is refused by the API server with the field in the message.
 * A plain `http://echo:8080` call from the client's app container is captured by iptables,
 * routed by the client's proxy per the VirtualService, and received through the server's proxy,
 * over mutual TLS with certificates from skeind's CA: a grayscale release (100/0 → 50/50 →
 * 0/100), a header route, the proxies' Istio metrics naming both workloads, and a Job whose
 * sidecar lets it complete. The sidecars run skein-agent's default, delta ADS with VHDS: skeind's
 * /debug/syncz and the client proxy's config_dump show the virtual hosts as VHDS resources, and a
 * VirtualService edit reaches the proxy as VHDS updates without a RouteConfiguration push.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { apply } from './harness/apply.js';
import { connect, type Cluster } from './harness/cluster.js';
import { exec } from './harness/exec.js';
import { portForward } from './harness/port-forward.js';
import { kubectl } from './harness/kubectl.js';
import { skeinctl } from './harness/skeinctl.js';
import { images } from './harness/images.js';
import { useNamespace } from './harness/namespace.js';
import { waitFor, waitForPods, waitForRollout } from './harness/wait.js';
import { parseReport } from './echo/report.js';
import {
  echoRouting,
  grpcProbedWorkload,
  invalidVirtualService,
  meshJob,
  meshWorkloads,
  optedOutPod,
  type MeshParams,
} from './manifests/mesh.js';

const ECHO_CLIENT = ['node', '/app/e2e/dist/echo/main.js', 'client'];
const params: MeshParams = { echoImage: images.echo };
/** How long the background traffic of the grayscale release runs (the shifts take a few seconds). */
const TRAFFIC_MS = 30_000;
const VIRTUAL_HOST_TYPE = 'type.googleapis.com/envoy.config.route.v3.VirtualHost';

/** The part of skeind's `/debug/syncz` (api-types' Syncz) this suite reads. */
interface SynczJson {
  proxies: {
    proxyId: string;
    protocol: 'sotw' | 'delta';
    types: { typeUrl: string; type: string; status: string; resources: number }[];
  }[];
}

describe('mesh routing on the cluster', () => {
  let cluster: Cluster;
  beforeAll(() => {
    cluster = connect();
  });
  const ns = useNamespace(() => cluster, 'mesh', { 'istio-injection': 'enabled' });
  let clientPod = '';

  /** `n` calls from the client's app container; the ServiceVersion of each answer. */
  async function versions(n: number, headers: string[] = []): Promise<string[]> {
    const args = [...ECHO_CLIENT, 'http://echo:8080/', '--count', String(n), '--timeout', '3000'];
    for (const h of headers) args.push('--header', h);
    const res = await exec(cluster, ns.name, clientPod, 'client', args);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    return parseReport(res.stdout).get('ServiceVersion') ?? [];
  }

  it('installs Skein with `skeinctl install`, which waits for skeind to be available and enforcing validation', async () => {
    // --restart: a new pod each run, so this build's image runs even under the same tag
    const res = await skeinctl([
      'install',
      '--kubeconfig',
      cluster.kubeconfigPath,
      '--skeind-image',
      images.skeind,
      '--proxy-image',
      images.proxy,
      '--restart',
      '--timeout',
      '4m',
      '-y',
    ]);
    process.stdout.write(res.stdout);
    expect(res.code, `skeinctl install failed:\n${res.stdout}${res.stderr}`).toBe(0);
    expect(res.stdout).toMatch(/✔ 12 CustomResourceDefinitions .*, Established/);
    expect(res.stdout).toMatch(/^ {2}Deployment skein-system\/skeind (created|configured)$/m);
    expect(res.stdout).toContain('✔ skeind available');
    expect(res.stdout).toContain('✔ validation enforced');
    expect(res.stdout).toContain('kubectl label namespace <ns> istio-injection=enabled');
    const skeind = await cluster.apps.readNamespacedDeployment({ namespace: 'skein-system', name: 'skeind' });
    const container = skeind.spec?.template.spec?.containers.find((c) => c.name === 'skeind');
    expect(container?.image).toBe(images.skeind);
    expect(container?.args).toContain(`--proxy-image=${images.proxy}`);
    expect(skeind.status?.availableReplicas).toBe(1);
  });

  it('refuses an invalid VirtualService at kubectl apply, naming the object, the field and the reason', async () => {
    // The validator is installed with failurePolicy Ignore (as istiod's); skeind patches its
    // caBundle and switches it to Fail once the API server is seen calling it. From then on an
    // invalid object is refused.
    await waitFor(
      'skeind to enforce validation (failurePolicy Fail)',
      async () => {
        const r = await kubectl(cluster, [
          'get',
          'validatingwebhookconfiguration',
          'skein-validator',
          '-o',
          'jsonpath={.webhooks[0].failurePolicy}',
        ]);
        return r.code === 0 && r.stdout.trim() === 'Fail' ? true : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 1_000 },
    );
    const res = await kubectl(
      cluster,
      ['apply', '-n', ns.name, '-f', '-'],
      invalidVirtualService('bad-weight'),
    );
    expect(res.code, `the invalid VirtualService was accepted: ${res.stdout}`).not.toBe(0);
    expect(res.stderr).toContain('admission webhook "validation.istio.io" denied the request');
    expect(res.stderr).toMatch(
      new RegExp(`VirtualService ${ns.name}/bad-weight: spec\\.http\\[0\\]\\.route\\[0\\]\\.weight: .+`),
    );
  });

  it('injects the sidecar into plain Deployments that then get their configuration from skeind', async () => {
    await apply(cluster, echoRouting({ v1: 100, v2: 0 }), ns.name);
    await apply(cluster, meshWorkloads(params), ns.name);
    await Promise.all(
      ['echo-v1', 'echo-v2', 'client'].map((d) =>
        waitForRollout(cluster, 'Deployment', ns.name, d, { timeoutMs: 240_000 }),
      ),
    );
    const [client] = await waitForPods(cluster, ns.name, 'app=client');
    clientPod = client?.metadata?.name ?? '';
    expect(clientPod).not.toBe('');
    // what the injector added, as the API server stored it
    expect(client?.spec?.initContainers?.map((c) => c.name)).toEqual(['istio-init', 'istio-proxy']);
    expect(client?.spec?.initContainers?.[1]?.restartPolicy).toBe('Always');
    expect(client?.metadata?.labels?.['security.istio.io/tlsMode']).toBe('istio');
    expect(client?.metadata?.annotations?.['sidecar.istio.io/status']).toContain('istio-proxy');
    const [echo] = await waitForPods(cluster, ns.name, 'app=echo,version=v1');
    expect(echo?.spec?.containers[0]?.readinessProbe?.httpGet?.path).toBe('/app-health/echo/readyz');
  });

  it('leaves a pod labelled sidecar.istio.io/inject: "false" without a sidecar', async () => {
    await apply(cluster, optedOutPod(params, 'plain'), ns.name);
    const [pod] = await waitForPods(cluster, ns.name, 'app=plain');
    expect(pod?.spec?.initContainers ?? []).toEqual([]);
    expect(pod?.spec?.containers.map((c) => c.name)).toEqual(['app']);
  });

  it('routes every call to v1 while the VirtualService says 100/0', async () => {
    // the first calls may race the EDS push of the just-started echo pods
    await waitFor(
      'echo to answer through the sidecars',
      async () => ((await versions(1)).length === 1 ? true : undefined),
      {
        timeoutMs: 60_000,
        intervalMs: 1_000,
      },
    );
    const seen = await versions(20);
    expect(seen).toHaveLength(20);
    expect(new Set(seen)).toEqual(new Set(['v1']));
  });

  it('splits 50/50, then moves everything to v2, as the VirtualService changes while traffic flows', async () => {
    // one call after another from the client's app for the whole release: none may fail
    const traffic = exec(cluster, ns.name, clientPod, 'client', [
      ...ECHO_CLIENT,
      'http://echo:8080/',
      '--duration',
      String(TRAFFIC_MS),
      '--timeout',
      '3000',
    ]);
    const started = Date.now();
    await apply(cluster, echoRouting({ v1: 50, v2: 50 }), ns.name);
    await waitFor(
      'both versions to answer',
      async () => (new Set(await versions(20)).size === 2 ? true : undefined),
      {
        timeoutMs: 60_000,
        intervalMs: 1_000,
      },
    );
    await apply(cluster, echoRouting({ v1: 0, v2: 100 }), ns.name);
    await waitFor(
      'only v2 to answer',
      async () => {
        const seen = await versions(10);
        return seen.length === 10 && seen.every((v) => v === 'v2') ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 1_000 },
    );
    const seen = await versions(20);
    expect(new Set(seen)).toEqual(new Set(['v2']));
    // the weights shifted inside the window of the background traffic, which then ended cleanly
    expect(Date.now() - started).toBeLessThan(TRAFFIC_MS);
    const flowed = await traffic;
    const answered = parseReport(flowed.stdout).get('ServiceVersion') ?? [];
    const errors = flowed.stdout.split('\n').filter((l) => /Error=|ResponseCode=(?!200)/.test(l));
    expect(errors, flowed.stderr).toEqual([]);
    expect(flowed.code).toBe(0);
    expect(answered.length).toBeGreaterThan(20);
    // it ran across the release: its last calls already went to v2
    expect(answered[answered.length - 1]).toBe('v2');
  });

  /** GET on the client proxy's admin (127.0.0.1:15000 in the pod), from the client's app container. */
  async function clientAdmin(path: string): Promise<string> {
    const res = await exec(cluster, ns.name, clientPod, 'client', [
      'node',
      '-e',
      `fetch('http://127.0.0.1:15000${path}').then((r) => r.text()).then((t) => process.stdout.write(t))`,
    ]);
    expect(res.code, res.stderr).toBe(0);
    return res.stdout;
  }
  /** One counter of the client proxy's admin `/stats` (0 when absent). */
  async function clientStat(name: string): Promise<number> {
    const line = (await clientAdmin('/stats')).split('\n').find((l) => l.startsWith(`${name}:`));
    return Number(line?.split(':')[1]?.trim() ?? 0);
  }

  it("runs the client's sidecar on delta ADS with VHDS (skeind's syncz, the proxy's config_dump)", async () => {
    const [skeind] = await waitForPods(cluster, 'skein-system', 'app=skeind');
    const forward = await portForward(cluster, 'skein-system', skeind?.metadata?.name ?? '', 15014);
    try {
      const proxy = await waitFor(
        'skeind to report the client proxy synced on VHDS',
        async () => {
          const res = await fetch(`http://127.0.0.1:${forward.localPort}/debug/syncz`);
          const syncz = (await res.json()) as SynczJson;
          const p = syncz.proxies.find((x) => x.proxyId.includes(`~${clientPod}.${ns.name}~`));
          const vhds = p?.types.find((t) => t.typeUrl === VIRTUAL_HOST_TYPE);
          return vhds?.status === 'SYNCED' && vhds.resources > 0 ? p : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 1_000 },
      );
      expect(proxy.protocol).toBe('delta');
      // the route configuration goes over RDS, its virtual hosts over VHDS
      expect(proxy.types.find((t) => t.type === 'RDS')?.status).toBe('SYNCED');
    } finally {
      await forward.close();
    }
    const dump = JSON.parse(await clientAdmin('/config_dump')) as { configs: unknown[] };
    const routes = JSON.stringify(dump.configs.find((c) => JSON.stringify(c).includes('RoutesConfigDump')));
    // the port-8080 route configuration names its VHDS source, and holds echo's virtual host by
    // its VHDS resource name (<route config>/<host>:<port>)
    expect(routes).toContain('"vhds"');
    expect(routes).toContain(`8080/echo.${ns.name}.svc.cluster.local:8080`);
    expect(await clientStat('cluster_manager.vhds.update_success')).toBeGreaterThan(0);
    // no on-demand VHDS: a Host that no virtual host names is not held for a lookup, it is served
    // at once by the catch-all virtual host (ALLOW_ANY: PassthroughCluster to the original
    // destination, here echo's ClusterIP)
    const res = await exec(cluster, ns.name, clientPod, 'client', [
      ...ECHO_CLIENT,
      'http://echo:8080/unknown-host',
      '--header',
      'host:nowhere.example',
      '--timeout',
      '3000',
    ]);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(parseReport(res.stdout).get('Host')).toEqual(['nowhere.example']);
  });

  it('routes by header: end-user jason to v2, everyone else to v1', async () => {
    const rdsBefore = await clientStat('cluster_manager.rds.update_success');
    const vhdsBefore = await clientStat('cluster_manager.vhds.update_success');
    await apply(cluster, echoRouting({ v1: 100, v2: 0 }, true), ns.name);
    await waitFor(
      'jason to reach v2',
      async () => ((await versions(3, ['end-user:jason'])).every((v) => v === 'v2') ? true : undefined),
      {
        timeoutMs: 60_000,
        intervalMs: 1_000,
      },
    );
    expect(new Set(await versions(10, ['end-user:jason']))).toEqual(new Set(['v2']));
    expect(new Set(await versions(10))).toEqual(new Set(['v1']));
    // the edit reached the sidecar as VHDS updates: no RouteConfiguration was pushed for it
    expect(await clientStat('cluster_manager.vhds.update_success')).toBeGreaterThan(vhdsBefore);
    expect(await clientStat('cluster_manager.rds.update_success')).toBe(rdsBefore);
  });

  it("counts the calls in both proxies' istio_requests_total, each naming the other workload", async () => {
    const stats = async (pod: string, container: string): Promise<string> => {
      const res = await exec(cluster, ns.name, pod, container, [
        'node',
        '-e',
        "fetch('http://127.0.0.1:15090/stats/prometheus').then((r) => r.text()).then((t) => process.stdout.write(t))",
      ]);
      expect(res.code, res.stderr).toBe(0);
      return res.stdout;
    };
    const line = (text: string, reporter: string): string =>
      text
        .split('\n')
        .find((l) => l.startsWith('istio_requests_total{') && l.includes(`reporter="${reporter}"`)) ?? '';
    const client = line(await stats(clientPod, 'client'), 'source');
    expect(client).toContain('source_workload="client"');
    expect(client).toContain('destination_workload="echo-v');
    expect(client).toContain('response_code="200"');
    const [server] = await waitForPods(cluster, ns.name, 'app=echo,version=v2');
    const served = line(await stats(server?.metadata?.name ?? '', 'echo'), 'destination');
    expect(served).toContain('source_workload="client"');
    expect(served).toContain('destination_workload="echo-v2"');
    // auto mTLS: the client's sidecar called over mutual TLS with its SPIFFE identity
    expect(served).toContain('connection_security_policy="mutual_tls"');
    expect(served).toContain(`source_principal="spiffe://cluster.local/ns/${ns.name}/sa/client"`);
  });

  it('gets a pod Ready through a rewritten gRPC probe past its STRICT mTLS sidecar (probes from 127.0.0.6)', async () => {
    await apply(cluster, grpcProbedWorkload(params), ns.name);
    await waitForRollout(cluster, 'Deployment', ns.name, 'probed', { timeoutMs: 180_000 });
    const [pod] = await waitForPods(cluster, ns.name, 'app=probed');
    // the kubelet asks the agent; the agent runs the original gRPC probe against the app
    expect(pod?.spec?.containers[0]?.readinessProbe?.httpGet?.path).toBe('/app-health/echo/readyz');
    const env = pod?.spec?.initContainers?.find((c) => c.name === 'istio-proxy')?.env ?? [];
    expect(env.find((e) => e.name === 'ISTIO_KUBE_APP_PROBERS')?.value).toContain('"grpc"');
    expect(pod?.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    // why the source address matters, from the sidecar container (UID 1337, as the agent): the
    // agent's gRPC health check to the pod IP from 127.0.0.6 reaches the app; the same check
    // unbound is captured into the inbound listener, whose catch-all for a port no Service names is
    // STRICT mTLS too, so the plaintext check is refused
    const check = async (
      from: string | undefined,
    ): Promise<{ grpcStatus?: number; servingStatus: number }> => {
      const options = JSON.stringify({
        host: pod?.status?.podIP,
        port: 7070,
        service: '',
        timeoutMs: 3000,
        ...(from ? { localAddress: from } : {}),
      });
      const res = await exec(cluster, ns.name, pod?.metadata?.name ?? '', 'istio-proxy', [
        'node',
        '--input-type=module',
        '-e',
        `import { grpcHealthCheck } from '/app/packages/agent/dist/status/grpc-health-probe.js';
         process.stdout.write(JSON.stringify(await grpcHealthCheck(${options})));`,
      ]);
      expect(res.code, res.stderr).toBe(0);
      return JSON.parse(res.stdout) as { grpcStatus?: number; servingStatus: number };
    };
    expect(await check('127.0.0.6')).toMatchObject({ grpcStatus: 0, servingStatus: 1 });
    expect((await check(undefined)).grpcStatus).toBeUndefined();
  });

  it('lets a Job with the native sidecar complete', async () => {
    await apply(cluster, meshJob(params, 'caller', 'http://echo:8080/from-job'), ns.name);
    const job = await waitFor(
      'the Job to finish',
      async () => {
        const j = await cluster.batch.readNamespacedJob({ name: 'caller', namespace: ns.name });
        const done = j.status?.conditions?.find(
          (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
        );
        return done ? j : undefined;
      },
      { timeoutMs: 240_000, intervalMs: 2_000 },
    );
    expect(job.status?.succeeded, JSON.stringify(job.status)).toBe(1);
  });
});
