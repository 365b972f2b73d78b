import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { BenchRow } from './main.ts';

/**
 * Runs a scenario in a process of its own (a process holds one world): `main.ts` calls the returned
 * `run`, which forks the scenario's module; in the fork, `measure` runs and its rows come back.
 */
export function inChildProcess(moduleUrl: string, name: string, measure: () => Promise<BenchRow[]>) {
  if (process.env.BENCH_CHILD === name) {
    void measure().then((rows) => process.send?.(rows, () => process.exit(0)));
  }
  return (): Promise<BenchRow[]> =>
    new Promise((resolve, reject) => {
      // BENCH_CPU_PROF=<folder>: the scenario's process writes a V8 CPU profile there (open it in Chrome's DevTools).
      const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
      // BENCH_NODE=<node binary>: the scenario runs on that Node.js (Lambda's, say) instead of this one.
      const child = fork(fileURLToPath(moduleUrl), [], {
        ...(process.env.BENCH_NODE ? { execPath: process.env.BENCH_NODE } : {}),
        execArgv: ['--import', 'tsx', ...profile],
        env: { ...process.env, BENCH_CHILD: name, POWERTOOLS_LOG_LEVEL: 'SILENT' },
      });
      let rows: BenchRow[] | undefined;
      child.on('message', (message) => {
        rows = message as BenchRow[];
      });
      child.on('error', reject);
      child.on('exit', (code) => (rows ? resolve(rows) : reject(new Error(`${name} bench exited with ${code}`))));
    });
}
