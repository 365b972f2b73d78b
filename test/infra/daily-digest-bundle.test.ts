import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { CHART_COLORS } from '../../app/views/digest-chart.ts';
import { BUNDLE_ASSETS } from '../../infra/constructs/handler-function.ts';
import { REPO_ROOT } from '../../infra/paths.ts';
import { pipelineDefinition } from '../../sandbox/codepipeline/index.ts';
import { SANDBOX_CHANNELS, startWorld, type World } from '../../sandbox/world.ts';
import { decodePng } from '../support/png.ts';
import { bundleAsTheStackDoes } from './bundles.ts';

const scratch = mkdtempSync(join(tmpdir(), 'greenlight-digest-bundle-'));
let world: World | undefined;
afterAll(async () => {
  await world?.close();
  rmSync(scratch, { recursive: true, force: true });
});

const run = promisify(execFile);

/**
 * Invokes the bundle's handler once, as Lambda would: a fresh Node.js, configured by the world's
 * environment only. Its answer, and every line it printed: Powertools' JSON log lines, and as
 * `level: 'TEXT'` anything else (a warning of Node's or of a library's).
 */
async function invokeInFreshNode(
  bundle: string,
): Promise<{ result: unknown; printed: Array<Record<string, unknown>> }> {
  const script =
    'const { handler } = await import(process.env.BUNDLE); console.log(JSON.stringify({ result: await handler({}) }));';
  const worldEnv = Object.entries(process.env).filter(([key]) =>
    /^(SLACK_|APPROVALS_|DIGEST_|AWS_|POWERTOOLS_)/.test(key),
  );
  const { stdout, stderr } = await run(process.execPath, ['--input-type=module', '-e', script], {
    cwd: bundle,
    env: {
      PATH: process.env.PATH,
      ...Object.fromEntries(worldEnv),
      BUNDLE: pathToFileURL(join(bundle, 'index.mjs')).href,
      NODE_OPTIONS: '--enable-source-maps',
      POWERTOOLS_LOG_LEVEL: 'INFO',
    },
    timeout: 60_000,
  });
  const lines = `${stdout}\n${stderr}`
    .split('\n')
    .filter(Boolean)
    .map((line): Record<string, unknown> => {
      try {
        return JSON.parse(line);
      } catch {
        return { level: 'TEXT', message: line };
      }
    });
  return { result: lines.find((line) => 'result' in line)?.result, printed: lines.filter((line) => 'level' in line) };
}

describe('the deployed daily-digest bundle', () => {
  it('renders the delivery chart and shares it in the digest’s thread, with the wasm and fonts it ships', async () => {
    // Prepare: the bundle, outside the repository (the renderer cannot fall back on its node_modules),
    // and a world in which shop-cart released a change to production
    process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
    const [[name, bundle] = ['daily-digest', '']] = await bundleAsTheStackDoes(['daily-digest']);
    expect([name, relative(REPO_ROOT, bundle).startsWith('..')]).toEqual(['daily-digest', true]);
    world = await startWorld({ dataDir: join(scratch, 'dynamo') });
    world.emulator.createPipeline(pipelineDefinition('shop-cart', { region: world.emulator.region }));
    world.emulator.commit('shop-cart', { revisionId: 'c1', summary: 'Change c1' });
    await world.settle();
    world.emulator.answerInConsole('shop-cart', 'StagingDEV', 'Approved');
    await world.settle();
    world.emulator.answerInConsole('shop-cart', 'StagingQA', 'Approved');
    await world.settle();

    // Act
    const { result, printed } = await invokeInFreshNode(bundle);

    // Assess: posted, and the chart shared (a chart that fails is a warning, and the digest stands without it)
    expect(result).toBe('posted');
    expect(
      printed.map((line) => line.message),
      JSON.stringify(printed.filter((line) => line.level !== 'INFO')),
    ).toContain('Shared the digest chart');
    // Nothing but log lines: no notice of Node's or the SDK's
    expect(printed.filter((line) => line.level === 'TEXT')).toEqual([]);
    const shared = world.slack.messages(SANDBOX_CHANNELS.digest).flatMap((message) => message.files ?? []);
    expect(shared.map((file) => file.mimetype)).toEqual(['image/png']);
    // A PNG of the chart's size, with its title in the shipped font and shop's deployment as a bar
    const png = decodePng(world.slack.file(shared[0]?.id ?? '')?.bytes ?? Buffer.alloc(0));
    expect([png.width, png.height]).toEqual([960, 384]);
    let inked = 0;
    for (let x = 24; x < 500; x++) for (let y = 14; y < 40; y++) if (png.hex(x, y) !== CHART_COLORS.background) inked++;
    expect(inked).toBeGreaterThan(500);
    const aboveAxis = Array.from({ length: 288 }, (_, x) => png.hex(24 + x, 323));
    expect(aboveAxis).toContain(CHART_COLORS.current);
    // Beside the JavaScript (its budget: BUNDLE_BUDGET_BYTES), the wasm and two fonts: 2.7 MB, not every weight of Roboto
    const assets = Object.keys(BUNDLE_ASSETS['daily-digest'] ?? {}).map((file) => statSync(join(bundle, file)).size);
    expect(assets.reduce((sum, bytes) => sum + bytes, 0)).toBeLessThan(3 * 1024 * 1024);
  }, 90_000);
});
