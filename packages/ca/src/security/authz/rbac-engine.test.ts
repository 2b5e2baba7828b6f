// The RBAC engine's reading of the action: proto3 JSON omits the default, ALLOW.
import { describe, expect, it } from 'vitest';
import { evaluateRbac } from './rbac-engine.js';

const onlyGet = {
  policies: {
    get: {
      permissions: [{ header: { name: ':method', stringMatch: { exact: 'GET' } } }],
      principals: [{ any: true }],
    },
  },
};
const get = { headers: { ':method': 'GET', ':path': '/' } };
const post = { headers: { ':method': 'POST', ':path': '/' } };

describe('evaluateRbac', () => {
  it('treats a missing action as ALLOW: only what a policy matches passes', () => {
    expect(evaluateRbac(onlyGet as never, get).allowed).toBe(true);
    expect(evaluateRbac(onlyGet as never, post).allowed).toBe(false);
  });
  it('denies what a DENY policy matches', () => {
    expect(evaluateRbac({ ...onlyGet, action: 'DENY' } as never, get).allowed).toBe(false);
    expect(evaluateRbac({ ...onlyGet, action: 'DENY' } as never, post).allowed).toBe(true);
  });
  it('never blocks for LOG (audit)', () => {
    expect(evaluateRbac({ ...onlyGet, action: 'LOG' } as never, post).allowed).toBe(true);
  });
});
