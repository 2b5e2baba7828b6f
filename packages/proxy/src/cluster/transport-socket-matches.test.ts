import type { endpointV3 } from '@skein/api-types';
import { describe, expect, it } from 'vitest';
import {
  socketIndexByHost,
  socketMatchApplies,
  TRANSPORT_SOCKET_MATCH_KEY,
} from './transport-socket-matches.js';

describe('transport_socket_matches selection', () => {
  it('a match applies when every key is present with an equal value; an empty match takes anything', () => {
    expect(socketMatchApplies({ tlsMode: 'istio' }, { tlsMode: 'istio', other: 1 })).toBe(true);
    expect(socketMatchApplies({ tlsMode: 'istio' }, { tlsMode: 'disabled' })).toBe(false);
    expect(socketMatchApplies({ tlsMode: 'istio' }, undefined)).toBe(false);
    expect(socketMatchApplies({}, undefined)).toBe(true);
    expect(socketMatchApplies(undefined, { a: 'b' })).toBe(true);
  });

  it('gives each endpoint the first match its metadata satisfies, none when nothing matches', () => {
    const ep = (
      address: string,
      md?: Record<string, string>,
    ): NonNullable<
      NonNullable<endpointV3.ClusterLoadAssignmentJson['endpoints']>[number]['lbEndpoints']
    >[number] => ({
      endpoint: { address: { socketAddress: { address, portValue: 80 } } },
      ...(md ? { metadata: { filterMetadata: { [TRANSPORT_SOCKET_MATCH_KEY]: md } } } : {}),
    });
    const cla: endpointV3.ClusterLoadAssignmentJson = {
      endpoints: [
        { lbEndpoints: [ep('10.0.0.1', { tlsMode: 'istio' }), ep('10.0.0.2'), ep('::1', { x: 'y' })] },
      ],
    };
    const istio = [{ match: { tlsMode: 'istio' } }, { match: {} }];
    expect([...socketIndexByHost(istio, cla)]).toEqual([
      ['10.0.0.1:80', 0],
      ['10.0.0.2:80', 1],
      ['[::1]:80', 1],
    ]);
    expect([...socketIndexByHost([{ match: { tlsMode: 'istio' } }], cla)]).toEqual([['10.0.0.1:80', 0]]);
    expect(socketIndexByHost([], cla).size).toBe(0);
  });

  it("tries the locality's metadata when no entry matches the endpoint's (endpoint first)", () => {
    const md = (v: Record<string, string>) => ({ filterMetadata: { [TRANSPORT_SOCKET_MATCH_KEY]: v } });
    const at = (address: string, own?: Record<string, string>) => ({
      endpoint: { address: { socketAddress: { address, portValue: 80 } } },
      ...(own ? { metadata: md(own) } : {}),
    });
    const cla: endpointV3.ClusterLoadAssignmentJson = {
      endpoints: [
        { metadata: md({ tlsMode: 'istio' }), lbEndpoints: [at('10.0.0.1'), at('10.0.0.2', { raw: 'yes' })] },
        { lbEndpoints: [at('10.0.0.3')] },
      ],
    };
    const matches = [{ match: { raw: 'yes' } }, { match: { tlsMode: 'istio' } }];
    expect([...socketIndexByHost(matches, cla)]).toEqual([
      ['10.0.0.1:80', 1],
      ['10.0.0.2:80', 0],
    ]);
  });
});
