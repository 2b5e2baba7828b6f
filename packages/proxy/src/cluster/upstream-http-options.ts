// A cluster's upstream HTTP protocol limits (Envoy's HttpProtocolOptions.common_http_protocol_options,
// in `typed_extension_protocol_options` as Istio sets them, or the cluster's deprecated field):
// `max_connection_duration` for pooled connections and `max_stream_duration` for each request.
import type { clusterV3 } from '@skein/api-types';
import { durationMs } from '../util/duration.js';

const HTTP_OPTIONS = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';

type Field = 'maxConnectionDuration' | 'maxStreamDuration';

/** The limit in ms, 0 when unset or zero (Envoy: no limit). */
export function upstreamHttpLimitMs(c: clusterV3.ClusterJson, field: Field): number {
  const typed = c.typedExtensionProtocolOptions?.[HTTP_OPTIONS] as
    { commonHttpProtocolOptions?: Partial<Record<Field, string>> } | undefined;
  return (
    durationMs(typed?.commonHttpProtocolOptions?.[field]) ??
    durationMs(c.commonHttpProtocolOptions?.[field]) ??
    0
  );
}
