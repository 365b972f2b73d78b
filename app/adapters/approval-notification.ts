import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { ApprovalId, ApprovalRequest } from '../core/approval.ts';
import { type RequestDeps, requestApproval } from '../core/request-approval.ts';

/** CodePipeline's names: 1–100 characters of letters, digits and `.@-_`. */
const name = z.string().regex(/^[A-Za-z0-9.@\-_]{1,100}$/);

/** `expires` has minute precision (`2016-07-07T20:22Z`); seconds are accepted should AWS add them. */
const expires = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?Z$/)
  .transform((value) => new Date(value))
  .refine((value) => !Number.isNaN(value.getTime()), 'not a date');

/** AWS console links only: anything else in these fields did not come from CodePipeline. */
const consoleUrl = z
  .url({ protocol: /^https$/, hostname: /(^|\.)console\.(aws\.amazon\.com|amazonaws\.cn|amazonaws-us-gov\.com)$/ })
  .max(1000);

/** The JSON CodePipeline publishes to SNS when a manual approval action starts (DESIGN.md). */
export const approvalNotificationSchema = z.object({
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/),
  consoleLink: consoleUrl,
  approval: z.object({
    pipelineName: name,
    stageName: name,
    actionName: name,
    token: z.string().min(1).max(200),
    expires,
    externalEntityLink: z
      .url({ protocol: /^https?$/ })
      .max(1000)
      .optional(),
    approvalReviewLink: consoleUrl,
    customData: z.string().optional(),
  }),
});

/** Approvals are keyed by a digest of their token: stable across repeats, and the token stays secret. */
export const approvalIdFor = (token: string): ApprovalId =>
  createHash('sha256').update(token).digest('base64url').slice(0, 22);

export type ParsedNotification = { ok: true; request: ApprovalRequest } | { ok: false; problem: string };

/** Parses one SNS message body. Anything that is not a CodePipeline approval says why, without echoing secrets. */
export function parseApprovalNotification(message: string, receivedAt: Date): ParsedNotification {
  let json: unknown;
  try {
    json = JSON.parse(message);
  } catch {
    return { ok: false, problem: 'not JSON' };
  }
  const parsed = approvalNotificationSchema.safeParse(json);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((issue) => issue.path.join('.') || '(root)');
    return { ok: false, problem: `not a CodePipeline approval: bad or missing ${[...new Set(fields)].join(', ')}` };
  }
  const { region, consoleLink, approval } = parsed.data;
  return {
    ok: true,
    request: {
      id: approvalIdFor(approval.token),
      pipelineName: approval.pipelineName,
      stageName: approval.stageName,
      actionName: approval.actionName,
      region,
      token: approval.token,
      expiresAt: approval.expires,
      consoleLink,
      reviewLink: approval.approvalReviewLink,
      ...(approval.externalEntityLink ? { externalEntityLink: approval.externalEntityLink } : {}),
      ...(approval.customData ? { customData: approval.customData } : {}),
      receivedAt,
    },
  };
}

/** Just what Greenlight reads of an SNS event (Lambda's SNSEvent has more). */
export interface SnsEvent {
  Records: Array<{ Sns: { MessageId: string; Message: string; Subject?: string | null; Timestamp?: string } }>;
}

/**
 * Handles every record of an SNS delivery. A record that is not a CodePipeline approval is logged
 * with its MessageId and skipped: retrying it can never help. A failure while handling a real
 * approval is thrown after the other records are done, so Lambda retries the delivery; the retry
 * is safe because requestApproval is idempotent.
 */
export async function ingestApprovalNotifications(deps: RequestDeps, event: SnsEvent): Promise<void> {
  const failures: unknown[] = [];
  for (const record of event.Records ?? []) {
    const messageId = record.Sns?.MessageId;
    const parsed = parseApprovalNotification(record.Sns?.Message ?? '', deps.clock());
    if (!parsed.ok) {
      deps.log.warn('Skipped an SNS message that is not a CodePipeline approval', {
        messageId,
        subject: record.Sns?.Subject ?? undefined,
        problem: parsed.problem,
      });
      continue;
    }
    const { request } = parsed;
    try {
      const result = await requestApproval(deps, request);
      deps.log.info('Approval notification handled', {
        messageId,
        approvalId: request.id,
        pipeline: request.pipelineName,
        stage: request.stageName,
        result,
      });
    } catch (error) {
      deps.log.error('Could not handle an approval notification; it will be retried', {
        messageId,
        approvalId: request.id,
        error,
      });
      failures.push(error);
    }
  }
  if (failures.length === 1) throw failures[0];
  if (failures.length > 1) throw new AggregateError(failures, `${failures.length} approval notifications failed`);
}
