// The command line: defaults, short and long forms, choices, the required config path, help.
import { describe, expect, it } from 'vitest';
import { helpText, parseProxyArgs } from './cli-flags.js';

describe('parseProxyArgs', () => {
  it('fills defaults and reads short and long forms', () => {
    expect(parseProxyArgs(['-c', 'b.yaml'])).toEqual({
      kind: 'run',
      flags: {
        configPath: 'b.yaml',
        concurrency: '2',
        logLevel: 'info',
        rejectUnsupported: false,
        deltaXds: false,
      },
    });
    expect(
      parseProxyArgs([
        '--config-path=b.json',
        '--concurrency',
        '1',
        '-l',
        'debug',
        '--reject-unsupported',
        '--delta-xds',
      ]),
    ).toEqual({
      kind: 'run',
      flags: {
        configPath: 'b.json',
        concurrency: '1',
        logLevel: 'debug',
        rejectUnsupported: true,
        deltaXds: true,
      },
    });
  });

  it('refuses a missing config path, an unknown flag and a level outside the choices', () => {
    expect(parseProxyArgs([])).toMatchObject({
      kind: 'error',
      message: expect.stringContaining('--config-path'),
    });
    expect(parseProxyArgs(['-c', 'b', '--nope'])).toMatchObject({
      kind: 'error',
      message: expect.stringContaining('--nope'),
    });
    expect(parseProxyArgs(['-c', 'b', '-l', 'loud'])).toMatchObject({
      kind: 'error',
      message: expect.stringContaining('loud'),
    });
  });

  it('answers --help and --version, and the help lists every flag with its default', () => {
    expect(parseProxyArgs(['--help'])).toEqual({ kind: 'help' });
    expect(parseProxyArgs(['--version'])).toEqual({ kind: 'version' });
    const help = helpText();
    for (const f of [
      '--config-path <file>',
      '--concurrency <n>',
      'default: 2',
      '--log-level',
      'default: info',
      '--reject-unsupported',
      '--delta-xds',
    ])
      expect(help).toContain(f);
  });
});
