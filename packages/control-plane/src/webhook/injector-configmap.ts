// Istio's injector ConfigMap (`istio-sidecar-injector` in the control plane's namespace, key
// `config`): `policy`, `neverInjectSelector` and `alwaysInjectSelector` are read and override
// skeind's flags while the ConfigMap exists; templates and `values` are Istio's Helm-rendered
// sidecar and are not used (Skein has one template), which is reported.
import type { KubeApi } from '@skein/ca';
import { parse } from 'yaml';
import type { InjectorConfig } from '../inject/injector-config.js';
import { isRecord } from '../inject/pod-types.js';
import type { LabelSelector } from '../model/namespaces.js';

export type InjectorSettings = Partial<
  Pick<InjectorConfig, 'policy' | 'neverInjectSelector' | 'alwaysInjectSelector'>
>;

function selectors(v: unknown, field: string, problems: string[]): LabelSelector[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || !v.every(isRecord)) {
    problems.push(`${field}: want a list of label selectors`);
    return undefined;
  }
  return v as LabelSelector[];
}

/** The settings in the ConfigMap's `config` text, and what was wrong or ignored. */
export function injectorSettingsFrom(configText: string | undefined): {
  settings: InjectorSettings;
  problems: string[];
} {
  const problems: string[] = [];
  if (configText === undefined || configText.trim() === '') return { settings: {}, problems };
  let doc: unknown;
  try {
    doc = parse(configText);
  } catch (e) {
    return { settings: {}, problems: [`config: ${(e as Error).message}`] };
  }
  if (!isRecord(doc)) return { settings: {}, problems: ['config: must be a mapping'] };
  const settings: { -readonly [K in keyof InjectorSettings]: InjectorSettings[K] } = {};
  const policy = doc['policy'];
  if (policy === 'enabled' || policy === 'disabled') settings.policy = policy;
  else if (policy !== undefined)
    problems.push(`policy: want enabled or disabled, got ${JSON.stringify(policy)}`);
  const never = selectors(doc['neverInjectSelector'], 'neverInjectSelector', problems);
  if (never) settings.neverInjectSelector = never;
  const always = selectors(doc['alwaysInjectSelector'], 'alwaysInjectSelector', problems);
  if (always) settings.alwaysInjectSelector = always;
  for (const k of ['template', 'templates', 'defaultTemplates', 'injectedAnnotations'])
    if (doc[k] !== undefined) problems.push(`${k}: ignored (Skein injects its own sidecar template)`);
  return { settings, problems };
}

/** Reads the ConfigMap now: its settings, or none when it does not exist. */
export async function readInjectorConfigMap(
  kube: KubeApi,
  namespace: string,
  name: string,
): Promise<{ settings: InjectorSettings; problems: string[]; found: boolean }> {
  const r = await kube.call<{ data?: Record<string, string> }>(
    'GET',
    `/api/v1/namespaces/${namespace}/configmaps/${name}`,
  );
  if (r.status === 404) return { settings: {}, problems: [], found: false };
  if (r.status !== 200) throw new Error(`GET configmap ${namespace}/${name}: HTTP ${r.status}`);
  return { ...injectorSettingsFrom(r.body.data?.['config']), found: true };
}
