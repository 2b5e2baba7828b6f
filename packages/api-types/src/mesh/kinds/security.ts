// security.istio.io PeerAuthentication, AuthorizationPolicy and RequestAuthentication.
import { arr, bool, duration, enumOf, map, obj, str, strings, type Check } from '../schema/dsl.js';
import { selectorField, targetFields } from './common.js';

const MutualTLS = obj(
  'PeerAuthenticationMutualTLS',
  { mode: enumOf(['UNSET', 'DISABLE', 'PERMISSIVE', 'STRICT'], { doc: 'PERMISSIVE by default.' }) },
  { doc: 'Mutual TLS mode.' },
);

export const PeerAuthenticationSpec = obj(
  'PeerAuthenticationSpec',
  {
    ...selectorField,
    mtls: MutualTLS,
    portLevelMtls: map(MutualTLS, {
      doc: 'Per workload port (port number as key).',
      checks: [
        (v, p, report) => {
          for (const k of Object.keys(v as object))
            if (!/^\d+$/.test(k) || Number(k) < 1 || Number(k) > 65535)
              report(`${p}.${k}`, `port ${JSON.stringify(k)} is not a port number`);
        },
      ],
    }),
  },
  {
    checks: [
      (v, p, report) => {
        const s = v as { selector?: unknown; portLevelMtls?: unknown };
        if (s.portLevelMtls && !s.selector) report(p, 'portLevelMtls needs a workload selector');
      },
    ],
    doc: 'Which mTLS mode workloads accept.',
  },
);

const Source = obj('Source', {
  principals: strings('Peer identities ("cluster.local/ns/NS/sa/SA").'),
  notPrincipals: strings(),
  requestPrincipals: strings('JWT "iss/sub" values.'),
  notRequestPrincipals: strings(),
  namespaces: strings('Peer namespaces.'),
  notNamespaces: strings(),
  ipBlocks: strings('Source IPs or CIDRs.'),
  notIpBlocks: strings('Excluded source IPs or CIDRs.'),
  remoteIpBlocks: strings('Original client IPs or CIDRs.'),
  notRemoteIpBlocks: strings('Excluded original client IPs or CIDRs.'),
  serviceAccounts: strings(),
  notServiceAccounts: strings(),
});

const Operation = obj('Operation', {
  hosts: strings(),
  notHosts: strings(),
  ports: strings(),
  notPorts: strings(),
  methods: strings(),
  notMethods: strings(),
  paths: strings(),
  notPaths: strings(),
});

const Condition = obj(
  'Condition',
  {
    key: str({ doc: 'Attribute, e.g. request.headers[x-user] or source.ip.' }),
    values: strings(),
    notValues: strings(),
  },
  { required: ['key'] },
);

const Rule = obj('Rule', {
  from: arr(obj('RuleFrom', { source: Source })),
  to: arr(obj('RuleTo', { operation: Operation })),
  when: arr(Condition),
});

const checkAction: Check = (v, p, report) => {
  const s = v as { action?: string; provider?: unknown };
  if (s.action === 'CUSTOM') {
    if (!s.provider) report(`${p}.provider`, 'action CUSTOM needs a provider');
    report(
      `${p}.action`,
      'action CUSTOM (external authorization) is not supported by Skein; the policy is ignored',
      'warning',
    );
  }
};

export const AuthorizationPolicySpec = obj(
  'AuthorizationPolicySpec',
  {
    ...selectorField,
    ...targetFields,
    rules: arr(Rule),
    action: enumOf(['ALLOW', 'DENY', 'AUDIT', 'CUSTOM'], { doc: 'ALLOW by default.' }),
    provider: obj('ExtensionProvider', { name: str() }),
  },
  { checks: [checkAction], doc: 'Who may call what.' },
);

const JWTHeader = obj('JWTHeader', { name: str(), prefix: str() }, { required: ['name'] });

const JWTRule = obj(
  'JWTRule',
  {
    issuer: str(),
    audiences: strings(),
    jwksUri: str(),
    jwks: str({ doc: 'Inline JSON Web Key Set.' }),
    fromHeaders: arr(JWTHeader),
    fromParams: strings(),
    outputPayloadToHeader: str(),
    fromCookies: strings(),
    forwardOriginalToken: bool(),
    outputClaimToHeaders: arr(
      obj('ClaimToHeader', { header: str(), claim: str() }, { required: ['header', 'claim'] }),
    ),
    timeout: duration('Timeout of fetching the JWKS.'),
  },
  { required: ['issuer'], oneOf: [['jwksUri', 'jwks']] },
);

export const RequestAuthenticationSpec = obj(
  'RequestAuthenticationSpec',
  { ...selectorField, ...targetFields, jwtRules: arr(JWTRule) },
  { doc: 'Which JWTs a workload accepts.' },
);
