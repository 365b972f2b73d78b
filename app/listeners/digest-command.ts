import type { RespondFn } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { permalinksOf } from '../adapters/slack-digest-publisher.ts';
import { buildDigest, type DigestDeps } from '../core/digest.ts';
import type { SlackMessage } from '../views/approval-message.ts';
import { digestPreview } from '../views/digest-message.ts';
import { notices } from '../views/notices.ts';

export interface DigestCommandDeps extends DigestDeps {
  slack: WebClient;
}

/**
 * `/release digest`: today's digest as it would post now, shown only to the person who asked
 * (ephemeral, through the command's response_url). Nothing is written: no marker, no post, so
 * the scheduled digest still goes out.
 */
export async function handleDigestCommand(deps: DigestCommandDeps, respond: RespondFn): Promise<void> {
  let preview: SlackMessage;
  try {
    const digest = await buildDigest(deps, deps.clock());
    preview = digestPreview(digest, await permalinksOf(deps.slack, digest, deps.log));
  } catch (error) {
    deps.log.error('Could not build the digest preview', { error });
    await respond({ response_type: 'ephemeral', text: notices.failed });
    return;
  }
  await respond({ response_type: 'ephemeral', replace_original: false, ...preview });
}
