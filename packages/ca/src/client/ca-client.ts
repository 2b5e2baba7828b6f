// The CSR client workloads use: sends a CSR to IstioCertificateService over TLS, authenticated by
// a bearer token (first certificate) or the current mesh certificate (renewal).
import * as grpc from '@grpc/grpc-js';
import { caServiceDefinition, istioCaV1, messageFromJson } from '@skein/api-types';

export interface CaClientOptions {
  /** host:port of the CA (15012). */
  address: string;
  /** PEM of the mesh root that signs the CA's serving certificate. */
  rootCertPem: string;
  /** TLS server name to verify (default: the host of `address`). */
  serverName?: string;
  /** Returns the bearer token to send (service-account or bootstrap token), read per call. */
  token?: () => Promise<string | undefined> | string | undefined;
  /** Returns the current mesh key and certificate chain, presented as the TLS client certificate. */
  clientCertificate?: () => { keyPem: string; certChainPem: string } | undefined;
  /** Kubernetes cluster id sent as `ClusterID` metadata. */
  clusterId?: string;
}

const Client = grpc.makeGenericClientConstructor(caServiceDefinition, 'IstioCertificateService');

/** Requests a certificate chain ([leaf, ...intermediates, root]) for a CSR. */
export async function requestCertificate(
  o: CaClientOptions,
  csrPem: string,
  ttlSeconds: number,
): Promise<string[]> {
  const cert = o.clientCertificate?.();
  const creds = grpc.credentials.createSsl(
    Buffer.from(o.rootCertPem),
    cert ? Buffer.from(cert.keyPem) : null,
    cert ? Buffer.from(cert.certChainPem) : null,
  );
  const options: grpc.ChannelOptions = o.serverName ? { 'grpc.ssl_target_name_override': o.serverName } : {};
  const client = new Client(o.address, creds, options);
  const md = new grpc.Metadata();
  const token = await o.token?.();
  if (token) md.set('authorization', `Bearer ${token}`);
  if (o.clusterId) md.set('clusterid', o.clusterId);
  const req = messageFromJson(istioCaV1.IstioCertificateRequestSchema, {
    csr: csrPem,
    validityDuration: String(ttlSeconds),
  });
  try {
    return await new Promise<string[]>((resolve, reject) => {
      client.makeUnaryRequest(
        '/istio.v1.auth.IstioCertificateService/CreateCertificate',
        (m: istioCaV1.IstioCertificateRequest) =>
          caServiceDefinition['createCertificate']!.requestSerialize(m),
        (b: Buffer) =>
          caServiceDefinition['createCertificate']!.responseDeserialize(
            b,
          ) as istioCaV1.IstioCertificateResponse,
        req,
        md,
        { deadline: Date.now() + 15_000 },
        (err: grpc.ServiceError | null, res?: istioCaV1.IstioCertificateResponse) =>
          err ? reject(err) : resolve(res?.certChain ?? []),
      );
    });
  } finally {
    client.close();
  }
}
