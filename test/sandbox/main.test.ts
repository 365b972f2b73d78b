import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

/** `npm start` as a person runs it: `tsx sandbox/main.ts`, in its own process. */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSX = fileURLToPath(new URL('../../node_modules/tsx/dist/cli.mjs', import.meta.url));

let child: ChildProcess | undefined;

afterEach(() => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  child = undefined;
});

function start(args: string[], env: Record<string, string> = {}) {
  return launch(process.execPath, [TSX, 'sandbox/main.ts', ...args], env);
}

/** `npm start -- <args>`: npm, its `sh -c`, tsx, then sandbox/main.ts. */
function npmStart(args: string[]) {
  return launch('npm', ['start', '--', ...args], {});
}

function launch(command: string, argv: string[], env: Record<string, string>) {
  const cleanEnv = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('SLACK_') && name !== 'APPROVALS_CHANNEL'),
  );
  const proc = spawn(command, argv, {
    cwd: ROOT,
    env: { ...cleanEnv, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child = proc;
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  proc.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return {
    proc,
    exited,
    output: () => ({ stdout, stderr }),
    /** Resolves with the first match of `pattern` in stdout; rejects if the process exits or time runs out. */
    waitFor: (pattern: RegExp, timeoutMs = 15_000) =>
      new Promise<RegExpMatchArray>((resolve, reject) => {
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`No ${pattern} within ${timeoutMs} ms. stdout:\n${stdout}\nstderr:\n${stderr}`));
        }, timeoutMs);
        const check = () => {
          const match = stdout.match(pattern);
          if (!match) return;
          cleanup();
          resolve(match);
        };
        const onExit = (code: number | null) => {
          cleanup();
          reject(new Error(`Exited (${code}) before ${pattern}. stdout:\n${stdout}\nstderr:\n${stderr}`));
        };
        const cleanup = () => {
          clearTimeout(timer);
          proc.stdout.off('data', check);
          proc.off('exit', onExit);
        };
        proc.stdout.on('data', check);
        proc.on('exit', onExit);
        check();
      }),
  };
}

describe('npm start (sandbox/main.ts)', () => {
  it('prints the URL, serves the page, and exits 0 on SIGINT', async () => {
    // Prepare
    const run = start(['--port', '0']);
    const [, port] = await run.waitFor(/http:\/\/localhost:(\d+)/);

    // Act
    const page = await fetch(`http://127.0.0.1:${port}/`);
    const html = await page.text();
    const board = await (await fetch(`http://127.0.0.1:${port}/api/board`)).json();
    run.proc.kill('SIGINT');
    const code = await run.exited;

    // Assess
    expect(page.status).toBe(200);
    expect(html).toContain('Greenlight');
    expect(board.products.map((p: { product: string }) => p.product)).toEqual(['shop', 'blog', 'orders', 'data']);
    expect(run.output().stdout).toMatch(/CodePipeline API\s+http:\/\/127\.0\.0\.1:\d+/);
    expect(code).toBe(0);
  });

  it('exits 0 on SIGTERM too', async () => {
    // Prepare
    const run = start(['--port', '0', '--quiet']);
    await run.waitFor(/http:\/\/localhost:\d+/);

    // Act
    run.proc.kill('SIGTERM');

    // Assess
    expect(await run.exited).toBe(0);
  });

  it('with --quiet, prints only the URL', async () => {
    // Prepare
    const run = start(['--port', '0', '--quiet']);
    await run.waitFor(/http:\/\/localhost:\d+/);

    // Act
    run.proc.kill('SIGINT');
    await run.exited;

    // Assess
    expect(run.output().stdout.trim()).toMatch(/^http:\/\/localhost:\d+$/);
  });

  it('stops when npm start is stopped by a signal to npm alone, not to its process group', async () => {
    // Prepare
    const run = npmStart(['--port', '0', '--quiet']);
    const [url] = await run.waitFor(/http:\/\/localhost:\d+/, 30_000);
    expect((await fetch(`${url}/api/board`)).status).toBe(200);

    // Act: npm passes SIGTERM to its `sh -c`, which ends without passing it on
    run.proc.kill('SIGTERM');
    await run.exited;

    // Assess: within the launcher check's second, nothing answers any more
    await expect
      .poll(
        () =>
          fetch(`${url}/api/board`).then(
            () => 'serving',
            () => 'stopped',
          ),
        { timeout: 10_000 },
      )
      .toBe('stopped');
  }, 45_000);

  it('with SLACK_APP_TOKEN, says which real-mode settings are missing instead of starting', async () => {
    // Act
    const run = start(['--port', '0'], { SLACK_APP_TOKEN: 'xapp-1-test' });
    const code = await run.exited;

    // Assess
    expect(code).toBe(1);
    expect(run.output().stderr).toContain('SLACK_BOT_TOKEN');
    expect(run.output().stderr).toContain('APPROVALS_CHANNEL');
    expect(run.output().stderr).toContain('--sandbox');
  });

  it('refuses a bad option with the usage', async () => {
    // Act
    const run = start(['--port', 'many']);
    const code = await run.exited;

    // Assess
    expect(code).toBe(2);
    expect(run.output().stderr).toContain('--port must be a number');
  });
});
