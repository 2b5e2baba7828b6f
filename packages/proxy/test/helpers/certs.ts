// Test certificates made with Debian's openssl: a root CA and workload leaves whose only URI SAN
// is a SPIFFE identity, in a temp directory the caller removes.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function hasOpenssl(): boolean {
  return spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0;
}

export interface Leaf {
  cert: string;
  key: string;
}

export interface TestPki {
  ca: string;
  /** A leaf with a URI SAN (spiffe, when not empty) and DNS SANs; EC P-256 unless `rsa`. */
  leaf(spiffe: string, opts?: { dns?: string[]; rsa?: boolean }): Leaf;
  cleanup(): void;
}

export function makePki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'skein-proxy-pki-'));
  const ossl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  ossl(
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-subj',
    '/O=skein-test/CN=root',
    '-days',
    '1',
  );
  let n = 0;
  return {
    ca: readFileSync(join(dir, 'ca.crt'), 'utf8'),
    leaf(spiffe, opts = {}) {
      n++;
      const sans = [...(spiffe ? [`URI:${spiffe}`] : []), ...(opts.dns ?? []).map((d) => `DNS:${d}`)];
      writeFileSync(
        join(dir, `ext${n}`),
        `subjectAltName=${sans.join(',')}\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\n`,
      );
      const keyArgs = opts.rsa ? ['rsa:2048'] : ['ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
      ossl(
        'req',
        '-newkey',
        ...keyArgs,
        '-nodes',
        '-keyout',
        `l${n}.key`,
        '-out',
        `l${n}.csr`,
        '-subj',
        '/O=skein-test',
      );
      ossl(
        'x509',
        '-req',
        '-in',
        `l${n}.csr`,
        '-CA',
        'ca.crt',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-out',
        `l${n}.crt`,
        '-days',
        '1',
        '-extfile',
        `ext${n}`,
      );
      return {
        cert: readFileSync(join(dir, `l${n}.crt`), 'utf8'),
        key: readFileSync(join(dir, `l${n}.key`), 'utf8'),
      };
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
