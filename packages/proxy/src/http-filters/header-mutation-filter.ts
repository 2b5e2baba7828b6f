// envoy.filters.http.header_mutation, and the header add/remove lists of route configurations,
// virtual hosts, routes and weighted clusters (HeaderValueOption semantics).
import type { HttpFilter } from './http-filter.js';

export interface HeaderValueOptionJson {
  header?: { key?: string; value?: string; rawValue?: string };
  append?: boolean;
  appendAction?: string;
  keepEmptyValue?: boolean;
}

type Headers = Record<string, string | string[]>;

/** Applies HeaderValueOptions; `appendDefault` is the legacy `append` default (true). */
export function applyHeaderOptions(
  headers: Headers,
  opts: readonly HeaderValueOptionJson[] | undefined,
): void {
  if (!opts) return;
  for (const o of opts) {
    const key = (o.header?.key ?? '').toLowerCase();
    if (!key) continue;
    const value =
      o.header?.value ?? (o.header?.rawValue ? Buffer.from(o.header.rawValue, 'base64').toString() : '');
    if (value === '' && !o.keepEmptyValue) continue;
    const action =
      o.appendAction ?? (o.append === false ? 'OVERWRITE_IF_EXISTS_OR_ADD' : 'APPEND_IF_EXISTS_OR_ADD');
    const existing = headers[key];
    switch (action) {
      case 'APPEND_IF_EXISTS_OR_ADD':
        headers[key] = existing === undefined ? value : ([] as string[]).concat(existing, value);
        break;
      case 'ADD_IF_ABSENT':
        if (existing === undefined) headers[key] = value;
        break;
      case 'OVERWRITE_IF_EXISTS':
        if (existing !== undefined) headers[key] = value;
        break;
      default:
        headers[key] = value;
    }
  }
}

export function removeHeaders(headers: Headers, names: readonly string[] | undefined): void {
  if (!names) return;
  for (const n of names) delete headers[n.toLowerCase()];
}

interface Mutation {
  append?: HeaderValueOptionJson;
  remove?: string;
}

export function applyMutations(headers: Headers, mutations: readonly Mutation[] | undefined): void {
  for (const m of mutations ?? []) {
    if (m.remove) delete headers[m.remove.toLowerCase()];
    if (m.append) applyHeaderOptions(headers, [m.append]);
  }
}

export function createHeaderMutationFilter(config: {
  mutations?: { requestMutations?: Mutation[]; responseMutations?: Mutation[] };
}): HttpFilter {
  return {
    name: 'envoy.filters.http.header_mutation',
    onRequest(req) {
      applyMutations(req.headers as Headers, config.mutations?.requestMutations);
      return 'continue';
    },
    onResponse(_req, _status, headers) {
      applyMutations(headers, config.mutations?.responseMutations);
    },
  };
}
