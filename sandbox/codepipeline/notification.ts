import { randomUUID } from 'node:crypto';
import type { SNSEvent } from 'aws-lambda';

/** What CodePipeline publishes to the action's SNS topic when a manual approval starts. */
export interface ApprovalNotification {
  region: string;
  consoleLink: string;
  approval: {
    pipelineName: string;
    stageName: string;
    actionName: string;
    token: string;
    expires: string;
    externalEntityLink?: string;
    approvalReviewLink: string;
    customData?: string;
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

const consoleBase = (region: string) => `https://console.aws.amazon.com/codepipeline/home?region=${region}#/view`;

/** CodePipeline gives `expires` to the minute, e.g. `2016-07-07T20:22Z`. */
export const minutePrecision = (date: Date) => `${date.toISOString().slice(0, 16)}Z`;

export function approvalNotification(facts: PendingApprovalFacts): ApprovalNotification {
  const { region, pipelineName, stageName, actionName, token } = facts;
  return {
    region,
    consoleLink: `${consoleBase(region)}/${pipelineName}`,
    approval: {
      pipelineName,
      stageName,
      actionName,
      token,
      expires: minutePrecision(facts.expiresAt),
      ...(facts.externalEntityLink === undefined ? {} : { externalEntityLink: facts.externalEntityLink }),
      approvalReviewLink: `${consoleBase(region)}/${pipelineName}/${stageName}/${actionName}/approve/${token}`,
      ...(facts.customData === undefined ? {} : { customData: facts.customData }),
    },
  };
}

/** SNS limits subjects to 100 characters; CodePipeline's subject names pipeline and action. */
const subject = (pipelineName: string, actionName: string) =>
  `APPROVAL NEEDED: AWS CodePipeline ${pipelineName} for action ${actionName}`.slice(0, 100);

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
          Subject: subject(facts.pipelineName, facts.actionName),
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
