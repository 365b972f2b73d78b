/**
 * Each Lambda handler as deployed: bundled by esbuild with the stack's options (ESM, minified,
 * dynalite left out, Bolt's unused receivers stubbed), then imported in a fresh Node.js. Reported:
 * bundle size and the import's cost above an empty Node.js start (the part of a cold start the code
 * adds). Goals: each bundle within its budget (infra/constructs/handler-function.ts), ≤ 150 ms.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BUNDLE_BUDGET_BYTES, HANDLER_NAMES } from '../../infra/constructs/handler-function.ts';
import { bundleAsDeployed } from '../bundle.ts';
import type { BenchRow, BenchScenario } from '../main.ts';

const RUNS = 5;
const MB = 1024 * 1024;
const IMPORT_GOAL_MS = 150;

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
      for (const name of HANDLER_NAMES) {
        const outfile = join(outdir, `${name}.mjs`);
        await bundleAsDeployed(name, outfile);
        const importMs = nodeTime(`await import(${JSON.stringify(pathToFileURL(outfile).href)});`) - empty;
        const size = statSync(outfile).size / MB;
        rows.push({
          name,
          measured: `${size.toFixed(3)} MB, import ${importMs.toFixed(0)} ms`,
          goal: `≤ ${(BUNDLE_BUDGET_BYTES[name] / MB).toFixed(1)} MB, ≤ ${IMPORT_GOAL_MS} ms`,
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
