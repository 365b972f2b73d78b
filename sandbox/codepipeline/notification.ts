import { randomUUID } from 'node:crypto';
import type { SNSEvent } from 'aws-lambda';

/**
 * What CodePipeline publishes to the action's SNS topic when a manual approval starts. Keys in the
 * order real notifications carry them; `externalEntityLink` and `customData` are always present and
 * `null` when the action does not configure them (captured: `"externalEntityLink":null,…,"customData":null`
 * in tkazusa/aws-ml-cicd-pipeline cdk_ml_cicd_pipeline/tests/unit/resources/notification/test_lambda_handler.py
 * and `"externalEntityLink":null` in DEEPAK081998/test-usaa-prefect-cloudformation
 * test/lambdas/send_notififcation_lambda/test_notification_handler.py, a delivery with a real SNS signature).
 */
export interface ApprovalNotification {
  region: string;
  consoleLink: string;
  approval: {
    pipelineName: string;
    stageName: string;
    actionName: string;
    token: string;
    expires: string;
    externalEntityLink: string | null;
    approvalReviewLink: string;
    customData: string | null;
  };
}

export interface PendingApprovalFacts {
  region: string;
  accountId: string;
  topicArn: string;
  pipelineName: string;
  stageName: string;
  actionName: string;
  token: string;
  expiresAt: Date;
  externalEntityLink?: string | undefined;
  customData?: string | undefined;
}

/**
 * The pipeline's page in the current console, as today's notifications link it:
 * `https://console.aws.amazon.com/codesuite/codepipeline/pipelines/<name>/view?region=<region>`
 * (both captures above; the AWS docs' sample still shows the older `/codepipeline/home?…#/view/<name>`,
 * docs.aws.amazon.com/codepipeline/latest/userguide/approvals-json-format.html).
 */
const consoleLinkOf = (region: string, pipelineName: string) =>
  `https://console.aws.amazon.com/codesuite/codepipeline/pipelines/${pipelineName}/view?region=${region}`;

/**
 * The review link is the console link plus a fragment `#/<stage>/<action>/approve/<token>` (both
 * captures above, e.g. `…/pipelines/vrathore-slack-test2-sandbox-pipeline/view?region=us-east-1#/Approval/ManualApproval/approve/0c35…`).
 */
const reviewLinkOf = (consoleLink: string, stageName: string, actionName: string, token: string) =>
  `${consoleLink}#/${stageName}/${actionName}/approve/${token}`;

/** CodePipeline gives `expires` to the minute, e.g. `2016-07-07T20:22Z`. */
export const minutePrecision = (date: Date) => `${date.toISOString().slice(0, 16)}Z`;

export function approvalNotification(facts: PendingApprovalFacts): ApprovalNotification {
  const { region, pipelineName, stageName, actionName, token } = facts;
  const consoleLink = consoleLinkOf(region, pipelineName);
  return {
    region,
    consoleLink,
    approval: {
      pipelineName,
      stageName,
      actionName,
      token,
      expires: minutePrecision(facts.expiresAt),
      externalEntityLink: facts.externalEntityLink ?? null,
      approvalReviewLink: reviewLinkOf(consoleLink, stageName, actionName, token),
      customData: facts.customData ?? null,
    },
  };
}

/**
 * SNS refuses subjects of 100 characters or more ("UTF-8 text with no line breaks or control
 * characters, and less than 100 characters long": SNS API reference, Publish, `Subject`).
 */
export const SNS_SUBJECT_LIMIT = 100;
const SUBJECT_NAME_KEEP = 24;

/**
 * CodePipeline keeps the first 24 characters of a name longer than that and adds `...`: the captured subject
 * `APPROVAL NEEDED: AWS CodePipeline vrathore-slack-test2-san... for action ManualApproval` for
 * pipeline `vrathore-slack-test2-sandbox-pipeline` (DEEPAK081998/test-usaa-prefect-cloudformation,
 * above), and `…CodePipeline ml-cicd-pipelin... for action approval` for the 25-character
 * `taketosk-ml-cicd-pipeline` (tkazusa/aws-ml-cicd-pipeline, above, with the prefix edited out).
 * No capture shows a long action name; shortening it the same way is an inference: it is what makes
 * the longest subject (34 + 27 + 12 + 27 characters) fit SNS's limit, which the final slice keeps anyway.
 */
export const subjectName = (name: string) =>
  name.length > SUBJECT_NAME_KEEP ? `${name.slice(0, SUBJECT_NAME_KEEP)}...` : name;

/** The SNS subject CodePipeline publishes the approval with (captures above). */
export const approvalSubject = (pipelineName: string, actionName: string) =>
  `APPROVAL NEEDED: AWS CodePipeline ${subjectName(pipelineName)} for action ${subjectName(actionName)}`.slice(
    0,
    SNS_SUBJECT_LIMIT,
  );

/** The notification as Lambda receives it from an SNS subscription. */
export function snsApprovalEvent(facts: PendingApprovalFacts, publishedAt: Date): SNSEvent {
  const { region, topicArn } = facts;
  const subscriptionArn = `${topicArn}:${randomUUID()}`;
  return {
    Records: [
      {
        EventSource: 'aws:sns',
        EventVersion: '1.0',
        EventSubscriptionArn: subscriptionArn,
        Sns: {
          Type: 'Notification',
          MessageId: randomUUID(),
          TopicArn: topicArn,
          Subject: approvalSubject(facts.pipelineName, facts.actionName),
          Message: JSON.stringify(approvalNotification(facts)),
          Timestamp: publishedAt.toISOString(),
          SignatureVersion: '1',
          // Emulated: nothing downstream verifies SNS signatures inside Lambda.
          Signature: Buffer.from(`emulated-signature:${facts.token}`).toString('base64'),
          SigningCertUrl: `https://sns.${region}.amazonaws.com/SimpleNotificationService-emulated.pem`,
          UnsubscribeUrl: `https://sns.${region}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${subscriptionArn}`,
          MessageAttributes: {},
        },
      },
    ],
  };
}
