import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { approvalIdFor } from '../../app/adapters/approval-id.ts';
import { DynamoDigestMarkers } from '../../app/adapters/dynamo-digest-markers.ts';
import { localCredentials, sharedEmbeddedDynamo } from '../../app/adapters/embedded-dynamo.ts';
import { DigestBusyError } from '../../app/core/digest-posting.ts';
import { ids } from '../../app/views/ids.ts';
import { pipelineDefinition } from '../../sandbox/codepipeline/index.ts';
import type { SlackMessage } from '../../sandbox/slack/index.ts';
import { SANDBOX_CHANNELS, startWorld, type World } from '../../sandbox/world.ts';
import { APPROVALS_CHANNEL, approvalMessages, messageApprovalId, shown } from '../support/world-helpers.ts';

process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';

const DIGEST = SANDBOX_CHANNELS.digest;
const HOUR = 60 * 60 * 1000;
/** The digest runs on Friday 20 November 2026 at 07:00 UTC; the story happens in the days before. */
const NOW = new Date('2026-11-20T07:00:00Z');
const hoursBefore = (hours: number) => new Date(NOW.getTime() - hours * HOUR);

let world: World;

/** Every process clock (emulator, Slack, DynamoDB, the handlers) reads this fixed time. */
const setClock = (at: Date) => vi.setSystemTime(at);

beforeAll(async () => {
  vi.useFakeTimers({ toFake: ['Date'] });
  setClock(hoursBefore(7 * 24));
  // Without CodePipeline's events, a message answered in the console stays out of date for the digest to notice.
  world = await startWorld({ pipelineEvents: false });
  for (const name of ['shop-cart', 'shop-catalog', 'shop-payments', 'blog-web', 'blog-api'])
    world.emulator.createPipeline(pipelineDefinition(name, { region: world.emulator.region }));
});

afterAll(async () => {
  await world?.close();
  vi.useRealTimers();
});

async function commit(pipelineName: string, revisionId: string): Promise<void> {
  world.emulator.commit(pipelineName, { revisionId, summary: `Change ${revisionId}` });
  await world.settle();
}

/** Someone decides the approval waiting in `stageName` by clicking in Slack (a rejection gives a reason). */
async function decideInSlack(
  pipelineName: string,
  stageName: string,
  verdict: 'approve' | 'reject',
  user: string,
): Promise<void> {
  const [pending] = world.emulator.pendingApprovals({ pipelineName, stageName });
  if (!pending) throw new Error(`Nothing waits in ${pipelineName} › ${stageName}`);
  const message = approvalMessages(world).find((m) => messageApprovalId(m) === approvalIdFor(pending.token));
  if (!message) throw new Error(`No approval message for ${pipelineName} › ${stageName}`);
  if (verdict === 'approve') {
    await world.slack.click(user, APPROVALS_CHANNEL, message.ts, ids.approve);
  } else {
    const modal = await world.slack.click(user, APPROVALS_CHANNEL, message.ts, ids.reject);
    await world.slack.submitView(user, modal.views.at(-1)?.view.id ?? '', {
      [ids.reasonBlock]: `Bug found in ${pending.revisionId}`,
    });
  }
  await world.settle();
}

/** docs/concepts.md's worked example on shop-cart, one step an hour from `start`, every decision made in Slack. */
async function seed000(start: Date): Promise<void> {
  const steps: Array<() => Promise<void>> = [
    () => commit('shop-cart', 'c1'),
    () => decideInSlack('shop-cart', 'StagingDEV', 'approve', 'U0ALICE'),
    () => commit('shop-cart', 'c2'),
    () => decideInSlack('shop-cart', 'StagingDEV', 'approve', 'U0ALICE'),
    () => commit('shop-cart', 'c3'),
    () => decideInSlack('shop-cart', 'StagingQA', 'reject', 'U0CAROL'),
    () => commit('shop-cart', 'c4'),
    () => decideInSlack('shop-cart', 'StagingDEV', 'approve', 'U0ALICE'),
    () => decideInSlack('shop-cart', 'StagingDEV', 'reject', 'U0DAVE'),
    () => decideInSlack('shop-cart', 'StagingQA', 'reject', 'U0CAROL'),
    () => decideInSlack('shop-cart', 'StagingQA', 'approve', 'U0BOB'),
  ];
  for (const [hour, step] of steps.entries()) {
    setClock(new Date(start.getTime() + hour * HOUR));
    await step();
  }
}

const topLevel = (messages: SlackMessage[]) =>
  messages.filter((m) => m.thread_ts === undefined || m.thread_ts === m.ts);

