import { type Logger, LogLevel, webApi } from '@slack/bolt';
import type { AppResponse, SlackRequest, SlackSimulator } from '../../../sandbox/slack/index.ts';

export const botToken = 'xoxb-test-token';
export const signingSecret = 'test-signing-secret';

/** Expected Slack errors are the point of these tests; the WebClient would print each one. */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  setLevel: () => {},
  getLevel: () => LogLevel.ERROR,
  setName: () => {},
};

export function webClient(sim: SlackSimulator, options: webApi.WebClientOptions = {}): webApi.WebClient {
  return new webApi.WebClient(botToken, {
    slackApiUrl: sim.apiUrl,
    retryConfig: { retries: 0 },
    logger: silentLogger,
    ...options,
  });
}

/** A clock that moves only when told, so expiry and refill are tested without sleeping. */
export function manualClock(start = Date.now()) {
  let now = start;
  return {
    clock: () => new Date(now),
    advance: (ms: number) => {
      now += ms;
    },
  };
}

/** Stands in for the app: keeps every request and answers with `answer` (HTTP 200, empty body by default). */
export function recordingApp(answer: (request: SlackRequest) => AppResponse = () => ({ status: 200, body: '' })) {
  const requests: SlackRequest[] = [];
  return {
    requests,
    deliver: async (request: SlackRequest) => {
      requests.push(request);
      return answer(request);
    },
    /** The `payload` JSON of the last interaction. */
    lastPayload: (): Record<string, unknown> => {
      const body = requests.at(-1)?.body ?? '';
      return JSON.parse(new URLSearchParams(body).get('payload') ?? 'null');
    },
  };
}

export const button = (actionId: string, text: string, value: string, style?: 'primary' | 'danger') => ({
  type: 'button',
  action_id: actionId,
  text: { type: 'plain_text', text },
  value,
  ...(style ? { style } : {}),
});

/** An approval request as Greenlight might post it: a summary and Approve / Reject buttons. */
export function approvalMessage(approvalId = 'shop-cart/StagingDEV/1') {
  return {
    channel: 'C0APPROVALS',
    text: 'Approval needed: shop-cart › StagingDEV',
    blocks: [
      { type: 'section', block_id: 'summary', text: { type: 'mrkdwn', text: '*shop-cart* › StagingDEV' } },
      {
        type: 'actions',
        block_id: 'decision',
        elements: [
          button('approve', 'Approve', approvalId, 'primary'),
          button('reject', 'Reject', approvalId, 'danger'),
        ],
      },
    ],
  };
}

/** A modal asking why, with one required text input. */
export function reasonModal(extra: Record<string, unknown> = {}) {
  return {
    type: 'modal',
    callback_id: 'reject_reason',
    private_metadata: 'shop-cart/StagingDEV/1',
    title: { type: 'plain_text', text: 'Reject' },
    submit: { type: 'plain_text', text: 'Reject' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      { type: 'section', block_id: 'intro', text: { type: 'mrkdwn', text: 'Why do you reject it?' } },
      {
        type: 'input',
        block_id: 'reason',
        label: { type: 'plain_text', text: 'Reason' },
        element: { type: 'plain_text_input', action_id: 'reason_input', multiline: true },
      },
    ],
    ...extra,
  };
}
