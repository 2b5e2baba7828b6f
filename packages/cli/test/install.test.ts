// skeinctl install / uninstall as a user runs them (bin/skeinctl), against a real kube-apiserver,
// etcd and kube-controller-manager (the e2e package's fixture; no kubelet or scheduler, so pods
// stay Pending): the CRDs Established, skeind's Deployment with the given images, the webhook
// configurations; a re-install changes nothing (resourceVersions equal), keeps the validator's
// failurePolicy Fail, and an image change is an upgrade; --dry-run applies nothing; the rollout
// wait times out with the Deployment's conditions and pod states; forbidden and unreachable API
// servers are reported as such; uninstall removes the control plane and only with --purge the
// namespace and the CRDs. The checks read the cluster with the real kubectl.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { apiServerBinaries, apiServerUnavailable, startApiServer, type ApiServer } from '@skein/ca/testing';

const bin = join(import.meta.dirname, '../../../bin/skeinctl');
const kubectlBin = apiServerBinaries().kubectl;
const unavailable = apiServerUnavailable(undefined, { controllerManager: true, kubectl: true });

interface Run {
  code: number | null;
  out: string;
  err: string;
}

function run(cmd: string, args: string[], stdin = ''): Promise<Run> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, KUBECONFIG: '' } });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('exit', (code) => resolve({ code, out, err }));
    p.stdin.end(stdin);
  });
}

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const CRD_COUNT = 12;
const IMAGES = [
  '--skeind-image',
  'registry.example/skein/skeind:t1',
  '--proxy-image',
  'registry.example/skein/proxy:t1',
];

