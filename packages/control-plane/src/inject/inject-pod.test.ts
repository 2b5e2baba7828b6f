// Golden files (testdata/<case>.yaml → <case>.golden.yaml; UPDATE_GOLDEN=1 regenerates them) and
// what the injected pods must mean: the sidecar's place and arguments, the mesh labels, the
// rewritten probes, the interception flags from the annotations.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { DEFAULT_INJECTOR_CONFIG, type InjectorConfig } from './injector-config.js';
import { injectPod, workloadNameOf } from './inject-pod.js';
import type { Container, Pod } from './pod-types.js';

const DIR = join(import.meta.dirname, 'testdata');
const update = process.env['UPDATE_GOLDEN'] === '1';
export const TEST_CONFIG: InjectorConfig = { ...DEFAULT_INJECTOR_CONFIG, proxyImage: 'skein/proxy:test' };

const load = (name: string): Pod => parse(readFileSync(join(DIR, `${name}.yaml`), 'utf8')) as Pod;
const env = (c: Container | undefined, name: string): string | undefined =>
  (c?.env as { name: string; value?: string }[] | undefined)?.find((e) => e.name === name)?.value;
const proxyOf = (p: Pod): Container | undefined =>
  p.spec.initContainers?.find((c) => c.name === 'istio-proxy');
const initOf = (p: Pod): Container | undefined => p.spec.initContainers?.find((c) => c.name === 'istio-init');

describe('injectPod golden files', () => {
  const cases = readdirSync(DIR)
    .filter((f) => f.endsWith('.yaml') && !f.endsWith('.golden.yaml'))
    .map((f) => f.replace(/\.yaml$/, ''));
  it('has cases', () => expect(cases.length).toBeGreaterThanOrEqual(4));
  for (const name of cases)
    it(name, () => {
      const out = stringify(injectPod(load(name), TEST_CONFIG), {
        lineWidth: 0,
        aliasDuplicateObjects: false,
      });
      const file = join(DIR, `${name}.golden.yaml`);
      if (update) writeFileSync(file, out);
      expect(out).toBe(readFileSync(file, 'utf8'));
    });
});

