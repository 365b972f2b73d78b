import * as z from 'zod';
import { approvalIdFor } from '../adapters/approval-id.ts';
import { withCorrelation } from '../adapters/powertools-log.ts';
import type { Config, ProductOverrides } from '../config.ts';
import { type ApprovalRequest, DEFAULT_APPROVAL_TIMEOUT_MS } from '../core/approval.ts';
import { AWS_REGION, CODEPIPELINE_NAME, pipelineConsoleLink } from '../core/codepipeline-names.ts';
import { policyAtIngest } from '../core/policy-at-ingest.ts';
import { routeApproval } from '../core/products.ts';
import { type RequestDeps, requestApproval } from '../core/request-approval.ts';
import { reviewApproval } from '../core/revision-review.ts';
import { clip } from '../core/text.ts';
import { type ClientOverrides, QueueingClients } from '../deps.ts';
import { parseWellFormed } from '../parse-json.ts';

/*
 * The way in of CodePipeline's approval notifications: SNS → handlers/approval-notification.ts →
 * here. Each SNS record becomes one Slack message (core/request-approval.ts).
 */

/**
 * What handling a notification needs: the core's RequestDeps, on the ingest path's budget, and the
 * products, whose accounts and regions say where each approval comes from.
 */
export type NotificationDeps = RequestDeps & { products?: Readonly<ProductOverrides> };

export async function notificationDeps(config: Config, overrides?: ClientOverrides): Promise<NotificationDeps> {
  const clients = new QueueingClients(config, 'approval-notification', overrides);
  return {
    store: await clients.approvalStore(),
    notifier: await clients.approvalNotifier(),
    clock: clients.clock,
    ids: clients.ids,
    log: clients.log,
    metrics: clients.metrics,
    // The approval's pipeline is read where it lives: in its account, through the role there.
    policyFor: async (request) => policyAtIngest(config.products, await clients.readerAt(request), request),
    products: config.products,
    reviewFor: async (request, signal) => reviewApproval({ ...(await clients.reviewAt(request)), signal }, request),
    pipelines: await clients.policyDecisions(),
    // An auto-approved message whose redraw failed is redrawn by a settle job, as after a click.
    settleLater: clients.settleLater,
  };
}

/**
 * The JSON CodePipeline publishes to SNS when a manual approval action starts, as it really comes
 * (docs/architecture.md, "External formats"; real captures in test/conformance/fixtures):
 * region, pipeline, stage, action, token and expiry are always there. Everything else may be a
 * string, an empty string, `null` (what CodePipeline sends when the action has no review URL or no
 * comments) or missing.
 */
const required = {
  region: z.string().regex(AWS_REGION),
  pipelineName: z.string().regex(CODEPIPELINE_NAME),
  stageName: z.string().regex(CODEPIPELINE_NAME),
  actionName: z.string().regex(CODEPIPELINE_NAME),
  /** Real tokens are lowercase UUIDs; anything bounded is kept, it is only ever sent back to CodePipeline. */
  token: z.string().min(1).max(200),
  /** Minute precision (`2016-07-07T20:22Z`); seconds are accepted should AWS add them. */
  expires: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?Z$/)
    .transform((value) => new Date(value))
    .refine((value) => !Number.isNaN(value.getTime()), 'not a date'),
};

/** AWS console links only, in every host form (global, `<region>.console…`, China, GovCloud). */
const consoleUrl = z.url({
  protocol: /^https$/,
  hostname: /(^|\.)console\.(aws\.amazon\.com|amazonaws\.cn|amazonaws-us-gov\.com)$/,
});
const reviewUrl = z.url({ protocol: /^https?$/ }).max(2000);

/**
 * The comments of an approval action are an action configuration value, which CodePipeline caps at
 * 1000 characters (awsdocs/aws-codepipeline-user-guide#24). Anything longer did not come from it
 * and is cut before it is stored.
 */
