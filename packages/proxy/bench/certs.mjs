// The certificates of the bench's mTLS pairs, made with openssl in the work directory (nginx reads
// them from there), and the common TLS context a skein side of a pair carries.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A CA and two leaf certificates (client and server SPIFFE identities) made with openssl in `work`.
 * The server's also carries DNS:server.bench, the name the client-side nginx verifies (nginx checks
 * DNS names, skein-proxy the SPIFFE URI).
 */
export function makeCerts(work) {
  const o = (...a) => execFileSync('openssl', a, { cwd: work, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  o('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=bench-ca', '-days', '1');
  const pem = (f) => readFileSync(join(work, f), 'utf8');
  const leaf = (name) => {
    const dns = name === 'server' ? ',DNS:server.bench' : '';
    writeFileSync(
      join(work, `${name}.ext`),
      `subjectAltName=URI:spiffe://cluster.local/ns/bench/sa/${name}${dns}\n`,
    );
    o('req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', '/O=bench');
    const sign = ['-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1'];
    o('x509', '-req', '-in', `${name}.csr`, ...sign, '-out', `${name}.crt`, '-extfile', `${name}.ext`);
    return { cert: pem(`${name}.crt`), key: pem(`${name}.key`) };
  };
  // ca.crt and <name>.crt/.key stay in the work directory for nginx.
  return { ca: pem('ca.crt'), client: leaf('client'), server: leaf('server') };
}

/** A common TLS context presenting `leaf` and accepting only the SPIFFE identity of `peer`. */
export function tlsCommon(leaf, ca, peer) {
  return {
    tls_certificates: [
      { certificate_chain: { inline_string: leaf.cert }, private_key: { inline_string: leaf.key } },
    ],
    validation_context: {
      trusted_ca: { inline_string: ca },
      match_typed_subject_alt_names: [
        { san_type: 'URI', matcher: { exact: `spiffe://cluster.local/ns/bench/sa/${peer}` } },
      ],
    },
  };
}
