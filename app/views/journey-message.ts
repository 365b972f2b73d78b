import type { ApprovalRecord } from '../core/approval.ts';
import type { JourneyStepPost } from '../core/ports.ts';
import type { SlackMessage } from './approval-message.ts';
import { clip, duration, escapeMrkdwn, link, mention } from './format.ts';
import { BLOCK_KIT } from './limits.ts';

/**
 * One step of the change's journey, posted in its approval's thread (core/journey.ts): short lines,
 * read in a thread under the approval they follow. Only a failure mentions anyone: the approver,
 * whose change it is.
 */
export function journeyMessage(record: ApprovalRecord, step: JourneyStepPost): SlackMessage {
  const pipeline = escapeMrkdwn(record.request.pipelineName);
  const line = stepLine(pipeline, step);
  return {
    text: plain(line),
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text: clip(line, BLOCK_KIT.text) } }],
  };
}

function stepLine(pipeline: string, step: JourneyStepPost): string {
  switch (step.kind) {
    case 'started':
      return `⏳ *${escapeMrkdwn(step.stageName)}* started: deploying ${pipeline}`;
    case 'succeeded':
      return `✅ *${escapeMrkdwn(step.stageName)}* succeeded`;
    case 'production':
      return `🚀 *${pipeline} reached production*, ${duration(step.elapsedMs)} after approval`;
    case 'failed': {
      const what = step.actionName ? `action *${escapeMrkdwn(step.actionName)}* failed` : 'failed';
      const why = step.summary ? `: ${escapeMrkdwn(clip(step.summary, 300))}` : '';
      const who = step.mention.length > 0 ? ` ${step.mention.map(mention).join(' ')}` : '';
      return `❌ *${escapeMrkdwn(step.stageName)}* ${what}${why} (${link(step.link, 'open in the AWS console')})${who}`;
    }
  }
}

/** The fallback text (notifications): no bold, links as their labels; mentions stay, so they still notify. */
const plain = (line: string): string => line.replace(/\*/g, '').replace(/<([^|>]+)\|([^>]+)>/g, '$2');
