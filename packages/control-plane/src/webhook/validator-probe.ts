// Whether the API server really calls skeind's validator: a dry-run create (nothing is stored) of
// a VirtualService that is invalid (a route without a destination host) must come back refused by
// the validation webhook. Accepted means the webhook is not called (not registered yet, or its
// caBundle not in effect yet, with `failurePolicy: Ignore`); any other answer means not ready.
import type { KubeApi } from '@skein/ca';

const PROBE = {
  apiVersion: 'networking.istio.io/v1',
  kind: 'VirtualService',
  metadata: { name: 'skein-validation-probe', namespace: 'default' },
  spec: { hosts: ['skein-validation-probe'], http: [{ route: [{ destination: { host: '' } }] }] },
};

export async function validatorAnswers(kube: KubeApi): Promise<boolean> {
  try {
    const r = await kube.call<{ message?: string }>(
      'POST',
      '/apis/networking.istio.io/v1/namespaces/default/virtualservices?dryRun=All',
      PROBE,
    );
    return (
      r.status >= 400 &&
      r.status < 500 &&
      /admission webhook .* denied the request/.test(r.body.message ?? '')
    );
  } catch {
    return false;
  }
}
