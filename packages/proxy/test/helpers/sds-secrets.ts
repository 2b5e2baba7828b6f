// SDS secrets for tests, as a control plane or skein-agent serves them: a workload certificate
// (`default` unless named) and the root of trust (`ROOTCA`), from the test PKI.
import type { Leaf, TestPki } from './certs.js';

/** A TLS certificate secret carrying `leaf` (Istio's name for the workload certificate by default). */
export const certSecret = (leaf: Leaf, name = 'default') => ({
  name,
  tlsCertificate: { certificateChain: { inlineString: leaf.cert }, privateKey: { inlineString: leaf.key } },
});

/** A validation-context secret trusting the test CA. */
export const rootSecret = (pki: TestPki) => ({
  name: 'ROOTCA',
  validationContext: { trustedCa: { inlineString: pki.ca } },
});
