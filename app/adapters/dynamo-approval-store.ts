import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  paginateQuery,
  type QueryCommandInput,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import {
  type ApprovalId,
  type ApprovalRecord,
  type ApprovalRequest,
  type Attempt,
  type Claim,
  type Decision,
  isOpenToDecision,
  type MessageRef,
  type Outcome,
  personOf,
  STALE_CLAIM_MS,
  type Vote,
} from '../core/approval.ts';
import { type AuditEvent, carriedIntoClosingDay, outcomeEventId, withCarriedEvents } from '../core/audit.ts';
import { AlreadyDecidedError, ApprovalNotFoundError } from '../core/errors.ts';
import { RulesMismatchError, SeparatedError } from '../core/policy-errors.ts';
import type {
  ApprovalStore,
  JourneyLink,
  JourneyStore,
  PostLease,
  ReleaseStep,
  ReleaseStepStore,
  RulesGuard,
  ThreadPost,
} from '../core/ports.ts';
import { TABLE_KEYS } from './approvals-table.ts';
import { conditionalWrite } from './conditional-write.ts';

const OPEN = 'OPEN';
const APPROVAL_SK = 'APPROVAL';
const approvalKey = (id: ApprovalId) => ({ pk: `APPROVAL#${id}`, sk: APPROVAL_SK });
/** One execution's link to the approval it met in `stageName`, with that journey's post markers. */
const journeyKey = (pipelineName: string, executionId: string, stageName: string) => ({
  pk: `EXECUTION#${pipelineName}#${executionId}`,
  sk: `JOURNEY#${stageName}`,
});
const JOURNEY_TTL_SECONDS = 35 * 24 * 3600;
/** Each released pipeline's latest journey step, beside the release's own items. */
const releaseStepsKey = (releaseId: string) => ({ pk: `RELEASE#${releaseId}`, sk: 'JOURNEY' });

/**
 * A lease at `path` (`{holder, until}`) may be taken when free, run out (its holder died), or ours
 * already (our earlier write landed and its answer was lost). Values: leaseValues.
 */
const takeable = (path: string) =>
  `(attribute_not_exists(${path}) OR ${path}.#until < :now OR ${path}.holder = :holder)`;
const leaseValues = (holder: string, until: Date, now: Date) => ({
  ':lease': { holder, until: until.toISOString() },
  ':now': now.toISOString(),
  ':holder': holder,
});

/**
 * Where a thread post's marker lives: a journey step in its link's `posts` map, a reminder in the
 * approval's own item (`reminder`), so the approval's record and its reminder cannot part.
 */
function postMarker(post: ThreadPost): { Key: Record<string, string>; path: string; names: Record<string, string> } {
  if (post.kind === 'reminder')
    return { Key: approvalKey(post.approvalId), path: '#marker', names: { '#marker': 'reminder' } };
  return {
    Key: journeyKey(post.pipelineName, post.executionId, post.stageName),
    path: '#posts.#marker',
    names: { '#posts': 'posts', '#marker': post.step },
  };
}

/**
 * ApprovalStore on DynamoDB. Each state change is one conditional UpdateItem on the approval's
 * item, so the first writer wins without transactions; audit events are separate items put with
 * attribute_not_exists, so repeating an append is harmless.
 */
