import {
  ActionNotFoundException,
  ApprovalAlreadyCompletedException,
  type CodePipelineClient,
  GetPipelineCommand,
  GetPipelineStateCommand,
  type GetPipelineStateCommandOutput,
  InvalidApprovalTokenException,
  PipelineNotFoundException,
  PutApprovalResultCommand,
  StageNotFoundException,
  ValidationException,
} from '@aws-sdk/client-codepipeline';
import type { ApprovalRequest, Decision } from '../core/approval.ts';
import {
  ApprovalExpiredError,
  DecidedElsewhereError,
  GreenlightError,
  InvalidInputError,
  NotPermittedError,
  PipelineGoneError,
  TransientError,
} from '../core/errors.ts';
import type { ApprovalInPipeline, PipelineGateway } from '../core/ports.ts';

/** How long a click may spend asking CodePipeline where an approval stands after an unclear answer. */
const STATE_LOOK_MS = 500;
/** CodePipeline's clock and ours may differ by this much. */
const CLOCK_SKEW_MS = 60_000;
/** How long a pipeline's execution mode is taken as read: it changes only with a pipeline update. */
const MODE_KEPT_MS = 5 * 60_000;

/** CodePipeline through the AWS SDK: the only place that knows its error names. */
export class CodePipelineGateway implements PipelineGateway {
  /**
   * `clientFor(place)` returns one reused client per account and region (approvals name their
   * region, and their account when it is not Greenlight's own); in another account it signs with
   * the role assumed there, whose first use may cost an AssumeRole.
   */
  /** Pipelines whose execution mode was read, by account, region and name. */
  readonly #modes = new Map<string, { parallel: boolean; until: number }>();

  constructor(
    private readonly clientFor: (
      place: Pick<ApprovalRequest, 'region' | 'account'>,
    ) => CodePipelineClient | Promise<CodePipelineClient>,
    /** How long approvalResult may look: a click's short look, or the worker's patient one. */
    private readonly lookMs = STATE_LOOK_MS,
  ) {}

  async putApprovalResult(request: ApprovalRequest, decision: Decision, summary: string): Promise<void> {
    try {
      await (await this.clientFor(request)).send(
        new PutApprovalResultCommand({
          pipelineName: request.pipelineName,
          stageName: request.stageName,
          actionName: request.actionName,
          token: request.token,
          result: { status: decision.verdict === 'approve' ? 'Approved' : 'Rejected', summary },
        }),
      );
    } catch (error) {
      throw translate(request, error);
    }
  }

  async approvalResult(request: ApprovalRequest): Promise<ApprovalInPipeline> {
    try {
      // One look, short on the click path (after a call that already cost time), patient elsewhere;
      // the execution mode, when needed, within the same time.
      const signal = AbortSignal.timeout(this.lookMs);
      const client = await this.clientFor(request);
      const state = await client.send(new GetPipelineStateCommand({ name: request.pipelineName }), {
        abortSignal: signal,
      });
      const seen = resultInState(state, request);
      if (seen.state === 'pending' || !(await this.#runsInParallel(client, request, signal))) return seen;
      // A PARALLEL pipeline's state shows one execution per action, another's or none, and never a
      // token (PutApprovalResult API reference): it says nothing of this approval but that its
      // time is up.
      return Date.now() >= request.expiresAt.getTime() ? { state: 'expired' } : { state: 'pending' };
    } catch {
      return { state: 'unknown' };
    }
  }

  /**
   * Whether the pipeline runs its executions in PARALLEL (GetPipeline), kept a few minutes. When
   * CodePipeline does not say in time, the state is read as most pipelines' (SUPERSEDED or QUEUED):
   * a look that could tell before cannot tell less now.
   */
  async #runsInParallel(client: CodePipelineClient, request: ApprovalRequest, signal: AbortSignal): Promise<boolean> {
    const key = `${request.account ?? ''}/${request.region}/${request.pipelineName}`;
    const known = this.#modes.get(key);
    if (known && known.until > Date.now()) return known.parallel;
    try {
      const { pipeline } = await client.send(new GetPipelineCommand({ name: request.pipelineName }), {
        abortSignal: signal,
      });
      const parallel = pipeline?.executionMode === 'PARALLEL';
      this.#modes.set(key, { parallel, until: Date.now() + MODE_KEPT_MS });
      return parallel;
    } catch {
      return false;
    }
  }
}

/** Where the approval stands, as the action's latest execution in the pipeline's state shows it. */
function resultInState(state: GetPipelineStateCommandOutput, request: ApprovalRequest): ApprovalInPipeline {
  const action = state.stageStates
    ?.find((stage) => stage.stageName === request.stageName)
    ?.actionStates?.find((a) => a.actionName === request.actionName)?.latestExecution;
  if (!action) return { state: 'replaced' };
  // The token is shown only while the approval waits: another token means another approval.
  if (action.status === 'InProgress')
    return action.token === request.token ? { state: 'pending' } : { state: 'replaced' };
  // A result older than the request belongs to an earlier approval of this action. The request is
  // as old as its notification, however late it was taken in.
  const requestedAt = request.notifiedAt ?? request.receivedAt;
  if (action.lastStatusChange && action.lastStatusChange.getTime() < requestedAt.getTime() - CLOCK_SKEW_MS)
    return { state: 'replaced' };
  if (action.status !== 'Succeeded' && action.status !== 'Failed') return { state: 'replaced' };
  // A failure nobody decided (no summary, an error instead): the approval timed out.
  if (action.status === 'Failed' && !action.summary && action.errorDetails) return { state: 'expired' };
  return {
    state: 'decided',
    verdict: action.status === 'Succeeded' ? 'approve' : 'reject',
    ...(action.summary ? { summary: action.summary } : {}),
    ...(action.lastUpdatedBy ? { updatedBy: action.lastUpdatedBy } : {}),
    ...(action.lastStatusChange ? { at: action.lastStatusChange } : {}),
  };
}

export function translate(
  request: Pick<ApprovalRequest, 'pipelineName' | 'stageName' | 'actionName'>,
  error: unknown,
): Error {
  const where = `${request.pipelineName}/${request.stageName}/${request.actionName}`;
  const options = { cause: error };
  // Already the core's words: a role that could not be assumed in the pipeline's account, a place
  // no product names, STS not answering.
  if (error instanceof GreenlightError) return error;
  if (error instanceof InvalidApprovalTokenException) return new ApprovalExpiredError(request, options);
  if (error instanceof ApprovalAlreadyCompletedException)
    return new DecidedElsewhereError(`${where} was decided outside Greenlight`, options);
  if (error instanceof PipelineNotFoundException)
    return new PipelineGoneError('pipeline', `No pipeline ${request.pipelineName}`, options);
  if (error instanceof StageNotFoundException) return new PipelineGoneError('stage', `No stage ${where}`, options);
  if (error instanceof ActionNotFoundException) return new PipelineGoneError('action', `No action ${where}`, options);
  if (error instanceof ValidationException)
    // Not AWS's message: it may quote the values it refused, the token among them.
    return new InvalidInputError(`CodePipeline refused the request for ${where} (${error.name})`, options);
  if (error instanceof Error && (error.name === 'AccessDeniedException' || error.name === 'UnauthorizedException'))
    return new NotPermittedError(`Greenlight may not decide approvals of ${request.pipelineName}`, options);
  return new TransientError(`CodePipeline did not answer for ${where}`, options);
}
