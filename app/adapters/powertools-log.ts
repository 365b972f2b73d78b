import { AsyncLocalStorage } from 'node:async_hooks';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import type { Log } from '../core/ports.ts';
import { slackErrorCode } from './slack-error-code.ts';

/** Powertools' Logger, saying whether this is the process's first invocation as Powertools counts it. */
class GreenlightLogger extends Logger {
  isColdStart(): boolean {
    return this.getColdStart();
  }
}

let shared: GreenlightLogger | undefined;

/**
 * The process's one Powertools Logger: every `powertoolsLog()` writes through it. Made on first
 * use, not on import, so it reads the log level (POWERTOOLS_LOG_LEVEL) the process has set by then.
 */
const lambdaLogger = (): GreenlightLogger => {
  shared ??= new GreenlightLogger({ serviceName: 'greenlight' });
  return shared;
};

interface InvocationKeys {
  cold_start: boolean;
  function_arn: string;
  function_memory_size: string;
  function_name: string;
  function_request_id: string;
  /** Only where Lambda's tenant isolation mode is on. */
  tenant_id?: string;
}

/**
 * Lambda's context as Powertools' `addContext` names it, for every line of one invocation.
 * `cold_start` is true on the first invocation the process serves, as Powertools counts it
 * (on-demand environments only). Written as keys of the invocation's scope rather than by a child
 * logger per invocation: a child costs a new Logger and console on every click.
 */
function invocationKeys(context: Context): InvocationKeys {
  return {
    cold_start: lambdaLogger().isColdStart(),
    function_arn: context.invokedFunctionArn,
    function_memory_size: context.memoryLimitInMB,
    function_name: context.functionName,
    function_request_id: context.awsRequestId,
    ...(context.tenantId ? { tenant_id: context.tenantId } : {}),
  };
}

/** The key that ties every log line about one approval or one release together. */
export type Correlation = { approvalId: string } | { releaseId: string };

interface Scope {
  invocation?: InvocationKeys;
  keys: Partial<Record<'approvalId' | 'releaseId', string>>;
}
const scope = new AsyncLocalStorage<Scope>();
const current = (): Scope => scope.getStore() ?? { keys: {} };

/**
 * Runs one invocation of a handler: everything it logs, down to the work it leaves running,
 * carries `context` (none when there is no context, off Lambda). The keys live in the
 * invocation's async scope, not on the shared logger, so nothing is left to reset afterwards and
 * invocations that overlap in one process (the sandbox) never see each other's keys.
 */
export function withLambdaContext<T>(context: Context | undefined, run: () => T): T {
  return scope.run(context ? { invocation: invocationKeys(context), keys: {} } : { keys: {} }, run);
}

/** Runs `run` with `keys` on every line it logs, on top of the invocation's context. */
export function withCorrelation<T>(keys: Correlation, run: () => T): T {
  const { invocation, keys: outer } = current();
  return scope.run({ ...(invocation ? { invocation } : {}), keys: { ...outer, ...keys } }, run);
}

/** The core's Log port on Powertools' structured JSON logger. */
export function powertoolsLog(): Log {
  const write =
    (level: 'debug' | 'info' | 'warn' | 'error') => (message: string, context?: Record<string, unknown>) => {
      const { invocation, keys } = current();
      lambdaLogger()[level](message, { ...invocation, ...keys, ...redact(context) });
    };
  return {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
  };
}

function redact(context: Record<string, unknown> = {}): Record<string, unknown> {
  return Object.fromEntries(Object.entries(context).map(([key, value]) => [key, redactError(value)]));
}

/**
 * AWS service errors quote the values they refused — an approval token among them — so their
 * messages never reach a log line: we keep the name and the request id, which is what support asks
 * for. Our own errors keep their message (it names no secrets), with their causes redacted too.
 */
export function redactError(value: unknown): unknown {
  if (!(value instanceof Error)) return value;
  if ('$metadata' in value) {
    const metadata = (value as { $metadata?: { requestId?: string; httpStatusCode?: number } }).$metadata;
    return { name: value.name, requestId: metadata?.requestId, httpStatusCode: metadata?.httpStatusCode };
  }
  const fix = slackFix(value);
  const message = fix ? `${value.message}: ${fix}` : value.message;
  const copy = new Error(message, value.cause === undefined ? undefined : { cause: redactError(value.cause) });
  copy.name = value.name;
  if (value.stack) copy.stack = value.stack;
  return copy;
}

/** Said for every answer that means the bot token is gone. */
const TOKEN_GONE =
  "Slack no longer accepts the bot token: reinstall the app and put its new bot token in Greenlight's Slack secret (used within 5 minutes)";

/**
 * What an operator must do about a Slack answer no retry can change (Slack's error codes, as
 * @slack/web-api reports them: `code` slack_webapi_platform_error, `data.error`), in plain words on
 * the log line; undefined for anything else.
 */
const SLACK_FIXES: Readonly<Record<string, string>> = {
  not_in_channel: "Greenlight's bot is not in that channel: type /invite @Greenlight there",
  channel_not_found:
    "the bot sees no channel with that id: check the channel id (APPROVALS_CHANNEL, DIGEST_CHANNEL, the product's channel), or invite the bot to the private channel",
  is_archived: 'the channel is archived: unarchive it, or configure another channel',
  invalid_auth: TOKEN_GONE,
  token_revoked: TOKEN_GONE,
  account_inactive: TOKEN_GONE,
  missing_scope:
    'the Slack app lacks a scope this call needs: update it from the manifest (README.md, "Create the Slack app from the manifest") and reinstall it',
};

function slackFix(error: Error): string | undefined {
  if ((error as Error & { code?: unknown }).code !== 'slack_webapi_platform_error') return undefined;
  const code = slackErrorCode(error);
  return code && Object.hasOwn(SLACK_FIXES, code) ? SLACK_FIXES[code] : undefined;
}