export class DynamoApprovalStore implements ApprovalStore, JourneyStore, ReleaseStepStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async saveRequest(request: ApprovalRequest): Promise<'created' | 'exists'> {
    const item = {
      ...approvalKey(request.id),
      [TABLE_KEYS.pending.partition]: OPEN,
      [TABLE_KEYS.pending.sort]: `${request.receivedAt.toISOString()}#${request.id}`,
      status: 'pending',
      request: toItem(request),
    };
    return conditionalWrite(
      () =>
        this.db.send(
          new PutCommand({ TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' }),
        ),
      'created',
      'exists',
    );
  }

  async get(id: ApprovalId): Promise<ApprovalRecord | undefined> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: approvalKey(id), ConsistentRead: true }),
    );
    return Item ? toRecord(Item) : undefined;
  }

  async takePostLease(id: ApprovalId, holder: string, until: Date, now: Date): Promise<PostLease> {
    try {
      const { Attributes } = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: approvalKey(id),
          UpdateExpression: 'SET postLease = :lease, firstPostLeaseAt = if_not_exists(firstPostLeaseAt, :now)',
          // Free, expired (its holder died), or ours already (our first write landed, its answer was lost).
          ConditionExpression: `attribute_exists(pk) AND attribute_not_exists(message) AND ${takeable('postLease')}`,
          ExpressionAttributeNames: { '#until': 'until' },
          ExpressionAttributeValues: leaseValues(holder, until, now),
          ReturnValues: 'ALL_OLD',
        }),
      );
      const first = Attributes?.firstPostLeaseAt;
      return { taken: true, firstTakenAt: first ? date(first) : now, takenBefore: first !== undefined };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const { Item } = await this.db.send(
        new GetCommand({ TableName: this.tableName, Key: approvalKey(id), ConsistentRead: true }),
      );
      if (!Item) throw new ApprovalNotFoundError(id);
      if (Item.message) return { taken: false, message: Item.message as MessageRef };
      const lease = Item.postLease as { holder: string; until: string } | undefined;
      // Raced: the lease was given back (or ran out) between our write and this read. Try again.
      if (!lease || lease.holder === holder || date(lease.until) < now)
        return this.takePostLease(id, holder, until, now);
      return { taken: false, heldUntil: date(lease.until) };
    }
  }

  async givePostLeaseBack(id: ApprovalId, holder: string): Promise<void> {
    await conditionalWrite(
      () =>
        this.db.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: approvalKey(id),
            UpdateExpression: 'REMOVE postLease',
            ConditionExpression: 'postLease.holder = :holder',
            ExpressionAttributeValues: { ':holder': holder },
          }),
        ),
      undefined,
      undefined, // not ours any more: another delivery took it over
    );
  }

  async recordMessage(id: ApprovalId, message: MessageRef): Promise<MessageRef> {
    const recorded = await conditionalWrite(
      () =>
        this.db.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: approvalKey(id),
            UpdateExpression: 'SET message = :message REMOVE postLease',
            // The first message stands; writing the same one again (a lost answer, retried) is fine.
            ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(message) OR message = :message)',
            ExpressionAttributeValues: { ':message': { channel: message.channel, ts: message.ts } },
          }),
        ),
      true,
      false,
    );
    if (recorded) return message;
    const current = await this.get(id);
    if (!current) throw new ApprovalNotFoundError(id);
    return current.message ?? message;
  }

  async claim(id: ApprovalId, claim: Claim, now: Date, rules?: RulesGuard): Promise<ApprovalRecord> {
    const attempt = attemptItem(claim);
    const guard = rules
      ? rulesCondition(rules, claim.verdict === 'approve' ? (personOf(claim.actor) ?? claim.actor.id) : undefined)
      : undefined;
    const result = await this.#updateOrRead(id, {
      // The attempt joins the approval in the claim's own write: no second round trip before
      // CodePipeline is called, and no claim without its audit event.
      UpdateExpression:
        'SET #status = :deciding, #claim = :claim, attempts = list_append(if_not_exists(attempts, :none), :attempt)',
      // Pending, or held by a claim that ran out (its holder died); a claim of an older version has
      // no `until` and runs out STALE_CLAIM_MS after it was taken. Kept short: dynalite (local and
      // tests) parses every expression anew, and a longer one costs a click measurable CPU.
      ConditionExpression: `attribute_exists(pk) AND (#status = :pending OR #claim.#until < :now OR (attribute_not_exists(#claim.#until) AND #claim.#at < :staleSince))${guard ? ` AND ${guard.expression}` : ''}`,
      ExpressionAttributeNames: {
        '#status': 'status',
        '#claim': 'claim',
        '#until': 'until',
        '#at': 'at',
        ...guard?.names,
      },
      ExpressionAttributeValues: {
        ':deciding': 'deciding',
        ':pending': 'pending',
        ':now': now.toISOString(),
        ':staleSince': new Date(now.getTime() - STALE_CLAIM_MS).toISOString(),
        ':claim': { ...attempt, until: claim.until.toISOString() },
        ':attempt': [attempt],
        ':none': [],
        ...guard?.values,
      },
    });
    if ('applied' in result) return result.applied;
    // Our own first attempt landed and only its answer was lost: the SDK's retry then fails the condition.
    if (result.current.claim?.claimId === claim.claimId) return result.current;
    if (rules)
      refuseByRules(
        result.current,
        rules,
        claim.verdict === 'approve' ? (personOf(claim.actor) ?? claim.actor.id) : undefined,
        now,
      );
    throw new AlreadyDecidedError(result.current);
  }

  async vote(
    id: ApprovalId,
    vote: Vote,
    rules: RulesGuard,
    now: Date,
  ): Promise<{ record: ApprovalRecord; counted: boolean }> {
    const guard = rulesCondition(rules, vote.actor.id);
    const result = await this.#updateOrRead(id, {
      // One vote per person: the set of voters is the condition, the list keeps who and when.
      UpdateExpression: 'SET votes = list_append(if_not_exists(votes, :none), :vote) ADD voters :voters',
      ConditionExpression: `attribute_exists(pk) AND (#status = :pending OR #claim.#until < :now) AND NOT contains(voters, :voter) AND ${guard.expression}`,
      ExpressionAttributeNames: { '#status': 'status', '#claim': 'claim', '#until': 'until', ...guard.names },
      ExpressionAttributeValues: {
        ':pending': 'pending',
        ':now': now.toISOString(),
        ':none': [],
        ':vote': [voteItem(vote)],
        ':voters': new Set([vote.actor.id]),
        ':voter': vote.actor.id,
        ...guard.values,
      },
    });
    if ('applied' in result) return { record: result.applied, counted: true };
    const current = result.current;
    // Counted before: a double click, or our own write landed and only its answer was lost.
    if (current.votes?.some((counted) => counted.actor.id === vote.actor.id))
      return { record: current, counted: false };
    refuseByRules(current, rules, vote.actor.id, now);
    throw new AlreadyDecidedError(current);
  }

  async renewClaim(id: ApprovalId, claimId: string, until: Date): Promise<boolean> {
    return conditionalWrite(
      () =>
        this.db.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: approvalKey(id),
            UpdateExpression: 'SET #claim.#until = :until',
            ConditionExpression: '#status = :deciding AND #claim.claimId = :claimId',
            ExpressionAttributeNames: { '#status': 'status', '#claim': 'claim', '#until': 'until' },
            ExpressionAttributeValues: { ':deciding': 'deciding', ':claimId': claimId, ':until': until.toISOString() },
          }),
        ),
      true,
      false, // taken over or closed: the holder must stop
    );
  }

  async giveClaimBack(id: ApprovalId, claimId: string): Promise<void> {
    await conditionalWrite(
      () =>
        this.db.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: approvalKey(id),
            UpdateExpression: 'SET #status = :pending REMOVE #claim',
            ConditionExpression: '#status = :deciding AND #claim.claimId = :claimId',
            ExpressionAttributeNames: { '#status': 'status', '#claim': 'claim' },
            ExpressionAttributeValues: { ':pending': 'pending', ':deciding': 'deciding', ':claimId': claimId },
          }),
        ),
      undefined,
      undefined, // someone else holds it now (ours went stale): theirs to finish
    );
  }

  async recordOutcome(id: ApprovalId, outcome: Outcome): Promise<ApprovalRecord> {
    const at = outcome.at.toISOString();
    const result = await this.#updateOrRead(id, {
      // The approval joins the per-day index under its outcome event's key: this write is the event.
      // The token (and the review link ending in it) goes: nothing answers a closed approval, and
      // the per-day index, which auditors read, copies the whole record.
      UpdateExpression: `SET #status = :closed, outcome = :outcome, ${TABLE_KEYS.byDay.partition} = :day, ${TABLE_KEYS.byDay.sort} = :daySort REMOVE #claim, ${TABLE_KEYS.pending.partition}, ${TABLE_KEYS.pending.sort}, #request.#token, #request.reviewLink`,
      // The first outcome stands: a late claimant whose claim went stale cannot overwrite it.
      ConditionExpression: 'attribute_exists(pk) AND #status <> :closed',
      ExpressionAttributeNames: { '#status': 'status', '#claim': 'claim', '#request': 'request', '#token': 'token' },
      ExpressionAttributeValues: {
        ':closed': 'closed',
        ':outcome': outcomeItem(outcome),
        ':day': `DAY#${at.slice(0, 10)}`,
        ':daySort': `${at}#${outcomeEventId(id)}`,
      },
    });
    return 'applied' in result ? result.applied : result.current;
  }

  /** A conditional update of the approval; when its condition fails, the record as it stands instead. */
  async #updateOrRead(
    id: ApprovalId,
    update: Pick<
      UpdateCommandInput,
      'UpdateExpression' | 'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'
    >,
  ): Promise<{ applied: ApprovalRecord } | { current: ApprovalRecord }> {
    try {
      const { Attributes } = await this.db.send(
        new UpdateCommand({ TableName: this.tableName, Key: approvalKey(id), ...update, ReturnValues: 'ALL_NEW' }),
      );
      return { applied: toRecord(Attributes ?? {}) };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const current = await this.get(id);
      if (!current) throw new ApprovalNotFoundError(id);
      return { current };
    }
  }

  async listOpen(): Promise<ApprovalRecord[]> {
    const items = await this.query({
      IndexName: TABLE_KEYS.pending.name,
      KeyConditionExpression: '#pk = :open',
      ExpressionAttributeNames: { '#pk': TABLE_KEYS.pending.partition },
      ExpressionAttributeValues: { ':open': OPEN },
    });
    return items.map(toRecord);
  }

  async append(event: AuditEvent): Promise<void> {
    const at = event.at.toISOString();
    await conditionalWrite(
      () =>
        this.db.send(
          new PutCommand({
            TableName: this.tableName,
            Item: {
              pk: event.approvalId === 'unknown' ? 'AUDIT#unattributed' : approvalKey(event.approvalId).pk,
              // Keyed by the event id alone: appending the same event twice (a repeated delivery) is a no-op.
              sk: `EVENT#${event.eventId}`,
              [TABLE_KEYS.byDay.partition]: `DAY#${at.slice(0, 10)}`,
              [TABLE_KEYS.byDay.sort]: `${at}#${event.eventId}`,
              ...stripUndefined({ ...event, at, decidedAt: event.decidedAt?.toISOString() }),
            },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        ),
      undefined,
      undefined, // appended already: a repeated delivery
    );
  }

  async eventsForApproval(id: ApprovalId): Promise<AuditEvent[]> {
    // One query reads the approval and its filed events together (they share the partition).
    const items = await this.query({
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': approvalKey(id).pk },
    });
    const approval = items.find((item) => item.sk === APPROVAL_SK);
    const filed = items.filter((item) => String(item.sk).startsWith('EVENT#')).map(toEvent);
    return withCarriedEvents(approval ? toRecord(approval) : undefined, filed);
  }

  async eventsForDay(day: string): Promise<AuditEvent[]> {
    const items = await this.query({
      IndexName: TABLE_KEYS.byDay.name,
      KeyConditionExpression: '#pk = :day',
      ExpressionAttributeNames: { '#pk': TABLE_KEYS.byDay.partition },
      ExpressionAttributeValues: { ':day': `DAY#${day}` },
    });
    // Approvals that closed that day stand in the index for their outcome event and that day's
    // attempts. Events also filed as items (by earlier versions, or again by a settle job) carry
    // the same event id and count once.
    const carried = items
      .filter((item) => item.sk === APPROVAL_SK)
      .flatMap((item) => carriedIntoClosingDay(toRecord(item)));
    const ids = new Set(carried.map((event) => event.eventId));
    const filed = items.filter((item) => item.sk !== APPROVAL_SK).map(toEvent);
    return [...carried, ...filed.filter((event) => !ids.has(event.eventId))].sort(
      (a, b) => a.at.getTime() - b.at.getTime(),
    );
  }

  // ── Journeys and thread posts (core/journey.ts, core/reminders.ts) ─────────────────────────────

  async linkJourney(link: JourneyLink): Promise<void> {
    await conditionalWrite(
      () =>
        this.db.send(
          new PutCommand({
            TableName: this.tableName,
            Item: {
              ...journeyKey(link.pipelineName, link.executionId, link.stageName),
              ...link,
              posts: {},
              // A journey is over long before this; DynamoDB deletes the link and its markers then.
              ttl: Math.floor(Date.now() / 1000) + JOURNEY_TTL_SECONDS,
            },
            // The first link stands: a repeated event must not wipe the posts made since.
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        ),
      undefined,
      undefined,
    );
  }

  async journeysOf(pipelineName: string, executionId: string): Promise<JourneyLink[]> {
    const items = await this.query({
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :journey)',
      ExpressionAttributeValues: { ':pk': journeyKey(pipelineName, executionId, '').pk, ':journey': 'JOURNEY#' },
      ConsistentRead: true,
    });
    return items.map((item) => ({
      pipelineName: String(item.pipelineName),
      executionId: String(item.executionId),
      stageName: String(item.stageName),
      approvalId: String(item.approvalId),
      stages: Array.isArray(item.stages) ? item.stages.map(String) : [],
      region: typeof item.region === 'string' ? item.region : '',
    }));
  }

  async takePost(post: ThreadPost, holder: string, until: Date, now: Date): Promise<boolean> {
    const { Key, path, names } = postMarker(post);
    return conditionalWrite(
      () =>
        this.db.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key,
            UpdateExpression: `SET ${path} = :lease`,
            // Not posted, and not held: free, its holder died (ran out), or ours (a retried write).
            ConditionExpression: `attribute_exists(pk) AND (attribute_not_exists(${path}) OR (${path}.#state = :posting AND (${path}.#until < :now OR ${path}.holder = :holder)))`,
            ExpressionAttributeNames: { ...names, '#state': 'state', '#until': 'until' },
            ExpressionAttributeValues: {
              ':lease': { state: 'posting', holder, until: until.toISOString() },
              ':posting': 'posting',
              ':now': now.toISOString(),
              ':holder': holder,
            },
          }),
        ),
      true,
      false,
    );
  }

  async postDone(post: ThreadPost, holder: string, at: Date): Promise<void> {
    const { Key, path, names } = postMarker(post);
    await conditionalWrite(
      () =>
        this.db.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key,
            UpdateExpression: `SET ${path} = :posted`,
            ConditionExpression: `${path}.holder = :holder`,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: {
              ':posted': { state: 'posted', holder, at: at.toISOString() },
              ':holder': holder,
            },
          }),
        ),
      undefined,
      undefined, // taken over after its lease ran out: the other holder marks it
    );
  }

  async givePostBack(post: ThreadPost, holder: string): Promise<void> {
    const { Key, path, names } = postMarker(post);
    await conditionalWrite(
      () =>
        this.db.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key,
            UpdateExpression: `REMOVE ${path}`,
            ConditionExpression: `${path}.holder = :holder AND ${path}.#state = :posting`,
            ExpressionAttributeNames: { ...names, '#state': 'state' },
            ExpressionAttributeValues: { ':holder': holder, ':posting': 'posting' },
          }),
        ),
      undefined,
      undefined,
    );
  }

  async recordReleaseStep(releaseId: string, key: string, step: ReleaseStep): Promise<number | undefined> {
    const Key = releaseStepsKey(releaseId);
    // The item first (a nested SET needs its map), then the step: two single-item writes.
    await conditionalWrite(
      () =>
        this.db.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { ...Key, steps: {}, version: 0 },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        ),
      undefined,
      undefined,
    );
    try {
      const { Attributes } = await this.db.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key,
          UpdateExpression: 'SET steps.#pipeline = :step ADD version :one',
          // An older step (a late event) never replaces a newer one.
          ConditionExpression: 'attribute_not_exists(steps.#pipeline) OR steps.#pipeline.#rank < :rank',
          ExpressionAttributeNames: { '#pipeline': key, '#rank': 'rank' },
          ExpressionAttributeValues: {
            ':step': stripUndefined({ ...step, at: step.at.toISOString() }),
            ':rank': step.rank,
            ':one': 1,
          },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      return Number(Attributes?.version ?? 0);
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  async releaseSteps(
    releaseId: string,
  ): Promise<{ steps: Record<string, ReleaseStep>; version: number; drawnAt?: Date }> {
    const { Item } = await this.db.send(
      new GetCommand({ TableName: this.tableName, Key: releaseStepsKey(releaseId), ConsistentRead: true }),
    );
    const stored = (Item?.steps ?? {}) as Record<string, Item>;
    const steps = Object.fromEntries(
      Object.entries(stored).map(([pipeline, step]) => [
        pipeline,
        { ...(step as unknown as ReleaseStep), rank: Number(step.rank), at: date(step.at) },
      ]),
    );
    return {
      steps,
      version: Number(Item?.version ?? 0),
      ...(typeof Item?.drawnAt === 'string' ? { drawnAt: date(Item.drawnAt) } : {}),
    };
  }

  async takeReleaseDraw(releaseId: string, holder: string, until: Date, now: Date): Promise<boolean> {
    return conditionalWrite(
      () =>
        this.db.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: releaseStepsKey(releaseId),
            UpdateExpression: 'SET drawLease = :lease',
            ConditionExpression: `attribute_exists(pk) AND ${takeable('drawLease')}`,
            ExpressionAttributeNames: { '#until': 'until' },
            ExpressionAttributeValues: leaseValues(holder, until, now),
          }),
        ),
      true,
      false,
    );
  }

  async giveReleaseDrawBack(releaseId: string, holder: string, drawnAt?: Date): Promise<void> {
    await conditionalWrite(
      () =>
        this.db.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: releaseStepsKey(releaseId),
            UpdateExpression: drawnAt ? 'SET drawnAt = :drawnAt REMOVE drawLease' : 'REMOVE drawLease',
            ConditionExpression: 'drawLease.holder = :holder',
            ExpressionAttributeValues: { ':holder': holder, ...(drawnAt ? { ':drawnAt': drawnAt.toISOString() } : {}) },
          }),
        ),
      undefined,
      undefined,
    );
  }

  private async query(input: Omit<QueryCommandInput, 'TableName'>): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    for await (const page of paginateQuery({ client: this.db }, { TableName: this.tableName, ...input })) {
      items.push(...(page.Items ?? []));
    }
    return items;
  }
}

