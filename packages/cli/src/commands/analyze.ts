// skeinctl analyze: offline analysis of mesh YAML.
import type { Command } from 'commander';
import { codes } from '../analyze/finding.js';
import { parseOutputFormat, renderData } from '../output/format.js';
import { renderTable } from '../output/table.js';

export function registerAnalyze(program: Command): void {
  program
    .command('analyze')
    .description(
      'Analyze mesh YAML offline: schema errors with field paths and semantic findings. ' +
        'Kubernetes objects in the same files (Services, Deployments, Secrets) stand for the cluster. ' +
        'Exits 1 when errors are found; warnings alone exit 0.',
    )
    .requiredOption('-f, --file <paths...>', 'YAML files or directories to analyze')
    .option('-o, --output <format>', 'table, json or yaml', 'table')
    .option('--domain-suffix <suffix>', 'DNS suffix of Kubernetes services', 'svc.cluster.local')
    .option('--list-codes', 'print the codes analyze can report and exit')
    .action(async (opts: { file: string[]; output: string; domainSuffix: string; listCodes?: boolean }) => {
      const format = parseOutputFormat(opts.output);
      if (opts.listCodes) {
        const rows = Object.entries(codes).map(([c, v]) => [c, v.severity, v.name, v.meaning]);
        process.stdout.write(
          format === 'table'
            ? renderTable(['CODE', 'SEVERITY', 'NAME', 'MEANING'], rows)
            : renderData(codes, format),
        );
        return;
      }
      // The analyzers (some use skeind's translation) load when needed, not for --help.
      const [{ analyzeSources }, { loadSources }] = await Promise.all([
        import('../analyze/analyze.js'),
        import('../analyze/load.js'),
      ]);
      const findings = analyzeSources(loadSources(opts.file), opts.domainSuffix);
      if (format !== 'table') process.stdout.write(renderData(findings, format));
      else if (findings.length === 0)
        process.stdout.write('✔ No validation issues found when analyzing the given files.\n');
      else {
        for (const f of findings) {
          process.stdout.write(
            `${f.severity} [${f.code}] (${f.object}${f.path ? ` ${f.path}` : ''}) ${f.message}\n`,
          );
          process.stdout.write(`    hint: ${f.hint}${f.origin ? `  (${f.origin})` : ''}\n`);
        }
      }
      if (findings.some((f) => f.severity === 'Error')) process.exitCode = 1;
    });
}
