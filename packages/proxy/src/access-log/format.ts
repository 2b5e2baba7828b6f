// Envoy access log formatting: %COMMAND% format strings and JSON formats over a StreamInfo.
import { formatFlags, type StreamInfo } from '../http-connection-manager/stream-info.js';

export const DEFAULT_FORMAT =
  '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% ' +
  '%BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" ' +
  '"%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%"\n';

function header(info: StreamInfo, spec: string, from: 'req' | 'resp' | 'trailer'): string | undefined {
  for (const alt of spec.split('?')) {
    const n = alt.toLowerCase();
    let v: string | undefined;
    if (from === 'req') {
      if (n === ':method') v = info.method;
      else if (n === ':path') v = info.path;
      else if (n === ':authority') v = info.authority;
      else v = info.requestHeaders[n];
    } else if (from === 'resp') v = n === ':status' ? String(info.responseCode) : info.responseHeaders[n];
    else v = info.responseTrailers[n];
    if (v !== undefined) return v;
  }
  return undefined;
}

/** The value of one %COMMAND% (without the percent signs), or undefined for "-". */
export function commandValue(info: StreamInfo, command: string): string | number | undefined {
  const m = /^(REQ|RESP|TRAILER)\((.+?)\)(?::(\d+))?$/.exec(command);
  if (m) {
    const v = header(info, m[2] ?? '', m[1] === 'REQ' ? 'req' : m[1] === 'RESP' ? 'resp' : 'trailer');
    return v !== undefined && m[3] ? v.slice(0, Number(m[3])) : v;
  }
  const duration = (info.endMs ?? info.startMs) - info.startMs;
  switch (command) {
    case 'START_TIME':
      return info.startTime.toISOString();
    case 'PROTOCOL':
      return info.protocol === 'TCP' ? undefined : info.protocol;
    case 'RESPONSE_CODE':
      return info.responseCode;
    case 'RESPONSE_FLAGS':
      return formatFlags(info.responseFlags);
    case 'BYTES_RECEIVED':
      return info.bytesReceived;
    case 'BYTES_SENT':
      return info.bytesSent;
    case 'DURATION':
      return duration;
    case 'RESPONSE_DURATION':
      return info.upstreamResponseMs !== undefined ? info.upstreamResponseMs - info.startMs : undefined;
    case 'UPSTREAM_HOST':
      return info.upstreamHost;
    case 'UPSTREAM_CLUSTER':
      return info.clusterName;
    case 'ROUTE_NAME':
      return info.routeName;
    case 'DOWNSTREAM_REMOTE_ADDRESS':
      return info.downstreamRemote;
    case 'DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT':
      return info.downstreamRemote.replace(/:\d+$/, '');
    case 'DOWNSTREAM_LOCAL_ADDRESS':
      return info.downstreamLocal;
    case 'UPSTREAM_REQUEST_ATTEMPT_COUNT':
      return info.attempts;
    case 'GRPC_STATUS':
      return info.responseTrailers['grpc-status'] ?? info.responseHeaders['grpc-status'];
    default:
      return undefined;
  }
}

/** Formats an Envoy text format string. */
export function formatText(format: string, info: StreamInfo): string {
  return format.replace(/%([A-Z_]+(?:\([^)]*\))?(?::\d+)?)%/g, (_, cmd: string) => {
    const v = commandValue(info, cmd);
    return v === undefined || v === '' ? '-' : String(v);
  });
}

/** Formats an Envoy JSON format (values are format strings; a lone %COMMAND% keeps its type). */
export function formatJson(format: Record<string, unknown>, info: StreamInfo): string {
  const render = (v: unknown): unknown => {
    if (typeof v === 'string') {
      const whole = /^%([A-Z_]+(?:\([^)]*\))?(?::\d+)?)%$/.exec(v);
      if (whole?.[1]) return commandValue(info, whole[1]) ?? null;
      return formatText(v, info);
    }
    if (v && typeof v === 'object')
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, render(x)]));
    return v;
  };
  return JSON.stringify(render(format)) + '\n';
}
