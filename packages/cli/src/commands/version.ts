// skeinctl version: this client's version, and the control plane's and a proxy's when given.
import type { Command } from 'commander';
import { SKEIN_VERSION } from '@skein/api-types';
import { parseOutputFormat, renderData } from '../output/format.js';
import { baseUrl, getJson } from './http.js';

export function registerVersion(program: Command): void {
  program
    .command('version')
    .description(
      'Print the client version, and the control plane and proxy versions when their addresses are given',
    )
    .option('--control-plane <url>', "skeind's debug address (e.g. http://127.0.0.1:15014)")
    .option('--admin <url>', "a proxy's admin address (e.g. http://127.0.0.1:15000)")
    .option('-o, --output <format>', 'table, json or yaml', 'table')
    .action(async (opts: { controlPlane?: string; admin?: string; output: string }) => {
      const format = parseOutputFormat(opts.output);
      const out: Record<string, string> = { client: SKEIN_VERSION };
      const errors: string[] = [];
      if (opts.controlPlane) {
        try {
          const v = (await getJson(`${baseUrl(opts.controlPlane)}/debug/syncz`)) as {
            controlPlaneVersion?: string;
          };
          out.controlPlane = String(v.controlPlaneVersion ?? 'unknown');
        } catch (err) {
          errors.push(`control plane: ${(err as Error).message}`);
        }
      }
      if (opts.admin) {
        try {
          const v = (await getJson(`${baseUrl(opts.admin)}/server_info`)) as { version?: string };
          out.proxy = String(v.version ?? 'unknown').replace(/^skein-proxy\//, '');
        } catch (err) {
          errors.push(`proxy: ${(err as Error).message}`);
        }
      }
      if (format === 'table') {
        process.stdout.write(`client version: ${out.client}\n`);
        if (out.controlPlane) process.stdout.write(`control plane version: ${out.controlPlane}\n`);
        if (out.proxy) process.stdout.write(`proxy version: ${out.proxy}\n`);
      } else process.stdout.write(renderData(out, format));
      for (const e of errors) process.stderr.write(`error: ${e}\n`);
      if (errors.length) process.exitCode = 1;
    });
}
