import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { SECOND_ACCOUNT_DEMO_PRODUCTS } from './demo-policy.ts';

/**
 * `npm start`. With nothing configured: the sandbox (embedded DynamoDB, CodePipeline emulator,
 * Slack simulator, the page on :3000). With SLACK_APP_TOKEN set: Greenlight against real Slack
 * (Socket Mode) and real AWS (see docs/sandbox.md).
 */

const HELP = `Usage: npm start -- [options]

Runs Greenlight locally. With nothing configured: the sandbox, a simulated Slack workspace and
CodePipeline in your browser. With SLACK_APP_TOKEN (and SLACK_BOT_TOKEN, APPROVALS_CHANNEL, AWS
credentials) set: real Slack over Socket Mode and your real pipelines.

Options:
  -p, --port <n>        port of the page and its API (default 3000; 0: any free port)
      --host <address>  address to listen on (default 127.0.0.1; 0.0.0.0 in a container)
      --data-dir <dir>  keep DynamoDB data (approvals, audit trail) in <dir> between runs
      --pipelines <prefix>  with real Slack: only poll pipelines named <prefix>* (default: all)
      --sandbox         run the sandbox even when Slack settings are present
  -q, --quiet           print only the URL and problems
  -h, --help            show this help

Docs: docs/sandbox.md`;

/** How long shutting down may take before the process exits anyway. */
const CLOSE_GRACE_MS = 5_000;

async function main(): Promise<void> {
  // performance.now() counts from the start of the process: "ready in" includes loading the code.
  const started = 0;
  let args: ReturnType<typeof parse>;
  try {
    args = parse(process.argv.slice(2));
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${HELP}`);
    process.exit(2);
  }
  if (args.help) {
    console.log(HELP);
    return;
  }
  const port = args.port === undefined ? 3000 : Number(args.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    console.error(`--port must be a number from 0 to 65535, not "${args.port}"`);
    process.exit(2);
  }
  const quiet = args.quiet === true;
  const log = quiet ? () => {} : (line: string) => console.log(`${clock()} ${line}`);

  // Quiet by default: the page shows what happens; POWERTOOLS_LOG_LEVEL=INFO shows the app's own logs.
  process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';

  const real = !args.sandbox && Boolean(process.env.SLACK_APP_TOKEN);
  if (!real && process.env.SLACK_BOT_TOKEN && !args.sandbox) {
    console.log('Note: SLACK_BOT_TOKEN is set but SLACK_APP_TOKEN is not, so this is the sandbox (see --help).');
  }

  let close: (() => Promise<void>) | undefined;
  let stopping = false;
  const stop = (why: string) => {
    if (stopping) {
      // A second Ctrl-C: do not wait any longer.
      process.exit(1);
    }
    stopping = true;
    if (!quiet) console.log(`\n${why}: stopping…`);
    const timer = setTimeout(() => {
      console.error(`Still closing after ${CLOSE_GRACE_MS / 1000} s; exiting anyway.`);
      process.exit(1);
    }, CLOSE_GRACE_MS);
    timer.unref();
    // Stopped while still starting: nothing is serving yet.
    if (!close) process.exit(0);
    close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(`Stopping failed: ${String(error)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  watchLauncher(() => stop('npm start has ended'));
  try {
    if (real) {
      const { startReal } = await import('./real.ts');
      const running = await startReal({
        dataDir: args['data-dir'],
        ...(args.pipelines ? { pipelinePrefix: args.pipelines } : {}),
        log,
      });
      close = running.close;
      const banner = running.banner(seconds(started));
      console.log(quiet ? banner.split('\n')[0] : banner);
    } else {
      // The AWS SDK warns on every start that Node 20 support ends in 2027; the sandbox talks to no AWS.
      process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
      const { startSandbox } = await import('./web/sandbox.ts');
      const sandbox = await startSandbox({
        port,
        host: args.host ?? '127.0.0.1',
        ...(args['data-dir'] ? { dataDir: args['data-dir'] } : {}),
        log,
      });
      close = sandbox.close;
      console.log(quiet ? sandbox.url : sandboxBanner(sandbox, args['data-dir'], seconds(started)));
    }
  } catch (error) {
    console.error(startFailure(error, port));
    process.exit(1);
  }
}

/** How often the processes that started this one are checked for. */
const LAUNCHER_POLL_MS = 1_000;

/**
 * Calls `onGone` when a process between this one and `npm start` ends. Stopping npm with a signal
 * to its own pid (as IDEs and process managers do) kills the `sh -c` it runs the script in, but
 * not `tsx` or this process, which would go on serving; Ctrl-C reaches the whole process group
 * and needs none of this.
 */
function watchLauncher(onGone: () => void): void {
  const launchers = launcherPids();
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid !== parent || launchers.some((pid) => !alive(pid))) {
      clearInterval(timer);
      onGone();
    }
  }, LAUNCHER_POLL_MS);
  timer.unref();
}