// Items hold dates as ISO strings; these translate both ways and keep undefined out of DynamoDB.

type Item = Record<string, unknown>;

const stripUndefined = <T extends object>(value: T): T =>
  Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;

const toItem = (request: ApprovalRequest): Item =>
  stripUndefined({
    ...request,
    expiresAt: request.expiresAt.toISOString(),
    receivedAt: request.receivedAt.toISOString(),
    notifiedAt: request.notifiedAt?.toISOString(),
  });

const decisionItem = (decision: Decision): Item =>
  stripUndefined({
    verdict: decision.verdict,
    actor: stripUndefined({ ...decision.actor }),
    reason: decision.reason,
    at: decision.at.toISOString(),
    approvers: decision.approvers?.map((approver) => ({ id: approver.id, name: approver.name })),
    override: decision.override,
  });

/**
 * The claim's or vote's condition on the approval's rules: it stands under the rules the click
 * assumed (or none), and the one approving is not separated from it (docs/policy.md).
 */
function rulesCondition(
  rules: RulesGuard,
  approver: string | undefined,
): { expression: string; names: Record<string, string>; values: Record<string, unknown> } {
  const names = { '#request': 'request', '#policy': 'policy' };
  if (rules.key === undefined) return { expression: 'attribute_not_exists(#request.#policy)', names, values: {} };
  const separated = approver ? ' AND NOT contains(#request.#policy.separatedFrom, :approver)' : '';
  return {
    expression: `#request.#policy.#key = :rulesKey${separated}`,
    names: { ...names, '#key': 'key' },
    values: { ':rulesKey': rules.key, ...(approver ? { ':approver': approver } : {}) },
  };
}

