import { createHmac } from 'node:crypto';

/** Slack's request signature: `v0=` + hex(HMAC-SHA256(signingSecret, "v0:<timestamp>:<raw body>")). */
export function signSlackRequest(signingSecret: string, timestamp: number | string, body: string): string {
  return `v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

/**
 * The headers Slack sends with every interaction and command, lower-cased as a Lambda Function URL event has them.
 * The content type is exactly this string: Bolt's receivers compare it literally.
 */
export function slackRequestHeaders(signingSecret: string, timestamp: number, body: string): Record<string, string> {
  return {
    'content-type': 'application/x-www-form-urlencoded',
    'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
    'x-slack-request-timestamp': String(timestamp),
    'x-slack-signature': signSlackRequest(signingSecret, timestamp, body),
  };
}
