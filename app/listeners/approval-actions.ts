import type {
  App,
  BlockAction,
  ButtonAction,
  SlackActionMiddlewareArgs,
  SlackViewMiddlewareArgs,
  ViewSubmitAction,
} from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { type ApprovalRecord, checkReason, type Decision, isOpenToDecision, type Verdict } from '../core/approval.ts';
import { decideUnderRules, mayBreakGlass } from '../core/decide-under-rules.ts';
import {
  AccountUnreachableError,
  AlreadyDecidedError,
  ApprovalNotFoundError,
  NotPermittedError,
  OutcomeNotRecordedError,
  RoleNotAssumedError,
  TransientError,
  UnreadableRequestError,
} from '../core/errors.ts';
import { groupsIn, policyByKey } from '../core/policy.ts';
import {
  AlreadyVotedError,
  FrozenError,
  NotAnApproverError,
  NotBreakGlassError,
  SeparatedError,
} from '../core/policy-errors.ts';
import { refuseTamperedInput } from '../core/refuse-input.ts';
import { approvalButton } from '../views/approval-message.ts';
import { breakGlassMetadata, breakGlassModal } from '../views/break-glass-modal.ts';
import { ids } from '../views/ids.ts';
import { notices } from '../views/notices.ts';
import { freezeOf, policyNotices } from '../views/policy-lines.ts';
import { type RejectModalState, rejectModal, rejectModalMetadata } from '../views/reject-modal.ts';
import { type ListenerDeps, slackActor } from './context.ts';

type ButtonArgs = SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & { client: WebClient };

