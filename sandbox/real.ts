import {
  CodePipelineClient,
  GetPipelineCommand,
  GetPipelineStateCommand,
  type PipelineDeclaration,
  paginateListPipelines,
} from '@aws-sdk/client-codepipeline';
import { SocketModeReceiver } from '@slack/bolt';
import { startEmbeddedDynamo } from '../app/adapters/embedded-dynamo.ts';
import { sharedInProcessReleaseQueue } from '../app/adapters/in-process-release-queue.ts';
import { loadConfig } from '../app/config.ts';
import { followPipelineChange } from '../app/core/pipeline-events.ts';
import {
  ingestApprovalNotifications,
  type NotificationDeps,
  notificationDeps,
  type SnsEvent,
} from '../app/inbound/approval-notifications.ts';
import { pipelineEventDeps } from '../app/inbound/pipeline-events.ts';
import { processReleaseJobs, workerDeps } from '../app/inbound/release-jobs.ts';
import { slackDeps } from '../app/inbound/slack.ts';
import { createSlackApp } from '../app/listeners/index.ts';

/**
 * `npm start` against real Slack and real AWS, from a laptop: no public URL needed.
 *
 * - Slack → Greenlight over Socket Mode (SLACK_APP_TOKEN): clicks, modals and /release reach the
 *   same listeners as on Lambda.
 * - CodePipeline → Greenlight: SNS cannot reach a laptop, so the pipelines are polled instead
 *   (GetPipelineState every POLL_MS); each waiting manual approval is handed to the same code the
 *   SNS handler runs, built into the notification CodePipeline would have published. Repeats are
 *   harmless: a known token is never posted twice. EventBridge cannot reach a laptop either: each
 *   poll of a pipeline is taken as the hint its events would be (core/pipeline-events.ts), so an
 *   approval answered in the console, expired or stopped is closed there too.
 * - Decisions go to CodePipeline with your AWS credentials (PutApprovalResult).
 *
 * The deployed stack is the real thing (SNS, Function URL, DynamoDB); this mode is for trying the
 * Slack side with real pipelines before deploying.
 */

export interface RealOptions {
  dataDir: string | undefined;
  /** Only pipelines whose name starts with this are polled (default: all). */
  pipelinePrefix?: string;
  log: (line: string) => void;
}

export interface RealRun {
  banner(readyIn: string): string;
  close(): Promise<void>;
}

/** How often the pipelines are read for waiting approvals. */
const POLL_MS = 20_000;
const DEFAULT_APPROVAL_TIMEOUT_MINUTES = 7 * 24 * 60;
/** Socket Mode needs no signing secret; the configuration asks for one because HTTP delivery does. */
const UNUSED_SIGNING_SECRET = 'unused-in-socket-mode';

/** What is missing for real mode, in words a person can act on; empty when it can start. */
export function realModeProblems(env: Record<string, string | undefined>): string[] {
  const problems: string[] = [];
  if (!env.SLACK_APP_TOKEN?.startsWith('xapp-'))
    problems.push('SLACK_APP_TOKEN must be an app-level token (xapp-…) with the connections:write scope');
  if (!env.SLACK_BOT_TOKEN?.startsWith('xoxb-')) problems.push('SLACK_BOT_TOKEN must be the bot token (xoxb-…)');
  if (!env.APPROVALS_CHANNEL) problems.push('APPROVALS_CHANNEL must be the channel ID (C…) to post approvals in');
  return problems;
}

