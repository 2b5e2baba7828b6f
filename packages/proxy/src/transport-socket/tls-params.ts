// The TLS protocol versions a context allows, from its common_tls_context's tls_params
// (tls_minimum_protocol_version, tls_maximum_protocol_version) in Node's names. Unset or TLS_AUTO
// keeps skein's defaults: at least TLS 1.2, at most what Node offers (TLS 1.3).
import type tls from 'node:tls';
import type { tlsCommonV3 } from '@skein/api-types';

const NODE_VERSION: Readonly<Record<string, tls.SecureVersion>> = {
  TLSv1_0: 'TLSv1',
  TLSv1_1: 'TLSv1.1',
  TLSv1_2: 'TLSv1.2',
  TLSv1_3: 'TLSv1.3',
};
const ORDER: readonly tls.SecureVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

export interface ProtocolRange {
  minVersion: tls.SecureVersion;
  maxVersion?: tls.SecureVersion;
}

/**
 * The version range of `params`; throws (the context is rejected, as Envoy rejects it) when the
 * minimum is above the maximum.
 */
export function protocolRange(params: tlsCommonV3.TlsParametersJson | undefined): ProtocolRange {
  const min = NODE_VERSION[params?.tlsMinimumProtocolVersion ?? ''] ?? 'TLSv1.2';
  const max = NODE_VERSION[params?.tlsMaximumProtocolVersion ?? ''];
  if (max === undefined) return { minVersion: min };
  if (ORDER.indexOf(min) > ORDER.indexOf(max))
    throw new Error(
      `tls_params: tls_minimum_protocol_version ${params?.tlsMinimumProtocolVersion} is above tls_maximum_protocol_version ${params?.tlsMaximumProtocolVersion}`,
    );
  return { minVersion: min, maxVersion: max };
}
