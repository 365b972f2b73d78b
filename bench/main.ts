/**
 * `npm run bench`: runs every scenario in bench/scenarios (or those named on the command line)
 * and prints each measured figure next to the floor that physics or rate limits set.
 * Figures are measurements, not assertions: nothing here fails a build.
 */
import { readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface BenchRow {
  /** What was measured, e.g. "release 100 pipelines". */
  name: string;
  measured: string;
  /** The best possible figure, and why ("100 calls at 10/s"). */
  floor?: string;
  /** measured / floor, where both are times. */
  ratio?: number;
  goal?: string;
  notes?: string;
}

export interface BenchScenario {
  title: string;
  run(): Promise<BenchRow[]>;
}

const folder = join(fileURLToPath(new URL('.', import.meta.url)), 'scenarios');
const wanted = process.argv.slice(2);
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
// The SDK warns once per process (this one and each fork) that its 2027 releases need Node 22; the
// benchmarks talk to the emulator and dynalite with the SDK pinned, so on Node 20 it says nothing to act on.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const files = (await readdir(folder)).filter((file) => file.endsWith('.ts')).sort();
for (const file of files) {
  const name = basename(file, '.ts');
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  const scenario = (await import(join(folder, file))).default as BenchScenario;
  process.stdout.write(`\n## ${scenario.title} (${name})\n`);
  const started = performance.now();
  const rows = await scenario.run();
  for (const row of rows) {
    const ratio = row.ratio === undefined ? '' : `  ratio ${row.ratio.toFixed(2)}`;
    const floor = row.floor ? `  floor ${row.floor}` : '';
    const goal = row.goal ? `  goal ${row.goal}` : '';
    process.stdout.write(
      `- ${row.name}: ${row.measured}${floor}${ratio}${goal}${row.notes ? `  (${row.notes})` : ''}\n`,
    );
  }
  process.stdout.write(`  (${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
}
