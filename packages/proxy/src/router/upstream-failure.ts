// What the router answers when its last upstream attempt failed before a response: the local
// reply (status, body, response flag) and the cluster counter Envoy increments for it.
import type { StatsStore } from '../stats/stats-store.js';

export type AttemptFailure = 'connect-failure' | 'reset' | 'refused-stream' | 'timeout';

export interface LocalReply {
  kind: 'local';
  status: number;
  body: string;
  flag?: string;
  headers?: Record<string, string>;
}

/** The local reply for a request whose last attempt failed with `failure` (UT, UF or UC). */
export function failureReply(stats: StatsStore, clusterName: string, failure: AttemptFailure): LocalReply {
  if (failure === 'timeout') {
    stats.inc('cluster.{envoy_cluster_name}.upstream_rq_timeout', { envoy_cluster_name: clusterName });
    return { kind: 'local', status: 504, body: 'upstream request timeout', flag: 'UT' };
  }
  if (failure === 'connect-failure') {
    stats.inc('cluster.{envoy_cluster_name}.upstream_cx_connect_fail', { envoy_cluster_name: clusterName });
    return {
      kind: 'local',
      status: 503,
      body: 'upstream connect error or disconnect/reset before headers. reset reason: connection failure',
      flag: 'UF',
    };
  }
  return {
    kind: 'local',
    status: 503,
    body: 'upstream connect error or disconnect/reset before headers. reset reason: connection termination',
    flag: 'UC',
  };
}