export async function startReal(options: RealOptions): Promise<RealRun> {
  const env = process.env;
  const problems = realModeProblems(env);
  if (problems.length > 0) {
    throw new Error(
      `real Slack mode needs: ${problems.join('; ')}. Unset SLACK_APP_TOKEN (or pass --sandbox) for the sandbox. See docs/sandbox.md.`,
    );
  }
  const closers: Array<() => Promise<void>> = [];
  let storage = `DynamoDB table ${env.APPROVALS_TABLE}`;
  const overrides: Record<string, string> = { SLACK_SIGNING_SECRET: env.SLACK_SIGNING_SECRET || UNUSED_SIGNING_SECRET };
  if (!env.APPROVALS_TABLE) {
    if (options.dataDir) {
      const dynamo = await startEmbeddedDynamo({ dataDir: options.dataDir });
      closers.push(() => dynamo.close());
      // The SDK reads this endpoint from the environment: only DynamoDB goes to the embedded one.
      Object.assign(overrides, { APPROVALS_TABLE: dynamo.tableName, AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint });
      storage = `embedded DynamoDB, kept in ${options.dataDir}`;
    } else {
      storage = 'embedded DynamoDB, in memory (--data-dir <dir> keeps it)';
    }
  }
  Object.assign(process.env, overrides);
  const config = loadConfig(process.env);
  const deps = await slackDeps(config);
  // Without RELEASE_QUEUE_URL, release jobs go to this process's queue and its worker.
  if (!config.releaseQueueUrl) {
    const worker = await workerDeps(config);
    sharedInProcessReleaseQueue(deps.log).consumeWith((event) => processReleaseJobs(worker, event));
  }

  // AWS first: it fails fast and clearly, where a Slack connection would keep retrying.
  const client = new CodePipelineClient(config.region ? { region: config.region } : {});
  closers.push(async () => client.destroy());
  const region = await client.config.region();
  const follow = await pipelineEventDeps(config);
  const poller = new ApprovalPoller(
    await notificationDeps(config),
    client,
    region,
    options.pipelinePrefix ?? '',
    options.log,
    (pipelineName) => followPipelineChange(follow, { pipelineName, region }),
  );
  const watched = await poller.check();

  const receiver = new SocketModeReceiver({ appToken: String(env.SLACK_APP_TOKEN), logger: deps.boltLogger });
  const app = createSlackApp(deps, receiver);
  await app.start();
  closers.push(() => app.stop().then(() => undefined));

  await poller.poll();
  const timer = setInterval(() => void poller.poll(), POLL_MS);
  closers.push(async () => clearInterval(timer));

  return {
    banner: (readyIn) =>
      [
        `Greenlight is running against real Slack and AWS (${readyIn})`,
        '',
        '  Slack          Socket Mode (SLACK_APP_TOKEN): buttons, modals and /release work in your workspace',
        `  Approvals      ${watched} pipeline(s)${options.pipelinePrefix ? ` named ${options.pipelinePrefix}*` : ''} in ${region}, read every ${POLL_MS / 1000} s; posted to ${deps.config.approvalsChannel}`,
        `  Storage        ${storage}`,
        '',
        'Do not also run the deployed stack against the same channel: each would post the approvals. Ctrl-C stops.',
      ].join('\n'),
    close: async () => {
      for (const close of closers.reverse()) await close();
    },
  };
}

/** Finds waiting manual approvals and hands each to the notification handler's code, once per token. */
class ApprovalPoller {
  readonly #seen = new Set<string>();
  readonly #definitions = new Map<string, PipelineDeclaration>();
  #running = false;

  constructor(
    private readonly deps: NotificationDeps,
    private readonly client: CodePipelineClient,
    private readonly region: string,
    private readonly prefix: string,
    private readonly log: (line: string) => void,
    /** What an EventBridge event of the pipeline would do: close its approvals that ended there. */
    private readonly follow: (pipelineName: string) => Promise<unknown>,
  ) {}

  /** Fails start-up with a clear message when AWS cannot be read at all (no credentials, no permission). */
  async check(): Promise<number> {
    try {
      return (await this.#pipelines()).length;
    } catch (error) {
      throw new Error(cannotListPipelines(this.region, error), { cause: error });
    }
  }

  async poll(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      for (const name of await this.#pipelines()) {
        const state = await this.client.send(new GetPipelineStateCommand({ name }));
        for (const stage of state.stageStates ?? []) {
          for (const action of stage.actionStates ?? []) {
            const run = action.latestExecution;
            if (run?.status !== 'InProgress' || !run.token || this.#seen.has(run.token)) continue;
            const since = run.lastStatusChange ?? new Date();
            await this.#notify(name, String(stage.stageName), String(action.actionName), run.token, since);
            this.#seen.add(run.token);
          }
        }
        await this.follow(name);
      }
    } catch (error) {
      this.log(`could not read the pipelines (will try again): ${(error as Error).message}`);
    } finally {
      this.#running = false;
    }
  }

  async #pipelines(): Promise<string[]> {
    const names: string[] = [];
    for await (const page of paginateListPipelines({ client: this.client }, {})) {
      for (const pipeline of page.pipelines ?? []) {
        if (pipeline.name?.startsWith(this.prefix)) names.push(pipeline.name);
      }
    }
    return names;
  }