describe('the daily digest', () => {
  it('tells what waits for whom, what was decided, where each product stands and how delivery goes', async () => {
    // Prepare: a week of work
    setClock(hoursBefore(6 * 24 + 12));
    await commit('blog-web', 'b1'); // waits in DEV for 6½ days: expires in 12 hours
    setClock(hoursBefore(31));
    await commit('shop-catalog', 'k1');
    setClock(hoursBefore(30));
    await decideInSlack('shop-catalog', 'StagingDEV', 'approve', 'U0BOB'); // decided before the last 24 h
    await seed000(hoursBefore(20));
    setClock(hoursBefore(5));
    await commit('shop-payments', 'p1');
    world.emulator.answerInConsole('shop-payments', 'StagingDEV', 'Approved'); // its Slack message is now out of date
    await world.settle();
    setClock(hoursBefore(2));
    await commit('blog-api', 'a1');
    setClock(NOW);

    // Act
    const result = await world.handlers.dailyDigest({});

    // Assess
    expect(result).toBe('posted');
    // Short enough for one message: its thread holds only the chart (test/app/views/digest-chart.test.ts)
    const posts = world.slack.messages(DIGEST).filter((message) => !message.files);
    expect(posts).toHaveLength(1);
    expect(world.slack.messages(DIGEST).at(-1)?.thread_ts).toBe(posts[0]?.ts);
    const digest = shown(posts[0] as SlackMessage);

    // 1. Waiting, oldest first, the one expiring within 24 h flagged, with links
    const order = ['blog-web', 'shop-catalog', 'shop-payments', 'blog-api'].map((p) =>
      digest.indexOf(`|${p}> › Staging`),
    );
    expect(order.every((at, i) => at >= 0 && (i === 0 || at > (order[i - 1] ?? 0)))).toBe(true);
    expect(digest).toContain('waiting for 6 d 12 h · :warning: *expires in 12 hours*');
    expect(digest).toContain('waiting for 30 h · expires in 6 days');
    expect(digest).toMatch(/<https:\/\/acme\.slack\.com\/archives\/C0APPROVALS\/p\d+\|approval message>/);
    expect(digest).toContain(
      '<https://console.aws.amazon.com/codesuite/codepipeline/pipelines/blog-web/view?region=us-east-2|blog-web>',
    );
    expect(digest).toContain('`b1` Change b1');
    expect(digest).toContain('1 approval message no longer matches CodePipeline');

    // 2. Decided since the day before (the first digest ever covers 24 hours): the seven decisions of
    // docs/concepts.md's worked example, not the one 30 hours ago
    expect(digest).toContain('Decided since <!date^1795071600^{date_long_pretty} at {time}|2026-11-19 07:00 UTC>* (7)');
    expect(digest).toContain(
      ':white_check_mark: *shop-cart › StagingQA* approved by <@U0BOB> 10 hours ago · waited 1 h',
    );
    expect(digest).toContain(
      ':x: *shop-cart › StagingQA* rejected by <@U0CAROL> 11 hours ago · waited 4 h · “Bug found in c2”',
    );
    expect(digest).not.toContain('shop-catalog › StagingDEV* approved');

    // 3. Boards: the last row of docs/concepts.md's worked example for cart, live from CodePipeline
    expect(digest).toContain(
      '*cart*  Source `c4` ✅ · Build `c4` ✅ · StagingDEV `c4` ❌ · StagingQA `c3` ✅ · StagingPROD `c3` ✅',
    );
    expect(digest).toContain('*web*  Source `b1` ✅ · Build `b1` ✅ · StagingDEV `b1` ⏸️');

    // 4. Delivery metrics of shop, as computed by hand for docs/concepts.md's worked example (plus catalog's 1-hour wait)
    expect(digest).toContain('*Deployments to production*\\n7 d: 1 (before: 0)');
    expect(digest).toContain('*Lead time*\\n7 d: 6 h (before: –)');
    expect(digest).toContain('*Change failure rate*\\n7 d: 75% (3/4)');
    expect(digest).toContain('*Mean time between failures*\\n7 d: 2 h');
    expect(digest).toContain('*Mean time to recover*\\n7 d: 4 h');
    expect(digest).toContain('still failing: shop-cart (14 h)');
    expect(digest).toContain('*Approval wait p50 / p90*\\n7 d: 1 h / 4 h');
  });

  it('does not post twice when the schedule fires again the same day', async () => {
    // Prepare
    setClock(new Date(NOW.getTime() + HOUR));
    const before = topLevel(world.slack.messages(DIGEST)).length;

    // Act
    const again = await world.handlers.dailyDigest({ retry: true });
    const concurrent = await Promise.allSettled([world.handlers.dailyDigest({}), world.handlers.dailyDigest({})]);

    // Assess
    expect(again).toBe('already-posted');
    expect(concurrent.map((c) => (c.status === 'fulfilled' ? c.value : 'failed'))).toEqual([
      'already-posted',
      'already-posted',
    ]);
    expect(topLevel(world.slack.messages(DIGEST))).toHaveLength(before);
  });

  it('lets exactly one of simultaneous first runs post, and a run that failed to post lets the retry post', async () => {
    // Prepare: the next day; Greenlight is not in the channel, so posting fails
    setClock(new Date(NOW.getTime() + 24 * HOUR));
    const before = topLevel(world.slack.messages(DIGEST)).length;
    world.slack.workspace.leave(DIGEST, world.slack.workspace.bot.userId);

    // Act
    const failed = await world.handlers.dailyDigest({}).catch((error: unknown) => error);
    world.slack.workspace.join(DIGEST, world.slack.workspace.bot.userId);
    const runs = await Promise.allSettled([1, 2, 3].map(() => world.handlers.dailyDigest({})));

    // Assess: the failed run gave its lease back, so a retry need not wait; only one retry posted
    expect(String(failed)).toContain('not_in_channel');
    const outcomes = runs.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).name));
    expect(outcomes.filter((o) => o === 'posted')).toHaveLength(1);
    expect(outcomes.every((o) => o === 'posted' || o === 'already-posted' || o === DigestBusyError.name)).toBe(true);
    expect(topLevel(world.slack.messages(DIGEST))).toHaveLength(before + 1);
  });

  it('posts on a retry after a run died holding the lease, once the lease has run out', async () => {
    // Prepare: two days on, a run took the lease and died before posting (nothing gave it back)
    const day = new Date(NOW.getTime() + 48 * HOUR);
    setClock(day);
    const markers = await digestMarkers();
    expect(
      await markers.lease(day.toISOString().slice(0, 10), 'crashed-run', new Date(day.getTime() + 150_000), day),
    ).toBe('leased');
    const before = topLevel(world.slack.messages(DIGEST)).length;

    // Act
    const early = await world.handlers.dailyDigest({}).catch((error: unknown) => error);
    setClock(new Date(day.getTime() + 151_000));
    const late = await world.handlers.dailyDigest({});

    // Assess
    expect(early).toBeInstanceOf(DigestBusyError);
    expect(late).toBe('posted');
    expect(topLevel(world.slack.messages(DIGEST))).toHaveLength(before + 1);
  });

  it("posts its own digest in a channel where another app posted one with Greenlight's metadata", async () => {
    // Prepare: four days on, another Greenlight installation (another bot) posted its digest first
    const day = new Date(NOW.getTime() + 96 * HOUR);
    setClock(day);
    const other = world.slack.workspace.post(DIGEST, {
      user: 'U0OTHERBOT',
      botId: 'B0OTHERBOT',
      text: 'Their digest',
      metadata: { event_type: 'greenlight_digest', event_payload: { day: day.toISOString().slice(0, 10) } },
    });
    const before = topLevel(world.slack.messages(DIGEST)).length;

    // Act
    const result = await world.handlers.dailyDigest({});

    // Assess: a top message of its own, and nothing in the other app's thread
    expect(result).toBe('posted');
    const tops = topLevel(world.slack.messages(DIGEST));
    expect(tops).toHaveLength(before + 1);
    expect(tops.at(-1)?.bot_id).toBe(world.slack.workspace.bot.botId);
    expect(world.slack.messages(DIGEST).filter((m) => m.thread_ts === other.ts && m.ts !== other.ts)).toEqual([]);
  });

  it('previews the digest to whoever asks with /release digest, writing nothing', async () => {
    // Prepare: three days on, before the schedule fires
    const day = new Date(NOW.getTime() + 72 * HOUR);
    setClock(day);
    const before = world.slack.messages(DIGEST).filter((message) => !message.files).length;

    // Act
    const asked = await world.slack.slashCommand('U0CAROL', DIGEST, '/release', 'digest');
    const scheduled = await world.handlers.dailyDigest({});

    // Assess: only Carol saw the preview; the channel got the day's digest afterwards all the same
    expect(asked.status).toBe(200);
    const [preview] = asked.ephemerals;
    expect(preview?.user).toBe('U0CAROL');
    const text = JSON.stringify(preview?.blocks);
    expect(text).toContain('A preview only you can see.');
    expect(text).toContain('|blog-api> › StagingDEV*');
    expect(world.slack.ephemerals(DIGEST).filter((e) => e.user !== 'U0CAROL')).toEqual([]);
    expect(scheduled).toBe('posted');
    expect(world.slack.messages(DIGEST).filter((message) => !message.files)).toHaveLength(before + 1);
  });
});

/** The digest markers in the process's embedded DynamoDB, where the handler keeps them. */
async function digestMarkers(): Promise<DynamoDigestMarkers> {
  const dynamo = await sharedEmbeddedDynamo();
  const client = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'local', credentials: localCredentials });
  return new DynamoDigestMarkers(DynamoDBDocumentClient.from(client), dynamo.tableName);
}
