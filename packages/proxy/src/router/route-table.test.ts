import { describe, expect, it } from 'vitest';
import { compileRouteTable, type RequestView } from './route-table.js';

function view(host: string, path: string, headers: Record<string, string> = {}): RequestView {
  return { host, path, method: 'GET', header: (n) => headers[n] };
}

const table = compileRouteTable({
  virtualHosts: [
    {
      name: 'q',
      domains: ['q.example'],
      routes: [
        { name: 'v2', match: { prefix: '/', queryParameters: [{ name: 'v', stringMatch: { exact: '2' } }] } },
        { name: 'other', match: { prefix: '/a' } },
      ],
    },
    { name: 'wild', domains: ['*.example', 'api.*'], routes: [{ name: 'w', match: { path: '/w' } }] },
    { name: 'any', domains: ['*'], routes: [{ name: 'root', match: { prefix: '/r' } }] },
  ],
});

describe('route table', () => {
  it('matches query parameters, parsed from the path, in the virtual hosts that have them', () => {
    expect(table.match(view('q.example', '/x?v=2')).route?.route.name).toBe('v2');
    expect(table.match(view('q.example', '/a?v=3')).route?.route.name).toBe('other');
    expect(table.match(view('q.example', '/x?v=3')).route).toBeUndefined();
    expect(table.match(view('q.example', '/x?v=3')).vhost?.vhost.name).toBe('q');
  });

  it('selects virtual hosts by exact, suffix and prefix domains, with or without a port', () => {
    expect(table.match(view('Q.EXAMPLE:8080', '/a')).route?.route.name).toBe('other');
    expect(table.match(view('b.example', '/w')).route?.route.name).toBe('w');
    expect(table.match(view('api.local', '/w')).route?.route.name).toBe('w');
    expect(table.match(view('elsewhere', '/r/1')).route?.route.name).toBe('root');
    expect(table.match(view('elsewhere', '/w')).vhost?.vhost.name).toBe('any');
  });

  it('returns the same result object for every request a route matches', () => {
    const a = table.match(view('elsewhere', '/r/1'));
    const b = table.match(view('other', '/r/2'));
    expect(a).toBe(b);
    expect(Object.isFrozen(a)).toBe(true);
  });

  it('has no virtual host for a domain nothing matches when there is no "*"', () => {
    const t = compileRouteTable({ virtualHosts: [{ name: 'x', domains: ['x'], routes: [] }] });
    expect(t.match(view('y', '/'))).toEqual({});
  });
});