  /** The notification CodePipeline publishes to SNS for this approval (docs/architecture.md, "External formats"), delivered as SNS would. */
  async #notify(pipelineName: string, stageName: string, actionName: string, token: string, since: Date) {
    let definition = this.#definitions.get(pipelineName);
    if (!definition) {
      definition = (await this.client.send(new GetPipelineCommand({ name: pipelineName }))).pipeline;
      if (definition) this.#definitions.set(pipelineName, definition);
    }
    const action = definition?.stages?.find((s) => s.name === stageName)?.actions?.find((a) => a.name === actionName);
    const timeout = action?.timeoutInMinutes ?? DEFAULT_APPROVAL_TIMEOUT_MINUTES;
    const console = `https://console.aws.amazon.com/codepipeline/home?region=${this.region}#/view/${pipelineName}`;
    const approval = {
      pipelineName,
      stageName,
      actionName,
      token,
      // CodePipeline gives minute precision.
      expires: new Date(since.getTime() + timeout * 60_000).toISOString().slice(0, 16).concat('Z'),
      approvalReviewLink: `${console}/${stageName}/${actionName}/approve/${token}`,
      ...(action?.configuration?.ExternalEntityLink
        ? { externalEntityLink: action.configuration.ExternalEntityLink }
        : {}),
      ...(action?.configuration?.CustomData ? { customData: action.configuration.CustomData } : {}),
    };
    const event: SnsEvent = {
      Records: [
        {
          Sns: {
            MessageId: `poll-${token}`,
            Subject: `APPROVAL NEEDED: AWS CodePipeline ${pipelineName} for action ${actionName}`,
            Message: JSON.stringify({ region: this.region, consoleLink: console, approval }),
          },
        },
      ],
    };
    await ingestApprovalNotifications(this.deps, event);
    this.log(`approval waiting: ${pipelineName} › ${stageName}`);
  }
}

/** Node's and the SDK's words for "the network did not get there": no advice about credentials helps. */
const UNREACHABLE = new Set([
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EADDRNOTAVAIL',
]);

/** CodePipeline's host in `region`: the China regions are in their own partition's domain. */
const endpointHost = (region: string) =>
  `codepipeline.${region}.${region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com'}`;

/**
 * Why real mode cannot start, in words that point at the fix: the network (or a misspelt region,
 * whose endpoint does not exist), the credentials, or the permissions. Always with what AWS said.
 */
export function cannotListPipelines(region: string, error: unknown): string {
  const {
    name = 'Error',
    message = String(error),
    code,
    hostname,
  } = (error ?? {}) as Error & { code?: string; hostname?: string };
  const said = `(${name}${code && code !== name ? ` ${code}` : ''}: ${message})`;
  const permissions = 'codepipeline:ListPipelines, GetPipeline, GetPipelineState and PutApprovalResult';
  if ((code && UNREACHABLE.has(code)) || name === 'TimeoutError') {
    // A host that is not CodePipeline's (a proxy, a sign-in endpoint) is not the region's fault.
    if (hostname && !hostname.startsWith('codepipeline'))
      return `cannot reach CodePipeline in ${region} ${said}. Check the network (a proxy?): ${hostname} must resolve.`;
    return `cannot reach CodePipeline in ${region} ${said}. Check the network (a proxy?) and that AWS_REGION names a region: ${hostname ?? endpointHost(region)} must resolve.`;
  }
  if (
    name === 'CredentialsProviderError' ||
    name === 'ExpiredTokenException' ||
    name === 'UnrecognizedClientException' ||
    name === 'InvalidSignatureException'
  )
    return `no usable AWS credentials for CodePipeline in ${region} ${said}. Set AWS_PROFILE (after aws sso login, if it uses SSO) or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.`;
  if (name === 'AccessDeniedException')
    return `your AWS identity may not list CodePipeline pipelines in ${region} ${said}. It needs ${permissions}.`;
  return `cannot list CodePipeline pipelines in ${region} ${said}. Set AWS credentials (AWS_PROFILE or AWS_ACCESS_KEY_ID…) and AWS_REGION, with ${permissions}.`;
}
