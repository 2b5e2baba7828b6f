// What a VirtualService change pushes: route configurations and VHDS only for a mesh VS with
// HTTP routes; listeners too when it has tcp / tls routes or binds gateways.
import { TypeUrl } from '@skein/api-types';
import { describe, expect, it } from 'vitest';
import { objectsFromYaml } from '../../test/support/translate.js';
import { configKey } from '../ingest/config-store.js';
import { DEFAULT_MESH_CONFIG } from '../model/mesh-config.js';
import { buildSnapshot } from '../model/snapshot.js';
import { VIRTUAL_HOST_TYPE } from '../translate/vhds.js';
import { pushRequestFor } from './change-impact.js';

const vs = (extra: string): string => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: a, namespace: one }
spec:
  hosts: [a.one.svc.cluster.local]
${extra}`;

const typesFor = (yaml: string): readonly string[] | undefined => {
  const [o] = objectsFromYaml(yaml);
  if (!o) throw new Error('no object');
  const snap = buildSnapshot({ version: '1', mesh: DEFAULT_MESH_CONFIG, objects: [o] });
  return pushRequestFor({ changed: [configKey(o)], before: new Map() }, () => o, [snap], 0).types;
};

describe('pushRequestFor (VirtualService)', () => {
  it('pushes RDS and VHDS only for HTTP routes in the mesh', () => {
    const http = '  http: [{ route: [{ destination: { host: a.one.svc.cluster.local } }] }]\n';
    expect(typesFor(vs(http))).toEqual([TypeUrl.RouteConfiguration, VIRTUAL_HOST_TYPE]);
    expect(typesFor(vs(`  gateways: [mesh]\n${http}`))).toEqual([
      TypeUrl.RouteConfiguration,
      VIRTUAL_HOST_TYPE,
    ]);
  });

  it('pushes listeners too for tcp routes or a gateway binding', () => {
    const all = [TypeUrl.Listener, TypeUrl.RouteConfiguration, VIRTUAL_HOST_TYPE];
    expect(
      typesFor(vs('  tcp: [{ route: [{ destination: { host: a.one.svc.cluster.local } }] }]\n')),
    ).toEqual(all);
    expect(
      typesFor(
        vs('  gateways: [gw]\n  http: [{ route: [{ destination: { host: a.one.svc.cluster.local } }] }]\n'),
      ),
    ).toEqual(all);
  });
});
