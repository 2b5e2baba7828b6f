// skeind's embedded CA (directory mode) and its TLS port 15012: the CSR service and ADS over TLS
// with a serving certificate issued by the CA itself. The root is created on first start in the
// directory and kept; workloads authenticate with a bootstrap token or their mesh certificate.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import {
  BootstrapTokenAuthenticator,
  CertificateAuthority,
  DEFAULT_SERVING_IDENTITY,
  MeshCertificateAuthenticator,
  caServiceHandlers,
  issueServingCertificate,
  loadOrCreateDirectoryCa,
  servingCredentials,
  type Authenticator,
} from '@skein/ca';
import { caServiceDefinition } from '@skein/api-types';
import type { Logger } from '../log.js';
import { authenticatedXds } from './xds-gate.js';

export interface EmbeddedCaOptions {
  /** Directory holding the root (`self-signed/`) or Istio's plug-in `cacerts` files. */
  readonly dir: string;
  /** Bootstrap tokens: one `<token> <namespace> <service-account>` per line. */
  readonly tokensFile?: string | undefined;
  readonly trustDomain: string;
  /** `host:port` of the TLS port; port 0 picks a free port. */
  readonly address: string;
  /** The ADS service to serve over TLS as well. */
  readonly ads: { definition: grpc.ServiceDefinition; handlers: Record<string, (stream: never) => void> };
  readonly log: Logger;
}

export interface EmbeddedCa {
  /** Bound `host:port`. */
  readonly address: string;
  readonly rootCertPem: string;
  /** Where the root certificate is (for agents' `--ca-root-cert`). */
  readonly rootCertFile: string;
  close(): Promise<void>;
}

export async function startEmbeddedCa(o: EmbeddedCaOptions): Promise<EmbeddedCa> {
  const loaded = await loadOrCreateDirectoryCa(o.dir, { trustDomain: o.trustDomain });
  const ca = await CertificateAuthority.create(loaded.material);
  const authenticators: Authenticator[] = [
    new MeshCertificateAuthenticator(loaded.material.caCertPem, o.trustDomain),
  ];
  if (o.tokensFile)
    authenticators.push(
      BootstrapTokenAuthenticator.parse(await readFile(o.tokensFile, 'utf8'), o.trustDomain),
    );
  const host = o.address.slice(0, o.address.lastIndexOf(':'));
  const serving = await issueServingCertificate(ca, {
    dnsNames: DEFAULT_SERVING_IDENTITY.dnsNames,
    ipAddresses: [
      ...new Set([
        ...(DEFAULT_SERVING_IDENTITY.ipAddresses ?? []),
        ...(/^[\d.]+$/.test(host) && host !== '0.0.0.0' ? [host] : []),
      ]),
    ],
  });
  const server = new grpc.Server();
  const log = o.log;
  server.addService(
    caServiceDefinition,
    caServiceHandlers({
      ca,
      authenticators,
      log: (e) => (e.ok ? log.info('certificate issued', e) : log.warn('certificate refused', e)),
    }),
  );
  const ads: grpc.UntypedServiceImplementation = {};
  for (const [name, h] of Object.entries(o.ads.handlers))
    ads[name] = authenticatedXds(h, authenticators, log);
  server.addService(o.ads.definition, ads);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(o.address, servingCredentials(serving, ca.rootCertPem), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  const rootCertFile =
    loaded.source === 'plugin' ? join(o.dir, 'root-cert.pem') : join(o.dir, 'self-signed', 'root-cert.pem');
  log.info('CA started', {
    root: loaded.source,
    rootCertFile,
    tokens: o.tokensFile,
    address: `${host}:${port}`,
  });
  return {
    address: `${host}:${port}`,
    rootCertPem: ca.rootCertPem,
    rootCertFile,
    close: () =>
      new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 1000);
        server.tryShutdown(() => {
          clearTimeout(t);
          resolve();
        });
      }),
  };
}
