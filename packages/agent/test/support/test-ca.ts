// The CA the agent's integration tests run: skein-ca on a loopback port authenticating callers by
// bootstrap tokens (its directory mode), and a workload certificate from it served over SDS.
import {
  BootstrapTokenAuthenticator,
  CertificateAuthority,
  createRootCa,
  startCa,
  type RunningCa,
} from '@skein/ca';
import { caSigner } from '../../src/sds/ca-signer.js';
import { startSdsServer, type RunningSds } from '../../src/sds/sds-server.js';
import { WorkloadCertificate } from '../../src/sds/workload-certificate.js';

export interface TestCa {
  readonly core: CertificateAuthority;
  readonly ca: RunningCa;
}

/**
 * A new root (trust domain cluster.local) served on 127.0.0.1:0; `tokens` is the bootstrap token
 * file's text (`<token> <namespace> <service account>` per line). No clock-skew allowance, so a
 * certificate's validity is exactly its TTL.
 */
export async function startTestCa(tokens: string): Promise<TestCa> {
  const core = await CertificateAuthority.create(await createRootCa({ trustDomain: 'cluster.local' }), {
    clockSkewSeconds: 0,
  });
  const ca = await startCa({
    ca: core,
    host: '127.0.0.1',
    port: 0,
    authenticators: [BootstrapTokenAuthenticator.parse(tokens, 'cluster.local')],
  });
  return { core, ca };
}

export interface WorkloadSds {
  readonly cert: WorkloadCertificate;
  readonly sds: RunningSds;
  stop(): Promise<void>;
}

/** The agent's certificate for bootstrap token `token` from `ca`, served on `socketPath`. */
export async function startWorkloadSds(o: {
  ca: RunningCa;
  token: string;
  ttlSeconds: number;
  socketPath: string;
}): Promise<WorkloadSds> {
  const cert = new WorkloadCertificate({
    signer: caSigner({ address: `127.0.0.1:${o.ca.port}`, rootCertPem: o.ca.rootCertPem, token: o.token }),
    ttlSeconds: o.ttlSeconds,
  });
  await cert.start();
  const sds = await startSdsServer({ socketPath: o.socketPath, certificate: cert });
  return {
    cert,
    sds,
    stop: async () => {
      cert.stop();
      await sds.close();
    },
  };
}