describe.skipIf(unavailable !== '')(
  `skeinctl install / uninstall against a real kube-apiserver${unavailable ? ` — skipped: ${unavailable}` : ''}`,
  () => {
    let api: ApiServer;
    let dir: string;
    let kubeconfig: string;
    const skeinctl = (...args: string[]): Promise<Run> => run(bin, args);
    /** An install with a new skeind image (the upgrade the later tests start from). */
    const UPGRADE = (): string[] => [
      'install',
      '--kubeconfig',
      kubeconfig,
      '--skeind-image',
      'registry.example/skein/skeind:t2',
      '--proxy-image',
      'registry.example/skein/proxy:t1',
    ];
    const kubectl = (args: string[], stdin?: string): Promise<Run> =>
      run(kubectlBin, ['--kubeconfig', kubeconfig, ...args], stdin);
    const getJson = async (...args: string[]): Promise<Obj | undefined> => {
      const r = await kubectl(['get', ...args, '-o', 'json', '--ignore-not-found']);
      expect(r.code, r.err).toBe(0);
      return r.out.trim() === '' ? undefined : (JSON.parse(r.out) as Obj);
    };
    /** resourceVersion of every object install manages, by kind/name. */
    const versions = async (): Promise<Record<string, string>> => {
      const out: Record<string, string> = {};
      for (const [kind, ns] of [
        ['crd', ''],
        ['namespace', ''],
        ['clusterrole,clusterrolebinding', ''],
        ['mutatingwebhookconfiguration,validatingwebhookconfiguration', ''],
        ['deployment,service,serviceaccount,role,rolebinding', 'skein-system'],
      ] as const) {
        const list = await getJson(kind, ...(ns ? ['-n', ns] : []));
        for (const item of (list?.['items'] ?? []) as Obj[]) {
          const name = `${item['kind']}/${item['metadata']['name']}`;
          if (
            /^(Namespace\/(default|kube-.*)|Cluster.*\/system:.*|Cluster.*\/(admin|edit|view|cluster-admin))$/.test(
              name,
            )
          )
            continue;
          out[name] = item['metadata']['resourceVersion'];
        }
      }
      return out;
    };

    beforeAll(async () => {
      api = await startApiServer({ controllerManager: true });
      dir = mkdtempSync(join(tmpdir(), 'skein-install-test-'));
      // a kubeconfig whose current context is a dead server, and whose `fixture` context is live
      const cfg = parse(readFileSync(api.kubeconfigPath, 'utf8')) as Obj;
      cfg['clusters'].push({ name: 'dead', cluster: { server: 'https://127.0.0.1:1' } });
      cfg['contexts'].push({ name: 'dead', context: { cluster: 'dead', user: 'admin' } });
      cfg['current-context'] = 'dead';
      writeFileSync(join(dir, 'two-contexts'), JSON.stringify(cfg));
      kubeconfig = api.kubeconfigPath;
    });
    afterAll(async () => {
      await api?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('--dry-run prints every object with the images set, and applies nothing', async () => {
      const r = await skeinctl('install', '--dry-run', '--kubeconfig', kubeconfig, ...IMAGES);
      expect(r.code, r.err).toBe(0);
      const objs = parseAllDocuments(r.out).map((d) => d.toJS() as Obj);
      expect(objs.filter((o) => o['kind'] === 'CustomResourceDefinition')).toHaveLength(CRD_COUNT);
      const d = objs.find((o) => o['kind'] === 'Deployment');
      expect(d?.['spec']['template']['spec']['containers'][0]['image']).toBe(
        'registry.example/skein/skeind:t1',
      );
      expect(d?.['spec']['template']['spec']['containers'][0]['args']).toContain(
        '--proxy-image=registry.example/skein/proxy:t1',
      );
      expect(objs.map((o) => o['kind']).slice(-2)).toEqual([
        'MutatingWebhookConfiguration',
        'ValidatingWebhookConfiguration',
      ]);
      expect(await getJson('crd', 'virtualservices.networking.istio.io')).toBeUndefined();
      expect(await getJson('namespace', 'skein-system')).toBeUndefined();
    });

    it('asks on a terminal and does nothing when the answer is not yes', async () => {
      // util-linux `script` gives skeinctl a pseudo-terminal; the answer comes through it
      const r = await run(
        'script',
        ['-qec', `${bin} install --no-wait --kubeconfig ${kubeconfig}`, '/dev/null'],
        'n\n',
      );
      expect(r.code).toBe(1);
      expect(r.out).toMatch(
        /This installs Skein .* into the cluster https:\/\/127\.0\.0\.1:\d+ \(context fixture\)\. Proceed\? \(y\/N\)/,
      );
      expect(r.out).toContain('error: cancelled');
      expect(await getJson('namespace', 'skein-system')).toBeUndefined();
    });

    it('refuses to proceed without a terminal to confirm on unless -y', async () => {
      const r = await skeinctl('install', '--kubeconfig', kubeconfig, '--no-wait');
      expect(r.code).toBe(1);
      expect(r.err).toContain('pass -y to proceed without confirmation');
      expect(await getJson('namespace', 'skein-system')).toBeUndefined();
    });

    it('installs: CRDs Established, skeind with the given images, the webhook configurations (server-side apply by skeinctl)', async () => {
      const r = await skeinctl('install', '--kubeconfig', kubeconfig, ...IMAGES, '--no-wait', '-y');
      expect(r.code, r.out + r.err).toBe(0);
      expect(r.out).toMatch(
        new RegExp(`✔ ${CRD_COUNT} CustomResourceDefinitions ${CRD_COUNT} created, Established`),
      );
      expect(r.out).toContain('Deployment skein-system/skeind created');
      expect(r.out).toContain('ValidatingWebhookConfiguration skein-validator created');
      expect(r.out).toContain('kubectl label namespace <ns> istio-injection=enabled');
      const crds = ((await getJson('crd'))?.['items'] ?? []) as Obj[];
      const istio = crds.filter((c) => /\.istio\.io$/.test(c['spec']['group']));
      expect(istio).toHaveLength(CRD_COUNT);
      for (const c of istio)
        expect(c['status']['conditions'], c['metadata']['name']).toContainEqual(
          expect.objectContaining({ type: 'Established', status: 'True' }),
        );
      const d = await getJson('deployment', '-n', 'skein-system', 'skeind', '--show-managed-fields');
      const c = d?.['spec']['template']['spec']['containers'][0];
      expect(c['image']).toBe('registry.example/skein/skeind:t1');
      expect(c['args']).toContain('--proxy-image=registry.example/skein/proxy:t1');
      expect(d?.['metadata']['managedFields']).toContainEqual(
        expect.objectContaining({ manager: 'skeinctl', operation: 'Apply' }),
      );
      expect(await getJson('mutatingwebhookconfiguration', 'skein-sidecar-injector')).toBeDefined();
      const v = await getJson('validatingwebhookconfiguration', 'skein-validator');
      expect(v?.['webhooks'][0]['failurePolicy']).toBe('Ignore');
    });

    it('re-installing changes nothing, through --context of a kubeconfig whose current context is elsewhere', async () => {
      const before = await versions();
      expect(Object.keys(before).length).toBeGreaterThan(CRD_COUNT + 8);
      const r = await skeinctl(
        'install',
        '--kubeconfig',
        join(dir, 'two-contexts'),
        '--context',
        'fixture',
        ...IMAGES,
        '--no-wait',
        '-y',
      );
      expect(r.code, r.out + r.err).toBe(0);
      expect(r.out).toContain(`${CRD_COUNT} unchanged`);
      expect(r.out).not.toMatch(/ (created|configured)$/m);
      expect(await versions()).toEqual(before);
    });

    it("keeps the validator's failurePolicy Fail that skeind set, and upgrades skeind's image", async () => {
      // what skeind does once its self-check passes: a PUT (another field manager) to Fail
      const v = await getJson('validatingwebhookconfiguration', 'skein-validator');
      v!['webhooks'][0]['failurePolicy'] = 'Fail';
      const put = await kubectl(['replace', '-f', '-'], JSON.stringify(v));
      expect(put.code, put.err).toBe(0);
      const r = await skeinctl(...UPGRADE(), '--no-wait', '-y');
      expect(r.code, r.out + r.err).toBe(0);
      expect(r.out).toContain('ValidatingWebhookConfiguration skein-validator unchanged');
      expect(r.out).toContain('Deployment skein-system/skeind configured');
      expect(r.out).toContain('Service skein-system/skeind unchanged');
      const after = await getJson('validatingwebhookconfiguration', 'skein-validator');
      expect(after?.['webhooks'][0]['failurePolicy']).toBe('Fail');
      const d = await getJson('deployment', '-n', 'skein-system', 'skeind');
      expect(d?.['spec']['template']['spec']['containers'][0]['image']).toBe(
        'registry.example/skein/skeind:t2',
      );
    });

    it('--restart rolls the pod template once; a later install keeps its annotation', async () => {
      const r = await skeinctl(...UPGRADE(), '--restart', '--no-wait', '-y');
      expect(r.code, r.out + r.err).toBe(0);
      expect(r.out).toContain('Deployment skein-system/skeind configured');
      const d = await getJson('deployment', '-n', 'skein-system', 'skeind');
      const stamp = d?.['spec']['template']['metadata']['annotations']['kubectl.kubernetes.io/restartedAt'];
      expect(stamp).toMatch(/^\d{4}-\d\d-\d\dT/);
      const again = await skeinctl(...UPGRADE(), '--no-wait', '-y');
      expect(again.code, again.out + again.err).toBe(0);
      expect(again.out).toContain('Deployment skein-system/skeind unchanged');
    });

    it("times out waiting for skeind's rollout, naming the Deployment's conditions and its pods' state", async () => {
      const r = await skeinctl(...UPGRADE(), '--timeout', '6s', '-y');
      expect(r.code).toBe(1);
      expect(r.out).toContain('… waiting for Deployment skein-system/skeind to be available');
      expect(r.err).toContain(
        'timed out after 6s waiting for Deployment skein-system/skeind to be available',
      );
      expect(r.err).toMatch(/condition Available=False \(MinimumReplicasUnavailable\)/);
      // no scheduler in the fixture: the pod exists and is Pending
      expect(r.err).toMatch(/pod skeind-[a-z0-9]+-[a-z0-9]+: Pending; not scheduled yet/);
    });

    it('reports a forbidden user with the API server message and what install needs', async () => {
      await kubectl(['create', 'serviceaccount', 'limited', '-n', 'default']);
      const token = await kubectl(['create', 'token', 'limited', '-n', 'default']);
      expect(token.code, token.err).toBe(0);
      const cfg = parse(readFileSync(kubeconfig, 'utf8')) as Obj;
      cfg['users'][0]['user'] = { token: token.out.trim() };
      writeFileSync(join(dir, 'limited'), JSON.stringify(cfg));
      const r = await skeinctl('install', '--kubeconfig', join(dir, 'limited'), '--no-wait', '-y');
      expect(r.code).toBe(1);
      expect(r.err).toMatch(
        /error: get CustomResourceDefinition .*: forbidden: .*"system:serviceaccount:default:limited" cannot get resource "customresourcedefinitions"/,
      );
      expect(r.err).toContain('installing Skein needs cluster-admin');
    });

    it('reports an unreachable API server', async () => {
      const r = await skeinctl('install', '--kubeconfig', join(dir, 'two-contexts'), '--no-wait', '-y');
      expect(r.code).toBe(1);
      expect(r.err).toContain(
        'error: cannot reach the API server at https://127.0.0.1:1 (context dead): ECONNREFUSED',
      );
    });

    it('uninstall removes the webhooks and the control plane, keeping the namespace and the CRDs; twice is fine', async () => {
      const r = await skeinctl('uninstall', '--kubeconfig', kubeconfig, '-y');
      expect(r.code, r.out + r.err).toBe(0);
      expect(r.out).toContain('MutatingWebhookConfiguration skein-sidecar-injector deleted');
      expect(r.out).toContain('Deployment skein-system/skeind deleted');
      expect(r.out).toContain('kept: Namespace skein-system');
      expect(await getJson('mutatingwebhookconfiguration', 'skein-sidecar-injector')).toBeUndefined();
      expect(await getJson('validatingwebhookconfiguration', 'skein-validator')).toBeUndefined();
      expect(await getJson('deployment', '-n', 'skein-system', 'skeind')).toBeUndefined();
      // deleted in the foreground: its pods were gone first
      expect((await getJson('pods', '-n', 'skein-system', '-l', 'app=skeind'))?.['items'] ?? []).toEqual([]);
      expect(await getJson('clusterrole', 'skeind')).toBeUndefined();
      expect(await getJson('clusterrolebinding', 'skeind')).toBeUndefined();
      expect(await getJson('serviceaccount', '-n', 'skein-system', 'skeind')).toBeUndefined();
      expect(await getJson('namespace', 'skein-system')).toBeDefined();
      expect(await getJson('crd', 'virtualservices.networking.istio.io')).toBeDefined();
      const again = await skeinctl('uninstall', '--kubeconfig', kubeconfig, '-y');
      expect(again.code, again.out + again.err).toBe(0);
      expect(again.out).toContain('Deployment skein-system/skeind not found');
    });

    it('uninstall --purge also removes the namespace and the CRDs with the mesh configuration in them', async () => {
      const vs = {
        apiVersion: 'networking.istio.io/v1',
        kind: 'VirtualService',
        metadata: { name: 'leftover', namespace: 'default' },
        spec: { hosts: ['leftover'], http: [{ route: [{ destination: { host: 'leftover' } }] }] },
      };
      const created = await kubectl(['apply', '-f', '-'], JSON.stringify(vs));
      expect(created.code, created.err).toBe(0);
      const r = await skeinctl('uninstall', '--purge', '--kubeconfig', kubeconfig, '-y');
      expect(r.code, r.out + r.err).toBe(0);
      expect(r.out).toContain('Namespace skein-system deleted');
      expect(r.out).toContain('CustomResourceDefinition virtualservices.networking.istio.io deleted');
      expect(await getJson('namespace', 'skein-system')).toBeUndefined();
      const crds = ((await getJson('crd'))?.['items'] ?? []) as Obj[];
      expect(crds.filter((c) => /\.istio\.io$/.test(c['spec']['group']))).toEqual([]);
      // kube-controller-manager empties a namespace in ~7 s here; on a loaded CI machine more
      // than the default 30 s was seen. skeinctl's own --timeout (5 min) is the bound under test.
    }, 180_000);
  },
);
