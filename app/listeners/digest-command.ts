import type { RespondArguments, SlackCommandMiddlewareArgs } from '@slack/bolt';
import { previewDigest } from '../core/digest-posting.ts';
import { releaseNotices } from '../views/release-help.ts';
import { type AnswerBy, COMMAND_DEADLINES, type ReleaseListenerDeps, timeToRead, within } from './release-context.ts';

/**
 * `/release digest`: the next digest as it would post now, shown only to the person who asked
 * (ephemeral, through the command's response_url). Nothing is written: no marker, no post, so
 * the scheduled digest still goes out. An installation of more pipelines than can be read within
 * the command's 3 s (or one CodePipeline is slow to list, or the reads run out of the command's
 * budget) is read by the release worker.
 */
export async function handleDigestCommand(
  deps: ReleaseListenerDeps,
  args: Pick<SlackCommandMiddlewareArgs, 'command' | 'respond'>,
  ack: (answer?: RespondArguments) => Promise<void>,
  answerBy: AnswerBy,
): Promise<void> {
  const { command } = args;
  const { queue, settings, reporter } = deps;
  const listed = await within(COMMAND_DEADLINES.discoveryMs, deps.reader.listPipelines('')).catch(() => ({
    done: false as const,
  }));
  if (!listed.done || listed.value.length > settings.inlinePipelines) {
    await queue.send({ kind: 'digest', responseUrl: command.response_url, userId: command.user_id });
    await ack({
      response_type: 'ephemeral',
      text: releaseNotices.digestQueued(listed.done ? listed.value.length : undefined),
    });
    return;
  }
  await ack();
  // Slack hears the answer when the listener ends: what the command cannot read in time, the worker reads.
  const readMs = Math.min(COMMAND_DEADLINES.digestMs, timeToRead(deps.clock, answerBy));
  const built = await within(readMs, previewDigest(deps, deps.clock())).catch((error: unknown) => ({
    done: false as const,
    error,
  }));
  if (built.done) {
    try {
      await reporter.showDigest(command.response_url, built.value);
    } catch (error) {
      deps.log.error('Could not show the digest preview', { error });
      await args.respond({ response_type: 'ephemeral', text: releaseNotices.failed });
    }
    return;
  }
  deps.log.warn('Could not build the digest preview within the command; the worker builds it', {
    ...('error' in built ? { error: built.error } : { waitedMs: readMs }),
  });
  try {
    await queue.send({ kind: 'digest', responseUrl: command.response_url, userId: command.user_id });
  } catch (error) {
    deps.log.error('Could not build the digest preview', { error });
    await args.respond({ response_type: 'ephemeral', text: releaseNotices.failed });
  }
}