/** Approve and Reject on approval messages, and the rejection modal. */
export function register(app: App, deps: ListenerDeps): void {
  app.action<BlockAction<ButtonAction>>(ids.approve, async (args) => {
    await args.ack();
    const target = await approvalFromButton(deps, args);
    if (!target) return;
    await decideAndTell(deps, args.client, target.channel, target.userId, {
      approvalId: target.approvalId,
      verdict: 'approve',
      user: args.body.user,
      ...(target.rules ? { rules: target.rules } : {}),
    });
  });

  // During a freeze: a break-glass member approves anyway, saying why (docs/policy.md).
  app.action<BlockAction<ButtonAction>>(ids.breakGlass, async (args) => {
    await args.ack();
    const target = await approvalFromButton(deps, args);
    if (!target) return;
    // Who is in the rules' groups is asked while the approval is read: the modal's trigger lasts 3 s.
    warmGroups(deps, target.rules, target.userId);
    try {
      const record = await deps.store.get(target.approvalId);
      if (!record) return tell(args.client, target.channel, target.userId, notices.unknownApproval);
      if (!isOpenToDecision(record, deps.clock()))
        return tell(args.client, target.channel, target.userId, notices.alreadyDecided(record, deps.clock()));
      const freeze = freezeOf(record, deps.clock());
      if (!freeze) {
        await deps.notifier.refresh(record);
        return tell(args.client, target.channel, target.userId, policyNotices.freezeEnded);
      }
      // Everyone sees the button on the shared message: one who may not break glass is told so at
      // once, under the rules the decision will apply. When Slack does not say in time, the modal
      // opens and the decision asks again.
      const rules =
        (target.rules && deps.rules ? policyByKey(target.rules, deps.rules.products) : undefined) ??
        record.request.policy;
      if (rules && deps.rules && (await mayBreakGlass(deps.rules.groups, rules, target.userId)) === false)
        return tell(args.client, target.channel, target.userId, policyNotices.notBreakGlass(rules, freeze));
      await args.client.views.open({
        trigger_id: args.body.trigger_id,
        view: breakGlassModal(record, freeze, {
          approvalId: record.request.id,
          ...(target.channel ? { channel: target.channel } : {}),
          ...(record.request.policy ? { rules: record.request.policy.key } : {}),
        }),
      });
    } catch (error) {
      deps.log.error('Could not open the break-glass modal', {
        approvalId: target.approvalId,
        user: target.userId,
        error,
      });
      deps.metrics?.count('SlackActionFailed');
      await tell(args.client, target.channel, target.userId, notices.failed);
    }
  });

  app.view<ViewSubmitAction>(
    ids.breakGlassModal,
    async (args: SlackViewMiddlewareArgs<ViewSubmitAction> & { client: WebClient }) => {
      const { body, view } = args;
      const reason = checkReason(view.state.values[ids.reasonBlock]?.[ids.reasonInput]?.value);
      if (!reason.ok) {
        await args.ack({
          response_action: 'errors',
          errors: { [ids.reasonBlock]: 'Please say why this cannot wait for the freeze to end.' },
        });
        return;
      }
      const state = breakGlassMetadata.read(view.private_metadata);
      await args.ack();
      if (!state.ok) {
        await refuseTamperedInput(deps, await slackActor(deps, body.user), 'break-glass modal: bad private_metadata');
        return;
      }
      await decideAndTell(deps, args.client, state.value.channel, body.user.id, {
        approvalId: state.value.approvalId,
        verdict: 'approve',
        reason: reason.reason,
        user: body.user,
        breakGlass: true,
        ...(state.value.rules ? { rules: state.value.rules } : {}),
      });
    },
  );

  app.action<BlockAction<ButtonAction>>(ids.reject, async (args) => {
    await args.ack();
    const target = await approvalFromButton(deps, args);
    if (!target) return;
    try {
      const record = await deps.store.get(target.approvalId);
      if (!record) {
        await refuseTamperedInput(
          deps,
          await slackActor(deps, args.body.user),
          `reject: no approval ${target.approvalId}`,
          'unknown-approval',
        );
        return tell(args.client, target.channel, target.userId, notices.unknownApproval);
      }
      if (!isOpenToDecision(record, deps.clock()))
        return tell(args.client, target.channel, target.userId, notices.alreadyDecided(record, deps.clock()));
      const state: RejectModalState = {
        approvalId: record.request.id,
        ...(target.channel ? { channel: target.channel } : {}),
      };
      await args.client.views.open({ trigger_id: args.body.trigger_id, view: rejectModal(record, state) });
    } catch (error) {
      // An expired trigger (a slow cold start) or a store failure: say so rather than nothing at all.
      deps.log.error('Could not open the rejection modal', {
        approvalId: target.approvalId,
        user: target.userId,
        error,
      });
      deps.metrics?.count('SlackActionFailed');
      await tell(args.client, target.channel, target.userId, notices.failed);
    }
  });

  app.view<ViewSubmitAction>(
    ids.rejectModal,
    async (args: SlackViewMiddlewareArgs<ViewSubmitAction> & { client: WebClient }) => {
      const { body, view } = args;
      const reason = checkReason(view.state.values[ids.reasonBlock]?.[ids.reasonInput]?.value);
      if (!reason.ok) {
        await args.ack({ response_action: 'errors', errors: { [ids.reasonBlock]: reason.problem } });
        return;
      }
      const state = rejectModalMetadata.read(view.private_metadata);
      await args.ack();
      if (!state.ok) {
        await refuseTamperedInput(deps, await slackActor(deps, body.user), 'reject modal: bad private_metadata');
        return;
      }
      await decideAndTell(deps, args.client, state.value.channel, body.user.id, {
        approvalId: state.value.approvalId,
        verdict: 'reject',
        reason: reason.reason,
        user: body.user,
      });
    },
  );
}

interface ButtonTarget {
  approvalId: string;
  /** The approval rules the message was drawn under. */
  rules?: string;
  channel: string | undefined;
  userId: string;
}

/** Reads the approval a button names; a value we did not make is audited, answered, and goes no further. */
async function approvalFromButton(
  deps: ListenerDeps,
  { body, action, client }: ButtonArgs,
): Promise<ButtonTarget | undefined> {
  const channel = body.channel?.id ?? body.container?.channel_id;
  const parsed = approvalButton.read(action.value);
  if (!parsed.ok) {
    deps.log.warn('Refused a button value Greenlight did not make', {
      actionId: action.action_id,
      user: body.user.id,
      channel,
    });
    await refuseTamperedInput(
      deps,
      await slackActor(deps, body.user),
      `${action.action_id}: value not made by Greenlight`,
    );
    await tell(client, channel, body.user.id, notices.malformed);
    return undefined;
  }
  return {
    approvalId: parsed.value.approvalId,
    channel,
    userId: body.user.id,
    ...(parsed.value.rules ? { rules: parsed.value.rules } : {}),
  };
}

