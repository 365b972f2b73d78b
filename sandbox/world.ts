import type { SNSEvent } from 'aws-lambda';
import { startEmbeddedDynamo } from '../app/adapters/embedded-dynamo.ts';
import { currentInProcessReleaseQueue, sharedInProcessReleaseQueue } from '../app/adapters/in-process-release-queue.ts';
import { powertoolsLog } from '../app/adapters/powertools-log.ts';
import { ACCESS_SESSION } from '../app/core/access.ts';
import { type FunctionUrlServer, serveFunctionUrl } from './app/function-url-server.ts';
import { ChangePlans } from './cloudformation/demo.ts';
import { type CloudFormationEmulator, startCloudFormationEmulator } from './cloudformation/index.ts';
import {
  type CodePipelineEmulator,
  type CodePipelineEmulatorOptions,
  type CodePipelineEvent,
  startCodePipelineEmulator,
} from './codepipeline/index.ts';
import { SANDBOX_DEMO_PRODUCTS } from './demo-policy.ts';
import { type SlackSimulator, type SlackSimulatorOptions, startSlackSimulator } from './slack/index.ts';
import { startAccountRouter } from './sts/account-router.ts';
import { type StsEmulator, startStsEmulator } from './sts/index.ts';

/** The channels of the simulated workspace that Greenlight uses. */
export const SANDBOX_CHANNELS = { approvals: 'C0APPROVALS', releases: 'C0RELEASES', digest: 'C0DIGEST' } as const;

export const SANDBOX_SECRETS = { botToken: 'xoxb-sandbox-bot-token', signingSecret: 'sandbox-signing-secret' } as const;

export interface WorldOptions {
  /** Keep DynamoDB data in this folder between runs (default: in memory). */
  dataDir?: string;
  /** Port of the Slack-facing Function URL adapter (0: any). */
  appPort?: number;
  emulator?: Omit<CodePipelineEmulatorOptions, 'onApprovalNotification' | 'onPipelineEvent'>;
  slack?: Pick<SlackSimulatorOptions, 'rateLimit' | 'clock' | 'port'>;
  /**
   * Deliver CodePipeline's EventBridge events to the pipeline-events handler, as the deployed rule
   * does (default true). Off, Greenlight learns how an approval ended only when someone clicks: for
   * tests of the click that comes before CodePipeline's event.
   */
  pipelineEvents?: boolean;
  /** Extra environment for the handlers (PRODUCTS, DIGEST_CHANNEL, …). */
  env?: Record<string, string>;
  /** The demo approval rules (sandbox/demo-policy.ts) as PRODUCTS, unless `env` names its own (default off: tests set their own). */
  demoPolicy?: boolean;
  /**
   * Pipelines in other AWS accounts and regions (docs/architecture.md, "Many accounts and regions"):
   * one CodePipeline emulator each, an STS emulator that gives Greenlight each account's role for
   * the world's external id, and one CodePipeline endpoint that routes each call by the credentials
   * it is signed with, as AWS does. PRODUCTS still has to name them (account, region, roleArn).
   * Their CodePipeline events reach the pipeline-events handler too (unless `pipelineEvents` is off),
   * as the access stack's forwarding rule passes them on, with their own `account` and `region`.
   */
  accounts?: WorldAccount[];
  log?: (line: string) => void;
}

export interface WorldAccount {
  account: string;
  region: string;
  /** The role Greenlight may assume there (default `arn:aws:iam::<account>:role/GreenlightAccess`). */
  roleArn?: string;
}

/** The external id the sandbox's Greenlight gives, and its access roles ask for. */
export const SANDBOX_EXTERNAL_ID = 'greenlight-sandbox';

export interface WorldAccounts {
  sts: StsEmulator;
  /** `account/region` → the CodePipeline of that account and region. */
  emulators: ReadonlyMap<string, CodePipelineEmulator>;
}