export const CUSTOM_DATA_LIMIT = 1000;

export type ParsedNotification =
  | { ok: true; request: ApprovalRequest; ignored: string[] }
  | { ok: false; problem: string };

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Parses one SNS message body. A message that is not a CodePipeline approval at all (no approval
 * token and pipeline) says why, without echoing secrets. A message that is an approval always
 * gives a request: when a required field cannot be read, the request is marked `unreadable` with
 * those fields' names, so Greenlight posts what it could read and sends people to the console
 * instead of dropping an approval nobody would ever see. `ignored` names optional fields that were
 * present but unusable (a link that is not a link), which the request goes without.
 */
export function parseApprovalNotification(
  message: string,
  receivedAt: Date,
  products: Readonly<ProductOverrides> = {},
  /** The SNS message's `Timestamp`, when it is a time (and not after `receivedAt`). */
  notifiedAt?: Date,
): ParsedNotification {
  let json: unknown;
  try {
    json = parseWellFormed(message);
  } catch {
    return { ok: false, problem: 'not JSON' };
  }
  const approval = isObject(json) && isObject(json.approval) ? json.approval : undefined;
  if (
    !approval ||
    typeof approval.token !== 'string' ||
    approval.token === '' ||
    typeof approval.pipelineName !== 'string'
  )
    return { ok: false, problem: 'not a CodePipeline approval: no approval token and pipeline name' };
  const root = json as Json;

  const unreadable: string[] = [];
  const read = <T>(field: string, schema: z.ZodType<T>, value: unknown): T | undefined => {
    const parsed = schema.safeParse(value);
    if (parsed.success) return parsed.data;
    unreadable.push(field);
    return undefined;
  };
  const region = read('region', required.region, root.region);
  const pipelineName = read('approval.pipelineName', required.pipelineName, approval.pipelineName);
  const stageName = read('approval.stageName', required.stageName, approval.stageName);
  const actionName = read('approval.actionName', required.actionName, approval.actionName);
  const token = read('approval.token', required.token, approval.token);
  const expiresAt = read('approval.expires', required.expires, approval.expires);

  const ignored: string[] = [];
  const optional = <T>(field: string, schema: z.ZodType<T>, value: unknown): T | undefined => {
    if (value === undefined || value === null || value === '') return undefined;
    const parsed = schema.safeParse(value);
    if (parsed.success) return parsed.data;
    ignored.push(field);
    return undefined;
  };
  const consoleLink = optional('consoleLink', consoleUrl.max(2000), root.consoleLink);
  const reviewLink = optional('approval.approvalReviewLink', consoleUrl.max(2000), approval.approvalReviewLink);
  const externalEntityLink = optional('approval.externalEntityLink', reviewUrl, approval.externalEntityLink);
  const customData = optional('approval.customData', z.string(), approval.customData)?.trim();

  // A notification names its region but not its account (docs/architecture.md, "Many accounts and
  // regions"): the products say which account hosts this pipeline's stage in that region.
  const target =
    region && pipelineName && stageName ? routeApproval({ region, pipelineName, stageName }, products) : undefined;

  // Shown, never used to decide: what could not be read is shown as it came (escaped by the view).
  const shown = (value: unknown, fallback: string) =>
    typeof value === 'string' && value.trim() !== '' ? clip(value.trim(), 100) : fallback;
  return {
    ok: true,
    ignored,
    request: {
      id: approvalIdFor(token ?? String(approval.token), target),
      pipelineName: pipelineName ?? shown(approval.pipelineName, '(unnamed pipeline)'),
      stageName: stageName ?? shown(approval.stageName, '(unknown stage)'),
      actionName: actionName ?? shown(approval.actionName, '(unknown action)'),
      region: region ?? shown(root.region, '(unknown region)'),
      ...(target ? { account: target.account } : {}),
      token: token ?? '',
      expiresAt: expiresAt ?? new Date(receivedAt.getTime() + DEFAULT_APPROVAL_TIMEOUT_MS),
      consoleLink: consoleLink ?? pipelineConsoleLink(region, pipelineName),
      ...(reviewLink ? { reviewLink } : {}),
      ...(externalEntityLink ? { externalEntityLink } : {}),
      ...(customData ? { customData: clip(customData, CUSTOM_DATA_LIMIT) } : {}),
      ...(unreadable.length > 0 ? { unreadable } : {}),
      receivedAt,
      ...(notifiedAt ? { notifiedAt } : {}),
    },
  };
}