/** Why a guarded write failed on an approval still open to a decision, as the core's error. */
function refuseByRules(record: ApprovalRecord, rules: RulesGuard, approver: string | undefined, now: Date): void {
  if (!isOpenToDecision(record, now)) return;
  if (record.request.policy?.key !== rules.key) throw new RulesMismatchError(record);
  if (approver && record.request.policy?.separatedFrom?.includes(approver)) throw new SeparatedError(record);
}

const voteItem = (vote: Vote): Item => ({
  voteId: vote.voteId,
  actor: stripUndefined({ ...vote.actor }),
  at: vote.at.toISOString(),
});

const attemptItem = (attempt: Attempt): Item =>
  stripUndefined({ ...decisionItem(attempt), claimId: attempt.claimId, releaseId: attempt.releaseId });

const outcomeItem = (outcome: Outcome): Item =>
  stripUndefined({
    ...outcome,
    at: outcome.at.toISOString(),
    decision: outcome.decision ? decisionItem(outcome.decision) : undefined,
    decidedAt: 'decidedAt' in outcome ? outcome.decidedAt?.toISOString() : undefined,
  });

const date = (value: unknown): Date => new Date(String(value));

function toDecision(item: Item): Decision {
  return { ...(item as unknown as Decision), at: date(item.at) };
}