describe('injectPod', () => {
  it('adds the iptables step and the native sidecar before the pod, with its identity and labels', () => {
    const pod = injectPod(load('basic'), TEST_CONFIG);
    expect(pod.spec.initContainers?.map((c) => c.name)).toEqual(['istio-init', 'istio-proxy']);
    expect(pod.spec.containers.map((c) => c.name)).toEqual(['echo']);
    const proxy = proxyOf(pod);
    expect(proxy?.restartPolicy).toBe('Always');
    expect(proxy?.startupProbe).toMatchObject({ httpGet: { path: '/healthz/ready', port: 15021 } });
    expect(proxy?.args).toContain('--discovery-address=skeind.skein-system.svc:15012');
    expect(proxy?.args).toContain('--label=security.istio.io/tlsMode=istio');
    expect(env(proxy, 'ISTIO_META_WORKLOAD_NAME')).toBe('echo-v1');
    expect(env(proxy, 'ISTIO_META_APP_CONTAINERS')).toBe('echo');
    expect(pod.metadata?.labels).toMatchObject({
      'security.istio.io/tlsMode': 'istio',
      'service.istio.io/canonical-name': 'echo',
      'service.istio.io/canonical-revision': 'v1',
    });
    expect(JSON.parse(pod.metadata?.annotations?.['sidecar.istio.io/status'] ?? '{}')).toMatchObject({
      initContainers: ['istio-init', 'istio-proxy'],
      volumes: ['istio-envoy', 'istiod-ca-cert', 'istio-token'],
    });
    expect(initOf(pod)?.args).toEqual([
      'iptables',
      '-p',
      '15001',
      '-z',
      '15006',
      '-u',
      '1337',
      '-g',
      '1337',
      '-m',
      'REDIRECT',
      '-i',
      '*',
      '-b',
      '*',
      '-d',
      '15090,15021,15020',
    ]);
    const token = pod.spec.volumes?.find((v) => v['name'] === 'istio-token');
    expect(JSON.stringify(token)).toContain('"audience":"istio-ca"');
  });

  it('turns the traffic annotations into the init step flags and the resources into requests/limits', () => {
    const pod = injectPod(load('annotations'), TEST_CONFIG);
    const args = (initOf(pod)?.args ?? []) as string[];
    const flag = (f: string) => args[args.indexOf(f) + 1];
    expect(flag('-i')).toBe('10.96.0.0/12,10.244.0.0/16');
    expect(flag('-x')).toBe('10.96.0.1/32');
    expect(flag('-b')).toBe('9080');
    expect(flag('-d')).toBe('15090,15021,15020,9443');
    expect(flag('-o')).toBe('5432,6379');
    expect(args).toContain('--redirect-dns');
    const proxy = proxyOf(pod);
    expect(proxy?.resources).toEqual({
      requests: { cpu: '50m', memory: '64Mi' },
      limits: { memory: '256Mi' },
    });
    expect(env(proxy, 'TERMINATION_DRAIN_DURATION')).toBe('20s');
    expect(proxy?.args).toContain('--exit-on-zero-active-connections');
    expect(pod.spec.initContainers?.map((c) => c.name)).toEqual(['istio-init', 'istio-proxy', 'migrate']);
    expect(pod.metadata?.labels?.['service.istio.io/canonical-name']).toBe('reviews');
    expect(pod.metadata?.labels?.['service.istio.io/canonical-revision']).toBe('3.1');
    // Prometheus scrapes the merged metrics; the app's own endpoint goes to the agent
    expect(pod.metadata?.annotations).toMatchObject({
      'prometheus.io/port': '15020',
      'prometheus.io/path': '/stats/prometheus',
    });
    expect(JSON.parse(env(proxy, 'ISTIO_PROMETHEUS_ANNOTATIONS') ?? '{}')).toEqual({
      scrape: 'true',
      port: '9090',
    });
  });

  it('rewrites HTTP, TCP and gRPC probes to the agent and hands it the originals', () => {
    const pod = injectPod(load('probes'), TEST_CONFIG);
    const api = pod.spec.containers[0];
    expect(api?.livenessProbe).toEqual({
      periodSeconds: 5,
      timeoutSeconds: 2,
      httpGet: { path: '/app-health/api/livez', port: 15020, scheme: 'HTTP' },
    });
    expect(api?.readinessProbe?.httpGet?.path).toBe('/app-health/api/readyz');
    expect(api?.startupProbe?.httpGet?.path).toBe('/app-health/api/startupz');
    expect(pod.spec.containers[1]?.livenessProbe).toEqual({ exec: { command: ['cat', '/tmp/alive'] } });
    expect(JSON.parse(env(proxyOf(pod), 'ISTIO_KUBE_APP_PROBERS') ?? '{}')).toEqual({
      '/app-health/api/livez': {
        httpGet: { host: '127.0.0.1', path: '/healthz', port: 8080 },
        timeoutSeconds: 2,
      },
      '/app-health/api/readyz': { tcpSocket: { host: '127.0.0.1', port: 8080 } },
      '/app-health/api/startupz': { grpc: { port: 9000 } },
    });
  });

  it('honours interceptionMode NONE, rewriteAppHTTPProbers=false and holdApplicationUntilProxyStarts=false', () => {
    const pod = injectPod(load('no-interception'), TEST_CONFIG);
    expect(pod.spec.initContainers?.map((c) => c.name)).toEqual(['istio-proxy']);
    expect(pod.spec.containers[0]?.readinessProbe).toEqual({ httpGet: { path: '/ready', port: 8080 } });
    expect(proxyOf(pod)?.startupProbe).toBeUndefined();
    expect(proxyOf(pod)?.args).toContain('--interception-mode=NONE');
  });

  it('passes sidecar.istio.io/logLevel to skein-proxy and refuses an unknown level', () => {
    const pod = load('basic');
    pod.metadata = { ...pod.metadata, annotations: { 'sidecar.istio.io/logLevel': 'debug' } };
    expect(proxyOf(injectPod(pod, TEST_CONFIG))?.args).toContain('--proxy-arg=--log-level=debug');
    pod.metadata.annotations = { 'sidecar.istio.io/logLevel': 'loud' };
    expect(() => injectPod(pod, TEST_CONFIG)).toThrow(/sidecar.istio.io\/logLevel: want one of trace, debug/);
  });

  it('refuses a malformed proxy.istio.io/config with the annotation and the field', () => {
    const pod = load('basic');
    pod.metadata = {
      ...pod.metadata,
      annotations: { 'proxy.istio.io/config': 'terminationDrainDuration: soon' },
    };
    expect(() => injectPod(pod, TEST_CONFIG)).toThrow(/proxy.istio.io\/config: terminationDrainDuration/);
  });

  it('adds user volumes and mounts, another image, the readiness timing and the concurrency', () => {
    const pod = injectPod(load('sidecar-annotations'), TEST_CONFIG);
    const proxy = proxyOf(pod);
    expect(pod.spec.volumes?.find((v) => v['name'] === 'lua-libs')).toEqual({
      name: 'lua-libs',
      configMap: { name: 'lua-libs' },
    });
    expect(proxy?.['volumeMounts']).toContainEqual({
      name: 'lua-libs',
      mountPath: '/var/lib/lua',
      readOnly: true,
    });
    expect([proxy?.image, initOf(pod)?.image]).toEqual([
      'registry.local/skein/proxy:canary',
      'registry.local/skein/proxy:canary',
    ]);
    expect(proxy?.readinessProbe).toMatchObject({
      initialDelaySeconds: 1,
      periodSeconds: 10,
      failureThreshold: 30,
    });
    expect(proxy?.args).toContain('--proxy-arg=--concurrency=4');
    const ipt = initOf(pod)?.args as string[];
    expect(ipt.slice(ipt.indexOf('-k'), ipt.indexOf('-k') + 2)).toEqual(['-k', 'k6t-eth0']);
    expect(ipt.slice(ipt.indexOf('-c'), ipt.indexOf('-c') + 2)).toEqual(['-c', 'net1']);
    // Without the annotations: the configured image, Istio's readiness defaults, no concurrency flag.
    const plain = proxyOf(injectPod(load('basic'), TEST_CONFIG));
    expect(plain?.image).toBe('skein/proxy:test');
    expect(plain?.readinessProbe).toMatchObject({ periodSeconds: 2, failureThreshold: 4 });
    expect((plain?.args as string[]).some((a) => a.includes('--concurrency'))).toBe(false);
  });

  it('in TPROXY mode runs the proxy as root with NET_ADMIN and GID 1337, and tells the agent', () => {
    const pod = load('basic');
    pod.metadata = { ...pod.metadata, annotations: { 'sidecar.istio.io/interceptionMode': 'TPROXY' } };
    const out = injectPod(pod, TEST_CONFIG);
    const ipt = initOf(out)?.args as string[];
    expect(ipt[ipt.indexOf('-m') + 1]).toBe('TPROXY');
    const proxy = proxyOf(out);
    expect(proxy?.args).toContain('--interception-mode=TPROXY');
    expect(proxy?.['securityContext']).toEqual({
      runAsUser: 0,
      runAsGroup: 1337,
      runAsNonRoot: false,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'], add: ['NET_ADMIN'] },
    });
    // REDIRECT (the default): UID 1337, no capability, no flag.
    const plain = proxyOf(injectPod(load('basic'), TEST_CONFIG));
    expect(plain?.['securityContext']).toMatchObject({ runAsUser: 1337, capabilities: { drop: ['ALL'] } });
    expect((plain?.args as string[]).some((a) => a.startsWith('--interception-mode'))).toBe(false);
  });

  it('refuses malformed sidecar annotations with the annotation and the reason', () => {
    const refuse = (annotations: Record<string, string>, why: RegExp) => {
      const pod = load('basic');
      pod.metadata = { ...pod.metadata, annotations };
      expect(() => injectPod(pod, TEST_CONFIG)).toThrow(why);
    };
    refuse({ 'sidecar.istio.io/userVolume': '{oops' }, /sidecar.istio.io\/userVolume: not JSON/);
    refuse(
      { 'sidecar.istio.io/userVolume': '[{"configMap":{}}]' },
      /userVolume: entry 0: want an object with a name/,
    );
    refuse(
      { 'sidecar.istio.io/userVolumeMount': '{"missing":{"mountPath":"/x"}}' },
      /userVolumeMount: missing: no such volume/,
    );
    refuse(
      { 'sidecar.istio.io/userVolumeMount': '[{"name":"istio-envoy"}]' },
      /istio-envoy: mountPath is required/,
    );
    refuse(
      { 'sidecar.istio.io/userVolume': '{"istio-token":{"emptyDir":{}}}' },
      /istio-token: the pod already has this volume/,
    );
    refuse(
      { 'readiness.status.sidecar.istio.io/periodSeconds': '0' },
      /periodSeconds: want a whole number ≥ 1/,
    );
    refuse(
      { 'proxy.istio.io/config': 'concurrency: two' },
      /proxy.istio.io\/config: concurrency: want a whole number/,
    );
  });

  it('names the workload from the owner: Deployment (ReplicaSet minus the hash), Job, bare pod', () => {
    expect(workloadNameOf(load('basic'))).toBe('echo-v1');
    expect(
      workloadNameOf({
        metadata: {
          generateName: 'caller-',
          ownerReferences: [{ kind: 'Job', name: 'caller', controller: true }],
        },
        spec: { containers: [] },
      }),
    ).toBe('caller');
    expect(workloadNameOf({ metadata: { generateName: 'x-' }, spec: { containers: [] } })).toBe('x');
  });
});
