/**
 * The click benchmark's world, in a process of its own (forked by bench/scenarios/click.ts): DynamoDB
 * (dynalite), the CodePipeline emulator and the Slack simulator, each behind a tracing proxy that
 * adds its latency and records every call. Greenlight runs only in the other process, so that
 * process's CPU time is Greenlight's own: none of the simulators' work counts in it.
 *
 * The app process calls `start`, `setup`, `latency`, `click`, `echo` and `summary` (bench/ipc.ts); this
 * process hands it approval notifications (`notification`) and, over HTTP, Slack's signed clicks.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SNSEvent } from 'aws-lambda';
import { startEmbeddedDynamo } from '../app/adapters/embedded-dynamo.ts';
import { ids } from '../app/views/ids.ts';
import { pipelineDefinition, startCodePipelineEmulator } from '../sandbox/codepipeline/index.ts';
import { startSlackSimulator } from '../sandbox/slack/index.ts';
import { SANDBOX_CHANNELS } from '../sandbox/world.ts';
import { connect } from './ipc.ts';
import { type RemoteCall, type Service, startTracingProxy, Trace } from './remote-trace.ts';

/** Not secrets: the simulator takes these, and nothing else does. */
const BENCH_SLACK = { botToken: 'xoxb-bench-bot-token', signingSecret: 'bench-signing-secret' } as const;
const PEOPLE = ['U0ALICE', 'U0BOB', 'U0CAROL', 'U0DAVE'];
/** A click is over once no remote call has been in flight for this long (background work included). */
const QUIET_MS = 20;

export interface ClickOutcome {
  status: number;
  /** The app answered with an ephemeral (refused, failed) or Slack would show an error. */
  refused: boolean;
  /** Every remote call from the click until the app went quiet. */
  calls: RemoteCall[];
  /** CPU time this process (the simulators and proxies) spent meanwhile: not the app's. */
  worldCpuMs: number;
}

let appUrl: string | undefined;
const trace = new Trace();
const app = connect(process, {
  start: () => started.then(({ env }) => env),
  setup: (argument: { appUrl: string; approvals: number }) => setup(argument.appUrl, argument.approvals),
  latency: async (latencyMs: Record<Service, number>) => {
    const { proxies } = await started;
    for (const service of Object.keys(proxies) as Service[]) proxies[service].latencyMs = latencyMs[service];
  },
  click: (index: number) => click(index),
  echo: () => echoServer(),
  summary: async () => {
    const { emulator } = await started;
    return { approved: emulator.calls('PutApprovalResult').filter((call) => call.ok).length };
  },
});
// The app's process is this one's only reason to run.
process.on('disconnect', () => process.exit(0));

const started = (async () => {
  const dynamo = await startEmbeddedDynamo();
  const emulator = await startCodePipelineEmulator({
    onApprovalNotification: (event: SNSEvent) => app.call('notification', event),
  });
  const slack = await startSlackSimulator({
    ...BENCH_SLACK,
    deliver: async (request) => {
      if (!appUrl) throw new Error('Greenlight is not serving yet');
      const response = await fetch(`${appUrl}${request.path}`, {
        method: 'POST',
        headers: request.headers,
        body: request.body,
      });
      return { status: response.status, headers: Object.fromEntries(response.headers), body: await response.text() };
    },
  });
  const proxies = {
    DynamoDB: await startTracingProxy('DynamoDB', dynamo.endpoint, trace),
    CodePipeline: await startTracingProxy('CodePipeline', emulator.url, trace),
    Slack: await startTracingProxy('Slack', slack.apiUrl, trace),
  };
  const env: Record<string, string> = {
    SLACK_BOT_TOKEN: BENCH_SLACK.botToken,
    SLACK_SIGNING_SECRET: BENCH_SLACK.signingSecret,
    SLACK_API_URL: `${proxies.Slack.endpoint}/api/`,
    APPROVALS_CHANNEL: SANDBOX_CHANNELS.approvals,
    APPROVALS_TABLE: dynamo.tableName,
    AWS_REGION: emulator.region,
    AWS_ENDPOINT_URL_DYNAMODB: proxies.DynamoDB.endpoint,
    AWS_ENDPOINT_URL_CODEPIPELINE: proxies.CodePipeline.endpoint,
    // dynalite and the emulator take any credentials; these keep the SDK from looking for real ones.
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    POWERTOOLS_METRICS_DISABLED: 'true',
  };
  return { dynamo, emulator, slack, proxies, env };
})();

let approvalMessages: string[] = [];

/**
 * `approvals` pipelines, each waiting for its approval in StagingDEV, each posted to Slack by the
 * notification handler in the app's process. The pipelines have no StagingQA: approving DEV would
 * otherwise start QA's approval, whose notification the app would handle during the measured click.
 */
async function setup(url: string, approvals: number): Promise<number> {
  appUrl = url;
  const { emulator, slack } = await started;
  const names = Array.from({ length: approvals }, (_, i) => `click-${String(i + 1).padStart(4, '0')}`);
  for (const name of names) {
    const definition = pipelineDefinition(name, { region: emulator.region, accountId: emulator.accountId });
    emulator.createPipeline({
      ...definition,
      stages: definition.stages?.filter((stage) => stage.name !== 'StagingQA'),
    });
  }
  // In batches, to keep within the notification handler's time budget on a busy machine.
  for (let i = 0; i < names.length; i += 50) {
    for (const name of names.slice(i, i + 50)) emulator.commit(name, `${name}-c1`);
    await emulator.settle();
  }
  approvalMessages = slack
    .messages(SANDBOX_CHANNELS.approvals)
    .filter((message) => message.metadata?.event_type === ids.metadataEvent)
    .map((message) => message.ts);
  await trace.quiet(QUIET_MS);
  trace.calls.length = 0;
  return approvalMessages.length;
}

async function click(index: number): Promise<ClickOutcome> {
  const { slack } = await started;
  const ts = approvalMessages[index];
  if (!ts) throw new Error(`No approval message ${index}`);
  const from = trace.calls.length;
  const cpu = process.cpuUsage();
  const result = await slack.click(
    PEOPLE[index % PEOPLE.length] as string,
    SANDBOX_CHANNELS.approvals,
    ts,
    ids.approve,
  );
  await trace.quiet(QUIET_MS);
  const used = process.cpuUsage(cpu);
  return {
    status: result.status,
    refused: result.ephemerals.length > 0 || result.displayError !== undefined,
    calls: trace.calls.slice(from),
    worldCpuMs: (used.user + used.system) / 1000,
  };
}

/**
 * A bare HTTP server that answers every request with a small JSON body, after `?ms=` milliseconds
 * (at once without): what the app's process pays for a request with nothing but Node's HTTP client
 * on each end (the transport floor).
 */
async function echoServer(): Promise<string> {
  const server = createServer((request, response) => {
    const delayMs = Number(new URL(request.url ?? '/', 'http://echo').searchParams.get('ms') ?? 0);
    request.resume();
    request.on('end', () => setTimeout(() => response.end('{"ok":true}'), delayMs));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}