/** Decides and tells the person anything the refreshed message does not already say. */
async function decideAndTell(
  deps: ListenerDeps,
  client: WebClient,
  channel: string | undefined,
  userId: string,
  input: {
    approvalId: string;
    verdict: Verdict;
    reason?: string;
    user: { id: string; name?: string; team_id?: string };
    rules?: string;
    breakGlass?: boolean;
  },
): Promise<void> {
  // Who is in the rules' groups is asked while the person's name is: a cold container's lookup
  // then costs the click no round trip of its own (the check joins this one).
  warmGroups(deps, input.rules, input.user.id);
  const decision: Decision = {
    verdict: input.verdict,
    actor: await slackActor(deps, input.user),
    at: deps.clock(),
    ...(input.reason ? { reason: input.reason } : {}),
  };
  let answer: string | undefined;
  let messageBehind = false;
  try {
    const record = await decideUnderRules(deps, input.approvalId, decision, {
      ...(input.rules ? { rulesKey: input.rules } : {}),
      ...(input.breakGlass ? { breakGlass: true } : {}),
      onMessageBehind: () => {
        messageBehind = true;
      },
    });
    answer = endedElsewhere(record)
      ? notices.ended(record)
      : record.status !== 'closed' && record.votes?.length
        ? policyNotices.counted(record)
        : messageBehind
          ? notices.decidedMessageLater(record)
          : undefined;
  } catch (error) {
    answer = refusal(error, deps.clock());
    if (answer)
      deps.log.info('Decision not applied', { approvalId: input.approvalId, user: userId, why: (error as Error).name });
    else {
      deps.log.error('Deciding an approval failed', { approvalId: input.approvalId, user: userId, error });
      deps.metrics?.count('SlackActionFailed');
      answer = notices.failed;
    }
  }
  if (answer) await tell(client, channel, userId, answer);
}

function warmGroups(deps: ListenerDeps, rulesKey: string | undefined, userId: string): void {
  const policy = rulesKey && deps.rules ? policyByKey(rulesKey, deps.rules.products) : undefined;
  const groups = policy ? groupsIn([...policy.approvers, ...policy.breakGlass]) : [];
  if (groups.length > 0) deps.rules?.groups.groupsOf(userId, [...new Set(groups)]).catch(() => {});
}

/** The plain-words answer for an expected refusal; undefined for a fault of ours. */
function refusal(error: unknown, now: Date): string | undefined {
  if (error instanceof AlreadyDecidedError) return notices.alreadyDecided(error.record, now);
  if (error instanceof NotAnApproverError) return policyNotices.notAnApprover(error.policy);
  if (error instanceof FrozenError) return policyNotices.frozen(error.freeze, error.breakGlass);
  if (error instanceof NotBreakGlassError) return policyNotices.notBreakGlass(error.policy, error.freeze);
  if (error instanceof SeparatedError) return policyNotices.separated(error.record);
  if (error instanceof AlreadyVotedError) return policyNotices.alreadyVoted(error.record);
  if (error instanceof ApprovalNotFoundError) return notices.unknownApproval;
  // Before TransientError, which it is: its message names the account STS could not sign in to.
  if (error instanceof AccountUnreachableError) return error.message;
  if (error instanceof TransientError) return notices.tryAgain;
  // Before NotPermittedError, which it is: its message names the account whose role failed.
  if (error instanceof RoleNotAssumedError) return error.message;
  if (error instanceof NotPermittedError) return notices.notPermitted;
  if (error instanceof UnreadableRequestError) return error.message;
  if (error instanceof OutcomeNotRecordedError)
    return notices.notRecorded(error.outcome.decision?.verdict ?? 'approve');
  return undefined;
}

const endedElsewhere = (record: ApprovalRecord) =>
  record.outcome !== undefined && record.outcome.kind !== 'approved' && record.outcome.kind !== 'rejected';

/** An ephemeral answer; without a channel (a modal opened from elsewhere) a direct message instead. */
async function tell(client: WebClient, channel: string | undefined, user: string, text: string): Promise<void> {
  if (channel) await client.chat.postEphemeral({ channel, user, text });
  else await client.chat.postMessage({ channel: user, text });
}