/**
 * The ancestors up to npm when npm started this process (it sets npm_lifecycle_event), else the
 * parent only. `ps` is POSIX; where it is missing, the parent alone is watched.
 */
function launcherPids(): number[] {
  if (!process.env.npm_lifecycle_event) return [process.ppid];
  const pids: number[] = [];
  for (let pid = process.ppid; pid > 1 && pids.length < 4; ) {
    const ps = spawnSync('ps', ['-o', 'ppid=,args=', '-p', String(pid)], { encoding: 'utf8' });
    const match = ps.status === 0 ? /^\s*(\d+)\s+(.*)$/.exec(ps.stdout.trim()) : null;
    if (!match?.[1] || match[2] === undefined) break;
    pids.push(pid);
    if (/^npm\b|\bnpm-cli\.js\b/.test(match[2])) return pids;
    pid = Number(match[1]);
  }
  return [process.ppid];
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    options: {
      port: { type: 'string', short: 'p' },
      host: { type: 'string' },
      'data-dir': { type: 'string' },
      pipelines: { type: 'string' },
      sandbox: { type: 'boolean' },
      quiet: { type: 'boolean', short: 'q' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  }).values;
}

function sandboxBanner(
  sandbox: {
    url: string;
    world: {
      emulator: { url: string; region: string };
      slack: { apiUrl: string };
      accounts?: { emulators: ReadonlyMap<string, { url: string; accountId: string; region: string }> };
    };
  },
  dataDir: string | undefined,
  readyIn: string,
): string {
  // The second account's CodePipeline answers only calls signed with the role Greenlight assumes there.
  const accounts = [...(sandbox.world.accounts?.emulators.values() ?? [])].map(
    (remote) =>
      `  AWS account ${remote.accountId} (${remote.region}): product ${Object.keys(SECOND_ACCOUNT_DEMO_PRODUCTS).join(', ')}, reached through STS AssumeRole`,
  );
  return [
    `Greenlight sandbox is ready (${readyIn}): ${sandbox.url}`,
    '',
    `  Page and JSON API   ${sandbox.url}   (GET ${sandbox.url}/api lists the endpoints)`,
    `  CodePipeline API    ${sandbox.world.emulator.url}   (AWS SDK endpoint, region ${sandbox.world.emulator.region}, any credentials)`,
    `  Slack Web API       ${sandbox.world.slack.apiUrl}`,
    `  DynamoDB            ${dataDir ? `embedded, kept in ${dataDir}` : 'embedded, in memory (--data-dir <dir> keeps it)'}`,
    ...accounts,
    '',
    'Press commit on shop-cart, then approve in #approvals. Ctrl-C stops.',
  ].join('\n');
}

function startFailure(error: unknown, port: number): string {
  const code = (error as { code?: string }).code;
  if (code === 'EADDRINUSE')
    return `Port ${port} is in use. Stop what runs there or pick another: npm start -- --port ${port + 1}`;
  if (code === 'EACCES')
    return `Not allowed to listen on port ${port}. Pick a port above 1024: npm start -- --port 3000`;
  return `Greenlight could not start: ${error instanceof Error ? error.message : String(error)}`;
}

const seconds = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)} s`;

const clock = () => new Date().toTimeString().slice(0, 8);

await main();
