import { booleanArg, SlackApiError, stringArg } from './api-args.ts';
import type { ResponseTarget } from './interaction-tokens.ts';
import { readContent, requireContent } from './message-content.ts';
import type { EphemeralSource, JsonObject } from './types.ts';
import type { Workspace } from './workspace.ts';

/**
 * Applies what an app posts to a response_url (or answers a command with) the way Slack shows it:
 * `delete_original` / `replace_original` act on the message a button was on; otherwise a new message,
 * visible to the channel with `response_type: "in_channel"`, else only to the person (the default).
 * Throws SlackApiError (`no_text`, `invalid_blocks` …) for content Slack would refuse.
 */
export function applyResponse(
  workspace: Workspace,
  target: ResponseTarget,
  body: JsonObject,
  source: EphemeralSource = 'response_url',
): void {
  const seed = `response:${workspace.nextSequence()}`;
  if (target.kind === 'message' && (booleanArg(body, 'delete_original') || booleanArg(body, 'replace_original'))) {
    const exists = target.ephemeral
      ? workspace.ephemerals(target.channel, target.user).some((ephemeral) => ephemeral.ts === target.messageTs)
      : workspace.message(target.channel, target.messageTs) !== undefined;
    if (!exists) throw new SlackApiError('message_not_found', { status: 404 });
  }
  if (target.kind === 'message' && booleanArg(body, 'delete_original')) {
    if (target.ephemeral) workspace.deleteEphemeral(target.messageTs);
    else workspace.delete(target.channel, target.messageTs);
    return;
  }
  const content = requireContent(readContent(body, seed));
  if (target.kind === 'message' && booleanArg(body, 'replace_original')) {
    if (target.ephemeral) workspace.replaceEphemeral(target.messageTs, content);
    // Replacing is the whole message: blocks the new content does not have are gone.
    else workspace.update(target.channel, target.messageTs, { blocks: [], ...content }, workspace.bot.userId);
    return;
  }
  const threadTs = stringArg(body, 'thread_ts');
  if (stringArg(body, 'response_type') === 'in_channel') {
    workspace.post(target.channel, {
      user: workspace.bot.userId,
      ...content,
      ...(threadTs ? { thread_ts: threadTs } : {}),
    });
    return;
  }
  workspace.postEphemeral({
    channel: target.channel,
    user: target.user,
    ...content,
    ...(threadTs ? { thread_ts: threadTs } : {}),
    source,
  });
}
