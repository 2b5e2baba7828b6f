// Clusters waiting for the SDS secrets their transport sockets name (the cluster manager and one
// cluster, no sockets): static ones are in place but warming, CDS ones hidden until warm; a secret
// arriving, its wait running out (shared by later clusters) or its removal by the server before
// it was ever sent ends the wait; active health checks start only once the secrets are in.
import { afterEach, describe, expect, it } from 'vitest';
import type { clusterV3 } from '@skein/api-types';
import { ClusterManager } from './cluster-manager.js';
import { UpstreamCluster } from './upstream-cluster.js';
import { SecretStore } from '../transport-socket/secret-store.js';
import type { ProbeFactory } from './health-checker.js';

const TLS = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';
const sds = { apiConfigSource: { grpcServices: [{ envoyGrpc: { clusterName: 'sds-grpc' } }] } };

function cluster(name: string, extra: Partial<clusterV3.ClusterJson> = {}): clusterV3.ClusterJson {
  return {
    name,
    type: 'STATIC',
    loadAssignment: {
      clusterName: name,
      endpoints: [
        {
          lbEndpoints: [{ endpoint: { address: { socketAddress: { address: '127.0.0.1', portValue: 1 } } } }],
        },
      ],
    },
    transportSocket: {
      name: 'envoy.transport_sockets.tls',
      typedConfig: {
        '@type': TLS,
        commonTlsContext: {
          tlsCertificateSdsSecretConfigs: [{ name: 'default', sdsConfig: sds }],
          combinedValidationContext: {
            defaultValidationContext: {},
            validationContextSdsSecretConfig: { name: 'ROOTCA', sdsConfig: sds },
          },
        },
      },
    },
    ...extra,
  } as clusterV3.ClusterJson;
}

// Contents do not matter here: the TLS context is built only when a connection asks for it.
const secret = {
  tlsCertificate: { certificateChain: { inlineString: 'x' }, privateKey: { inlineString: 'y' } },
};
const root = { validationContext: { trustedCa: { inlineString: 'z' } } };

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

function manager(secrets: SecretStore, warmed: string[]): ClusterManager {
  const m = new ClusterManager(
    { onEject: () => {}, onConnect: () => {}, onWarm: (n) => warmed.push(n) },
    secrets,
  );
  closers.push(() => m.close());
  return m;
}

describe('clusters warm until their SDS secrets', () => {
  it('a static cluster is in place but warming until both its secrets are in', () => {
    const secrets = new SecretStore();
    const warmed: string[] = [];
    const m = manager(secrets, warmed);
    m.addStatic(cluster('a'));
    expect(m.get('a')).toBeDefined();
    expect(m.warming()).toEqual(['a']);
    secrets.set('default', secret);
    expect(m.warming()).toEqual(['a']);
    secrets.set('ROOTCA', root);
    expect(m.warming()).toEqual([]);
    expect(warmed).toEqual(['a']);
    // A rotation later: no re-warm, no second notification.
    secrets.set('default', { ...secret, name: 'rotated' });
    expect(m.warming()).toEqual([]);
    expect(warmed).toEqual(['a']);
  });

  it('a CDS cluster is hidden until its wait ends; the wait running out is shared by later clusters', () => {
    const secrets = new SecretStore();
    const warmed: string[] = [];
    const m = manager(secrets, warmed);
    secrets.set('ROOTCA', root);
    m.setDynamic([cluster('b')]);
    expect(m.get('b')).toBeUndefined();
    expect(m.warmingCount).toBe(1);
    m.secretWaitOver('default');
    expect(m.get('b')).toBeDefined();
    expect(m.warmingCount).toBe(0);
    expect(warmed).toEqual(['b']);
    // A cluster added later naming the same secret does not wait for it.
    m.setDynamic([cluster('b'), cluster('c')]);
    expect(m.get('c')).toBeDefined();
    expect(m.warming()).toEqual([]);
  });

  it('a secret the server removed before ever sending it ends the wait (delta SDS)', () => {
    const secrets = new SecretStore();
    const m = manager(secrets, []);
    m.setDynamic([cluster('d')]);
    secrets.set('ROOTCA', root);
    expect(m.get('d')).toBeUndefined();
    secrets.removedByServer('default');
    expect(m.get('d')).toBeDefined();
  });

  it('active health checks start only once the secrets are in', async () => {
    const secrets = new SecretStore();
    let secretsIn = false;
    const probed: boolean[] = [];
    let firstProbe: () => void = () => {};
    const probing = new Promise<void>((r) => (firstProbe = r));
    const probes: ProbeFactory = () => () => {
      probed.push(secretsIn);
      firstProbe();
      return Promise.resolve(true);
    };
    const c = new UpstreamCluster(
      cluster('e', { healthChecks: [{ timeout: '1s', interval: '0.01s', tcpHealthCheck: {} }] }),
      { onEject: () => {}, onConnect: () => {} },
      secrets,
      probes,
    );
    closers.push(() => c.close());
    const checkers = (): number => (c as unknown as { healthCheckers: unknown[] }).healthCheckers.length;
    expect(checkers()).toBe(0); // nothing scheduled that could probe without a certificate
    expect(c.warm).toBe(false);
    secretsIn = true;
    secrets.set('default', secret);
    secrets.set('ROOTCA', root);
    c.secretSettled('default');
    c.secretSettled('ROOTCA');
    expect(checkers()).toBe(1);
    await probing;
    expect(probed.every((x) => x)).toBe(true);
  });
});