/** SNS's clock and ours may differ by this much. */
const SNS_CLOCK_SKEW_MS = 60_000;

/**
 * SNS's `Timestamp` ("the time (GMT) when the notification was published", SNS message format), if
 * it is a time and not later than we took it in.
 */
function publishedAt(timestamp: unknown, receivedAt: Date): Date | undefined {
  if (typeof timestamp !== 'string') return undefined;
  const at = new Date(timestamp);
  if (Number.isNaN(at.getTime()) || at.getTime() > receivedAt.getTime() + SNS_CLOCK_SKEW_MS) return undefined;
  return at;
}

/** Just what Greenlight reads of an SNS event (Lambda's SNSEvent has more). */
export interface SnsEvent {
  Records: Array<{ Sns: { MessageId: string; Message: string; Subject?: string | null; Timestamp?: string } }>;
}

/**
 * Handles every record of an SNS delivery. A record that is not a CodePipeline approval is logged
 * with its MessageId and skipped: retrying it can never help. A failure while handling a real
 * approval is thrown after the other records are done, so Lambda retries the delivery (and, after
 * its retries, dead-letters it); the retry is safe because requestApproval is idempotent.
 */
export async function ingestApprovalNotifications(deps: NotificationDeps, event: SnsEvent): Promise<void> {
  const records: unknown = (event as unknown as Json | null | undefined)?.Records;
  if (!Array.isArray(records)) {
    deps.log.error('Ignored an event that is not an SNS delivery: it has no Records list', {
      eventType: event === null ? 'null' : typeof event,
    });
    return;
  }
  const failures: unknown[] = [];
  for (const record of records as Array<Partial<SnsEvent['Records'][number]> | null>) {
    const sns = record?.Sns;
    const messageId = sns?.MessageId;
    const receivedAt = deps.clock();
    const parsed = parseApprovalNotification(
      typeof sns?.Message === 'string' ? sns.Message : '',
      receivedAt,
      deps.products,
      publishedAt(sns?.Timestamp, receivedAt),
    );
    if (!parsed.ok) {
      deps.log.warn('Skipped an SNS message that is not a CodePipeline approval', {
        messageId,
        subject: sns?.Subject ?? undefined,
        problem: parsed.problem,
      });
      continue;
    }
    const { request, ignored } = parsed;
    const context = {
      messageId,
      approvalId: request.id,
      pipeline: request.pipelineName,
      stage: request.stageName,
      region: request.region,
      ...(request.account ? { account: request.account } : {}),
    };
    if (request.unreadable)
      deps.log.error('An approval notification could not be read fully; posting what could be read', {
        ...context,
        unreadable: request.unreadable,
      });
    if (ignored.length > 0)
      deps.log.warn('Ignored unusable optional fields of an approval notification', { ...context, ignored });
    // Every line about this approval, ours and the core's, carries its id.
    await withCorrelation({ approvalId: request.id }, async () => {
      try {
        const result = await requestApproval(deps, request);
        deps.log.info('Approval notification handled', { ...context, result });
      } catch (error) {
        deps.log.error('Could not handle an approval notification; it will be retried', { ...context, error });
        failures.push(error);
      }
    });
  }
  if (failures.length === 1) throw failures[0];
  if (failures.length > 1) throw new AggregateError(failures, `${failures.length} approval notifications failed`);
}