function toRecord(item: Item): ApprovalRecord {
  const request = item.request as Item;
  const record: ApprovalRecord = {
    request: {
      ...(request as unknown as ApprovalRequest),
      token: typeof request.token === 'string' ? request.token : '',
      expiresAt: date(request.expiresAt),
      receivedAt: date(request.receivedAt),
      ...(request.notifiedAt ? { notifiedAt: date(request.notifiedAt) } : {}),
    },
    status: item.status as ApprovalRecord['status'],
  };
  if (item.message) record.message = item.message as MessageRef;
  if (item.claim) {
    const claim = item.claim as Item;
    record.claim = {
      ...toDecision(claim),
      claimId: String(claim.claimId),
      ...(claim.until ? { until: date(claim.until) } : {}),
    };
  }
  if (Array.isArray(item.attempts)) {
    record.attempts = (item.attempts as Item[]).map((attempt) => ({
      ...toDecision(attempt),
      claimId: String(attempt.claimId),
      ...(attempt.releaseId ? { releaseId: String(attempt.releaseId) } : {}),
    }));
  }
  if (Array.isArray(item.votes)) {
    record.votes = (item.votes as Item[]).map((vote) => ({
      voteId: String(vote.voteId),
      actor: vote.actor as Vote['actor'],
      at: date(vote.at),
    }));
  }
  if (item.outcome) {
    const outcome = item.outcome as Item;
    record.outcome = {
      ...(outcome as unknown as Outcome),
      at: date(outcome.at),
      ...(outcome.decision ? { decision: toDecision(outcome.decision as Item) } : {}),
      ...(outcome.decidedAt ? { decidedAt: date(outcome.decidedAt) } : {}),
    } as Outcome;
  }
  return record;
}

function toEvent(item: Item): AuditEvent {
  const { pk: _pk, sk: _sk, dayPk: _dayPk, daySk: _daySk, ...event } = item;
  return {
    ...(event as unknown as AuditEvent),
    at: date(event.at),
    ...(event.decidedAt ? { decidedAt: date(event.decidedAt) } : {}),
  };
}
