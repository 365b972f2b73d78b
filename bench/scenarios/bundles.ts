/**
 * Each Lambda handler as deployed: bundled by esbuild with the stack's options (ESM, minified,
 * dynalite left out, Bolt's unused receivers stubbed), then imported in a fresh Node.js. Reported: bundle size and the import's
 * cost above an empty Node.js start (the part of a cold start the code adds).
 * Goal for slack-events: ≤ 1 MB and ≤ 150 ms.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { UNUSED_BOLT_PACKAGES, UNUSED_PACKAGE_STUB } from '../../infra/constructs/handler-function.ts';
import type { BenchRow, BenchScenario } from '../main.ts';

const HANDLERS = ['slack-events', 'approval-notification', 'release-worker', 'release-action', 'daily-digest'];
const RUNS = 5;

/** Median wall time of `node -e <script>` over RUNS runs, in ms. */
function nodeTime(script: string, env: Record<string, string> = {}): number {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      env: { PATH: process.env.PATH ?? '', AWS_REGION: 'eu-central-1', ...env },
    });
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b)[Math.floor(RUNS / 2)] ?? Number.NaN;
}

const scenario: BenchScenario = {
  title: 'Lambda bundles: size and cold import',
  async run() {
    const outdir = mkdtempSync(join(tmpdir(), 'greenlight-bench-bundles-'));
    try {
      const empty = nodeTime('');
      const rows: BenchRow[] = [];
      for (const name of HANDLERS) {
        const outfile = join(outdir, `${name}.mjs`);
        await build({
          entryPoints: [`handlers/${name}.ts`],
          outfile,
          bundle: true,
          platform: 'node',
          format: 'esm',
          target: 'node22',
          minify: true,
          external: ['dynalite'],
          alias: Object.fromEntries(UNUSED_BOLT_PACKAGES.map((name) => [name, UNUSED_PACKAGE_STUB])),
          mainFields: ['module', 'main'],
          banner: { js: "import { createRequire } from 'node:module';const require = createRequire(import.meta.url);" },
          logLevel: 'silent',
        });
        const importMs = nodeTime(`await import(${JSON.stringify(pathToFileURL(outfile).href)});`) - empty;
        const size = statSync(outfile).size / 1024 / 1024;
        rows.push({
          name,
          measured: `${size.toFixed(2)} MB, import ${importMs.toFixed(0)} ms`,
          ...(name === 'slack-events' ? { goal: '≤ 1 MB, ≤ 150 ms' } : {}),
          notes: `median of ${RUNS}, empty Node.js start ${empty.toFixed(0)} ms subtracted`,
        });
      }
      return rows;
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  },
};

export default scenario;