export interface World {
  emulator: CodePipelineEmulator;
  /** DescribeChangeSet over awsQuery; a CHANGE_SET_REPLACE action that succeeds creates its change set here. */
  cloudformation: CloudFormationEmulator;
  /** What each commit's template changes (default: three modifications in place). */
  changePlans: ChangePlans;
  slack: SlackSimulator;
  /** Where Slack sends interactions (the Lambda Function URL, locally). */
  appUrl: string;
  handlers: Handlers;
  /** With `accounts`: the other accounts' CodePipeline and the STS that gives their roles. */
  accounts?: WorldAccounts;
  /** Waits until the pipelines and the handlers they triggered are quiet. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

type Handlers = {
  approvalNotification: typeof import('../handlers/approval-notification.ts').handler;
  slackEvents: typeof import('../handlers/slack-events.ts').handler;
  dailyDigest: typeof import('../handlers/daily-digest.ts').handler;
  releaseWorker: typeof import('../handlers/release-worker.ts').handler;
  releaseAction: typeof import('../handlers/release-action.ts').handler;
  pipelineEvents: typeof import('../handlers/pipeline-events.ts').handler;
};

/**
 * Greenlight's whole world on loopback, wired exactly as in AWS: the CodePipeline emulator publishes
 * approval notifications to the real SNS handler; the Slack simulator sends signed requests over
 * HTTP to the real Function URL handler; the app calls both through the real SDKs.
 *
 * Handlers read their configuration from the environment, so a process holds one world.
 */
export async function startWorld(options: WorldOptions = {}): Promise<World> {
  const log = options.log ?? (() => {});
  const closers: Array<() => Promise<void>> = [];
  let handlers: Handlers | undefined;

  // Lambda retries a failed asynchronous (SNS) invocation twice; so does the sandbox.
  const deliverNotification = async (event: SNSEvent) => {
    for (let attempt = 1; ; attempt++) {
      try {
        if (!handlers) throw new Error('Greenlight is still starting');
        return await handlers.approvalNotification(event);
      } catch (error) {
        if (attempt === 3) throw error;
        log(`approval notification failed (attempt ${attempt}); retrying: ${String(error)}`);
        await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
      }
    }
  };
  // EventBridge invokes its Lambda target asynchronously: Lambda retries a failed event twice.
  const deliverPipelineEvent = async (event: CodePipelineEvent) => {
    for (let attempt = 1; ; attempt++) {
      try {
        if (!handlers) throw new Error('Greenlight is still starting');
        return await handlers.pipelineEvents(event);
      } catch (error) {
        if (attempt === 3) throw error;
        log(`pipeline event failed (attempt ${attempt}); retrying: ${String(error)}`);
        await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
      }
    }
  };
  const cloudformation = await startCloudFormationEmulator({
    ...(options.emulator?.region ? { region: options.emulator.region } : {}),
    ...(options.emulator?.accountId ? { accountId: options.emulator.accountId } : {}),
  });
  closers.push(() => cloudformation.close());
  const changePlans = new ChangePlans(cloudformation);
  const emulator = await startCodePipelineEmulator({
    ...options.emulator,
    onActionSucceeded: changePlans.actionSucceeded,
    onApprovalNotification: deliverNotification,
    ...(options.pipelineEvents === false ? {} : { onPipelineEvent: deliverPipelineEvent }),
  });
  closers.push(() => emulator.close());

  let accounts: WorldAccounts | undefined;
  let codePipelineUrl = emulator.url;
  if (options.accounts && options.accounts.length > 0) {
    const sts = await startStsEmulator({
      // As infra/access-stack.ts makes GreenlightAccess: each handler under the session name of what
      // it does, and only approver sessions answer approvals.
      roles: options.accounts.map((place) => ({
        roleArn: place.roleArn ?? `arn:aws:iam::${place.account}:role/GreenlightAccess`,
        externalId: SANDBOX_EXTERNAL_ID,
        sessionNames: Object.values(ACCESS_SESSION),
        onlySession: { 'codepipeline:PutApprovalResult': ACCESS_SESSION.approve },
      })),
    });
    closers.push(() => sts.close());
    const emulators = new Map<string, CodePipelineEmulator>();
    for (const place of options.accounts) {
      // Each account's CodePipeline events reach Greenlight as the access stack's forwarding rule
      // passes them to its bus: unchanged, so `account` and `region` are that account's own.
      const remote = await startCodePipelineEmulator({
        ...options.emulator,
        accountId: place.account,
        region: place.region,
        onApprovalNotification: deliverNotification,
        ...(options.pipelineEvents === false ? {} : { onPipelineEvent: deliverPipelineEvent }),
      });
      closers.push(() => remote.close());
      emulators.set(`${place.account}/${place.region}`, remote);
    }
    const router = await startAccountRouter({
      local: emulator.url,
      places: new Map([...emulators].map(([key, remote]) => [key, remote.url])),
      accountOf: (accessKeyId) => sts.issued(accessKeyId)?.account,
      denied: sts.denied,
    });
    closers.push(() => router.close());
    accounts = { sts, emulators };
    codePipelineUrl = router.url;
  }

  let app: FunctionUrlServer | undefined;
  const slack = await startSlackSimulator({
    ...options.slack,
    ...SANDBOX_SECRETS,
    deliver: async (request) => {
      if (!app) throw new Error('Greenlight is still starting');
      const response = await fetch(`${app.url}${request.path}`, {
        method: 'POST',
        headers: request.headers,
        body: request.body,
      });
      return { status: response.status, headers: Object.fromEntries(response.headers), body: await response.text() };
    },
  });
  closers.push(() => slack.close());

  const env: Record<string, string> = {
    SLACK_BOT_TOKEN: SANDBOX_SECRETS.botToken,
    SLACK_SIGNING_SECRET: SANDBOX_SECRETS.signingSecret,
    SLACK_API_URL: slack.apiUrl,
    APPROVALS_CHANNEL: SANDBOX_CHANNELS.approvals,
    DIGEST_CHANNEL: SANDBOX_CHANNELS.digest,
    AWS_REGION: emulator.region,
    AWS_ENDPOINT_URL_CODEPIPELINE: codePipelineUrl,
    // As the stack does: the external id for the products' roles, and Greenlight's own account.
    ...(accounts
      ? {
          AWS_ENDPOINT_URL_STS: accounts.sts.url,
          GREENLIGHT_EXTERNAL_ID: SANDBOX_EXTERNAL_ID,
          GREENLIGHT_ACCOUNT_ID: emulator.accountId,
        }
      : {}),
    AWS_ENDPOINT_URL_CLOUDFORMATION: cloudformation.url,
    // The emulator and dynalite take any credentials; these keep the SDK from looking for real ones.
    AWS_ACCESS_KEY_ID: 'sandbox',
    AWS_SECRET_ACCESS_KEY: 'sandbox',
    // Metrics go to CloudWatch on Lambda; locally they would only be noise on stdout.
    POWERTOOLS_METRICS_DISABLED: 'true',
    ...(options.demoPolicy ? { PRODUCTS: JSON.stringify(SANDBOX_DEMO_PRODUCTS) } : {}),
    ...options.env,
  };
  if (options.dataDir) {
    const dynamo = await startEmbeddedDynamo({ dataDir: options.dataDir });
    closers.push(() => dynamo.close());
    Object.assign(env, { APPROVALS_TABLE: dynamo.tableName, AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint });
  }
  Object.assign(process.env, env);

  handlers = {
    approvalNotification: (await import('../handlers/approval-notification.ts')).handler,
    slackEvents: (await import('../handlers/slack-events.ts')).handler,
    dailyDigest: (await import('../handlers/daily-digest.ts')).handler,
    releaseWorker: (await import('../handlers/release-worker.ts')).handler,
    releaseAction: (await import('../handlers/release-action.ts')).handler,
    pipelineEvents: (await import('../handlers/pipeline-events.ts')).handler,
  };
  // Without SQS, release jobs go to the process's queue, which hands them to the worker handler as
  // SQS would (handlers/release-worker.ts).
  const { releaseWorker } = handlers;
  if (!process.env.RELEASE_QUEUE_URL)
    sharedInProcessReleaseQueue(powertoolsLog()).consumeWith((event) => releaseWorker(event));
  app = await serveFunctionUrl(handlers.slackEvents, options.appPort ?? 0);
  closers.push(() => app?.close() ?? Promise.resolve());

  return {
    emulator,
    cloudformation,
    changePlans,
    slack,
    appUrl: `${app.url}/slack/events`,
    handlers,
    ...(accounts ? { accounts } : {}),
    settle: async () => {
      // Release jobs (the in-process queue) call CodePipeline, whose runs notify Greenlight again:
      // wait until both are quiet.
      for (;;) {
        await emulator.settle();
        for (const remote of accounts?.emulators.values() ?? []) await remote.settle();
        const releases = currentInProcessReleaseQueue();
        if (!releases || releases.idle()) return;
        await releases.settle();
      }
    },
    close: async () => {
      for (const close of closers.reverse()) await close();
    },
  };
}
