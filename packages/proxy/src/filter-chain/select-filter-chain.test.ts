// Filter chain selection by Envoy's criteria order and specificity.
import { describe, expect, it } from 'vitest';
import { selectFilterChain, type ConnectionFacts } from './select-filter-chain.js';

const facts = (o: Partial<ConnectionFacts> = {}): ConnectionFacts => ({
  destinationIp: '10.0.0.5',
  destinationPort: 8080,
  sourceIp: '10.0.0.9',
  sourcePort: 40000,
  serverName: undefined,
  transportProtocol: 'raw_buffer',
  applicationProtocols: [],
  ...o,
});

describe('selectFilterChain', () => {
  const chains = [
    { name: 'any' },
    { name: 'port', filterChainMatch: { destinationPort: 8080 } },
    {
      name: 'port-prefix',
      filterChainMatch: {
        destinationPort: 8080,
        prefixRanges: [{ addressPrefix: '10.0.0.0', prefixLen: 24 }],
      },
    },
    { name: 'tls', filterChainMatch: { destinationPort: 9443, transportProtocol: 'tls' } },
    {
      name: 'sni',
      filterChainMatch: { destinationPort: 9443, transportProtocol: 'tls', serverNames: ['*.example.com'] },
    },
    { name: 'http', filterChainMatch: { destinationPort: 9000, applicationProtocols: ['http/1.1', 'h2c'] } },
    { name: 'raw', filterChainMatch: { destinationPort: 9000 } },
  ];

  it('prefers a port match, then the longest prefix', () => {
    expect(selectFilterChain(chains, facts())?.name).toBe('port-prefix');
    expect(selectFilterChain(chains, facts({ destinationIp: '192.168.1.1' }))?.name).toBe('port');
    expect(selectFilterChain(chains, facts({ destinationPort: 1 }))?.name).toBe('any');
  });

  it('matches server names with wildcards before transport-only chains', () => {
    expect(
      selectFilterChain(
        chains,
        facts({ destinationPort: 9443, transportProtocol: 'tls', serverName: 'a.example.com' }),
      )?.name,
    ).toBe('sni');
    expect(
      selectFilterChain(
        chains,
        facts({ destinationPort: 9443, transportProtocol: 'tls', serverName: 'other.org' }),
      )?.name,
    ).toBe('tls');
  });

  it('uses application protocols from HTTP sniffing', () => {
    expect(
      selectFilterChain(chains, facts({ destinationPort: 9000, applicationProtocols: ['h2c'] }))?.name,
    ).toBe('http');
    expect(selectFilterChain(chains, facts({ destinationPort: 9000 }))?.name).toBe('raw');
  });

  it('falls back to the default chain when nothing matches', () => {
    const only = [{ name: 'p', filterChainMatch: { destinationPort: 1 } }];
    expect(selectFilterChain(only, facts(), { name: 'default' })?.name).toBe('default');
    expect(selectFilterChain(only, facts())).toBeUndefined();
  });
});
