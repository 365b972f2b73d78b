import { randomUUID } from 'node:crypto';
import type { ApprovalStatus } from '@aws-sdk/client-codepipeline';
import { REPLACING_CHANGES } from '../cloudformation/demo.ts';
import {
  type BoardPipeline,
  type BoardStage,
  type CodePipelineEmulator,
  DEMO_PRODUCTS,
  pipelineDefinition,
} from '../codepipeline/index.ts';
import { SANDBOX_SECOND_ACCOUNT, SECOND_ACCOUNT_DEMO_PRODUCTS } from '../demo-policy.ts';
import { findButton } from '../slack/block-kit.ts';
import type { ClickResult, InteractionResult, OpenView, Person, ViewInput } from '../slack/index.ts';
import type { World } from '../world.ts';

/** A stage as the page draws it: the emulator's board plus when its pending approval expires. */
export interface BoardCell extends BoardStage {
  readonly approvalExpiresAt: string | null;
}

export interface BoardRow {
  readonly pipelineName: string;
  /** `cart` for `shop-cart`. */
  readonly service: string;
  readonly stages: readonly BoardCell[];
  /** Its StagingPROD gates a CloudFormation change set: the board offers "commit with a replacement". */
  readonly changeSetGate?: true;
}

export interface ProductBoard {
  readonly product: string;
  /** The AWS account and region its pipelines live in, when not Greenlight's own (the page labels them). */
  readonly account?: string;
  readonly region?: string;
  readonly pipelines: readonly BoardRow[];
}

/** One CodePipeline of the world: Greenlight's own, or another account's (`account` set). */
interface PipelinePlace {
  readonly emulator: CodePipelineEmulator;
  readonly account?: string;
  readonly region?: string;
}

export interface BoardView {
  /** The emulator's clock (ISO); it runs ahead of real time by `clockOffsetMs` after "advance clock". */
  readonly now: string;
  readonly clockOffsetMs: number;
  readonly stageNames: readonly string[];
  readonly products: readonly ProductBoard[];
}

export interface CommitResult {
  readonly pipelineName: string;
  readonly revisionId: string;
  readonly pipelineExecutionId: string;
}

/** What acting as a person returns: the app's answer and what the person sees afterwards. */
export interface ActResult {
  readonly sent: boolean;
  readonly status: number;
  readonly elapsedMs: number;
  /** What Slack would show instead of the app's answer when the app answered wrongly. */
  readonly displayError?: string;
  readonly ephemerals: InteractionResult['ephemerals'];
  /** The person's modal stack afterwards, bottom first. */
  readonly views: readonly OpenView[];
  readonly message?: ClickResult['message'];
}

/** A refusal the API answers with HTTP 4xx: the caller named something that does not exist or cannot be done. */
export class SandboxRequestError extends Error {
  override name = 'SandboxRequestError';
  constructor(
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

const DAY_MS = 24 * 60 * 60 * 1000;
/** How many activity lines the page can catch up on. */
const ACTIVITY_KEPT = 50;

/** One line of what happened (a commit, a message, a click), for the page's activity list and the terminal. */
export interface Activity {
  readonly at: string;
  readonly line: string;
}

/**
 * The sandbox's operations on the world, shared by the JSON API and the page: act as a person in
 * Slack, change the pipelines, read the board. People and channels may be named loosely
 * (`alice`, `Alice`, `U0ALICE`; `approvals`, `#approvals`, `C0APPROVALS`).
 */
export class SandboxControl {
  readonly #world: World;
  readonly #commits = new Map<string, number>();
  /** Pipelines whose StagingPROD is Prepare (change set) → Approve → Deploy (docs/what-am-i-approving.md). */
  readonly #changeSetGates = new Set<string>();
  readonly #activity: Activity[] = [];
  readonly #activityListeners = new Set<(activity: Activity) => void>();

  constructor(world: World) {
    this.#world = world;
  }

  get world(): World {
    return this.#world;
  }

  person(ref: unknown): Person {
    const wanted = String(ref ?? '')
      .trim()
      .replace(/^@/, '')
      .toLowerCase();
    const person = this.#world.slack
      .users()
      .find(
        (p) =>
          p.id.toLowerCase() === wanted ||
          p.name.toLowerCase() === wanted ||
          p.realName.toLowerCase() === wanted ||
          p.realName.split(' ')[0]?.toLowerCase() === wanted,
      );
    if (!person) throw new SandboxRequestError(`No person "${String(ref)}": try alice, bob, carol or dave`);
    return person;
  }

  channelId(ref: unknown): string {
    const channel = this.#world.slack.workspace.channel(String(ref ?? ''));
    if (!channel) throw new SandboxRequestError(`No channel "${String(ref)}"`, 404);
    return channel.id;
  }

  /** Notes something that happened; the page shows the latest. */
  note(line: string): void {
    const activity: Activity = { at: new Date().toISOString(), line };
    this.#activity.push(activity);
    if (this.#activity.length > ACTIVITY_KEPT) this.#activity.shift();
    for (const listener of this.#activityListeners) listener(activity);
  }

  onActivity(listener: (activity: Activity) => void): () => void {
    this.#activityListeners.add(listener);
    return () => this.#activityListeners.delete(listener);
  }

  // Slack, as a person

  async click(input: {
    user: unknown;
    channel: unknown;
    ts: unknown;
    actionId: unknown;
    value?: unknown;
  }): Promise<ActResult> {
    const person = this.person(input.user);
    const channel = this.channelId(input.channel);
    const value = typeof input.value === 'string' ? { value: input.value } : {};
    const result = await this.#attempt(() =>
      this.#world.slack.click(person.id, channel, String(input.ts), String(input.actionId), value),
    );
    return { ...actResult(result), message: result.message };
  }

  async submit(input: { user: unknown; viewId: unknown; values?: unknown }): Promise<ActResult> {
    const person = this.person(input.user);
    const values = (input.values ?? {}) as ViewInput;
    if (typeof values !== 'object' || Array.isArray(values)) throw new SandboxRequestError('values must be an object');
    return actResult(await this.#attempt(() => this.#world.slack.submitView(person.id, String(input.viewId), values)));
  }

  async closeView(input: { user: unknown; viewId: unknown }): Promise<ActResult> {
    const person = this.person(input.user);
    return actResult(await this.#attempt(() => this.#world.slack.closeView(person.id, String(input.viewId))));
  }

  async command(input: { user: unknown; channel: unknown; command: unknown; text?: unknown }): Promise<ActResult> {
    const person = this.person(input.user);
    const channel = this.channelId(input.channel);
    const command = String(input.command ?? '');
    if (!/^\/[a-z0-9_-]+$/i.test(command)) throw new SandboxRequestError(`Not a slash command: "${command}"`);
    const text = typeof input.text === 'string' ? input.text : '';
    return actResult(await this.#attempt(() => this.#world.slack.slashCommand(person.id, channel, command, text)));
  }

  /** A plain message typed by a person (Greenlight does not read them; people talk). */
  say(input: { user: unknown; channel: unknown; text: unknown; threadTs?: unknown }) {
    const person = this.person(input.user);
    const channel = this.channelId(input.channel);
    const text = String(input.text ?? '').trim();
    if (!text) throw new SandboxRequestError('text is empty');
    const threadTs = typeof input.threadTs === 'string' && input.threadTs ? { thread_ts: input.threadTs } : {};
    return this.#world.slack.workspace.post(channel, { user: person.id, text, ...threadTs });
  }

  dismissEphemeral(ts: unknown): void {
    this.#world.slack.workspace.deleteEphemeral(String(ts));
  }

  /** "Approve on Approval needed: shop-cart › StagingDEV", for the activity list; the ids when not found. */
  describeClick(input: { user?: unknown; channel?: unknown; ts?: unknown; actionId?: unknown }): string {
    const workspace = this.#world.slack.workspace;
    const channel = workspace.channel(String(input.channel ?? ''));
    const ts = String(input.ts ?? '');
    const message = (channel && workspace.message(channel.id, ts)) ?? workspace.ephemerals().find((e) => e.ts === ts);
    const button = message?.blocks && findButton(message.blocks, String(input.actionId ?? ''));
    const label =
      button && typeof button.element.text === 'object' ? (button.element.text as { text?: string }).text : undefined;
    return label && message ? `${label} on ${message.text.split('\n')[0]}` : String(input.actionId);
  }

  /** The title of a person's open modal, for the activity list. */
  describeView(user: unknown, viewId: unknown): string {
    const open = this.#world.slack.openViews(this.person(user).id).find((o) => o.view.id === String(viewId));
    const title = open?.view.title.text;
    return typeof title === 'string' ? `“${title}”` : String(viewId);
  }

  // Pipelines

  /** Greenlight's own CodePipeline first, then each other account's (docs/architecture.md, "Many accounts and regions"). */
  #places(): PipelinePlace[] {
    const others = [...(this.#world.accounts?.emulators.values() ?? [])].map((emulator) => ({
      emulator,
      account: emulator.accountId,
      region: emulator.region,
    }));
    return [{ emulator: this.#world.emulator }, ...others];
  }

  /** The CodePipeline a pipeline lives in (the demo's pipeline names are unique across accounts). */
  #emulatorOf(pipelineName: string): CodePipelineEmulator {
    const place = this.#places().find(({ emulator }) => emulator.board().some((p) => p.pipelineName === pipelineName));
    if (!place) throw new SandboxRequestError(`No pipeline "${pipelineName}"`, 404);
    return place.emulator;
  }

  /**
   * The second account's demo pipelines (SECOND_ACCOUNT_DEMO_PRODUCTS), publishing their approvals to
   * Greenlight's topic in Greenlight's own account, as the access stack lets them.
   */
  seedOtherAccounts(): void {
    const { account, region } = SANDBOX_SECOND_ACCOUNT;
    const remote = this.#world.accounts?.emulators.get(`${account}/${region}`);
    if (!remote) return;
    const home = this.#world.emulator;
    for (const [product, services] of Object.entries(SECOND_ACCOUNT_DEMO_PRODUCTS))
      for (const service of services)
        remote.createPipeline(
          pipelineDefinition(`${product}-${service}`, {
            region,
            accountId: account,
            notificationArn: `arn:aws:sns:${home.region}:${home.accountId}:greenlight-approvals`,
          }),
        );
  }

  /** A pipeline whose StagingPROD gates a CloudFormation change set (the demo's `orders-api`). */
  addChangeSetPipeline(pipelineName: string): void {
    const { region, accountId } = this.#world.emulator;
    this.#world.emulator.createPipeline(pipelineDefinition(pipelineName, { region, accountId, changeSetGate: true }));
    this.#changeSetGates.add(pipelineName);
  }

  /**
   * A source change; the revision is named `c1`, `c2`, … per pipeline unless given. With
   * `replacement`, its template changes the orders table's key, so its change set replaces the table.
   */
  commit(pipelineName: string, revision?: unknown, summary?: unknown, replacement?: unknown): CommitResult {
    this.#requirePipeline(pipelineName);
    if (replacement === true && !this.#changeSetGates.has(pipelineName))
      throw new SandboxRequestError(`${pipelineName} deploys no CloudFormation change set`);
    const revisionId =
      typeof revision === 'string' && revision.trim() ? revision.trim() : this.#nextRevision(pipelineName);
    if (replacement === true) this.#world.changePlans.plan(revisionId, { changes: [...REPLACING_CHANGES] });
    const fallback = replacement === true ? `Change the orders table's key (${revisionId})` : `Change ${revisionId}`;
    const text = typeof summary === 'string' && summary.trim() ? summary.trim() : fallback;
    const pipelineExecutionId = this.#emulatorOf(pipelineName).commit(pipelineName, { revisionId, summary: text });
    return { pipelineName, revisionId, pipelineExecutionId };
  }

  /** One commit to every pipeline of the product. */
  commitProduct(product: string): CommitResult[] {
    const names = this.pipelineNames(product);
    if (names.length === 0) throw new SandboxRequestError(`No product "${product}"`, 404);
    return names.map((name) => this.commit(name));
  }

  failNext(pipelineName: string, input: { stage?: unknown; action?: unknown; times?: unknown }) {
    this.#requirePipeline(pipelineName);
    const stage = String(input.stage ?? '');
    const action = String(input.action ?? '');
    const times = input.times === undefined ? 1 : Number(input.times);
    if (!Number.isInteger(times) || times < 1) throw new SandboxRequestError('times must be a positive integer');
    try {
      this.#emulatorOf(pipelineName).failNext(pipelineName, stage, action, times);
    } catch (error) {
      throw new SandboxRequestError((error as Error).message);
    }
    return { pipelineName, stage, action, times };
  }

  /** Approves or rejects in the "AWS console": the Slack message then has to find out on its own. */
  answerInConsole(pipelineName: string, input: { stage?: unknown; status?: unknown; summary?: unknown }) {
    this.#requirePipeline(pipelineName);
    const status = String(input.status ?? 'Approved') as ApprovalStatus;
    if (status !== 'Approved' && status !== 'Rejected')
      throw new SandboxRequestError('status must be Approved or Rejected');
    const summary = typeof input.summary === 'string' ? input.summary : undefined;
    try {
      this.#emulatorOf(pipelineName).answerInConsole(pipelineName, String(input.stage ?? ''), status, summary);
    } catch (error) {
      throw new SandboxRequestError((error as Error).message, 409);
    }
    return { pipelineName, stage: String(input.stage), status };
  }

  /**
   * StopPipelineExecution as in the AWS console: the execution in `stage` (or `executionId`), stop
   * and abandon by default (an approval waiting in it ends), or stop and wait with `abandon: false`.
   */
  stopExecution(
    pipelineName: string,
    input: { stage?: unknown; executionId?: unknown; abandon?: unknown; reason?: unknown },
  ) {
    this.#requirePipeline(pipelineName);
    const emulator = this.#emulatorOf(pipelineName);
    const stage = emulator
      .board()
      .find((p) => p.pipelineName === pipelineName)
      ?.stages.find((s) => s.stageName === String(input.stage ?? ''));
    const executionId = typeof input.executionId === 'string' ? input.executionId : stage?.pipelineExecutionId;
    if (!executionId) throw new SandboxRequestError('Give a stage with an execution in it, or an executionId');
    const abandon = input.abandon !== false;
    const reason = typeof input.reason === 'string' ? input.reason : 'Stopped from the sandbox board';
    try {
      const status = emulator.stopExecution(pipelineName, executionId, { abandon, reason });
      return { pipelineName, executionId, abandon, status };
    } catch (error) {
      throw new SandboxRequestError((error as Error).message, 409);
    }
  }

  /** Lets pipeline time pass (approvals time out after 7 days); Slack and the app keep real time. */
  advanceClock(input: { ms?: unknown; hours?: unknown; days?: unknown }) {
    const ms = Number(input.ms ?? 0) + Number(input.hours ?? 0) * (DAY_MS / 24) + Number(input.days ?? 0) * DAY_MS;
    if (!Number.isFinite(ms) || ms <= 0) throw new SandboxRequestError('Give a positive ms, hours or days');
    // Every account's pipelines share one time.
    for (const { emulator } of this.#places()) emulator.advanceClock(ms);
    // The schedule would have fired meanwhile: reminders now due are posted at once.
    this.remindNow().catch(() => undefined);
    return this.clock();
  }

  /**
   * What the reminder schedule does (an EventBridge scheduled rule, every 15 minutes on AWS): a
   * "Scheduled Event" to pipeline-events, due at the pipelines' clock, so "advance clock" brings
   * reminders. Reminding twice posts nothing more.
   */
  async remindNow(): Promise<unknown> {
    const { emulator } = this.#world;
    return this.#world.handlers.pipelineEvents({
      version: '0',
      id: randomUUID(),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: emulator.accountId,
      time: `${emulator.now().toISOString().slice(0, 19)}Z`,
      region: emulator.region,
      resources: [`arn:aws:events:${emulator.region}:${emulator.accountId}:rule/greenlight-reminders`],
      detail: {},
    });
  }

  /** What EventBridge Scheduler does once a day: the daily digest handler, posting at most once per day. */
  async postDigest(): Promise<unknown> {
    return this.#world.handlers.dailyDigest({});
  }

  clock() {
    const now = this.#world.emulator.now();
    return { now: now.toISOString(), clockOffsetMs: Math.max(0, now.getTime() - Date.now()) };
  }

  pipelineNames(product?: string): string[] {
    return this.#places().flatMap(({ emulator }) => emulator.board(product).map((pipeline) => pipeline.pipelineName));
  }

  /** Every account's pending approvals (the page's API; tokens stay in the emulators). */
  pendingApprovals() {
    return this.#places().flatMap(({ emulator, account, region }) =>
      emulator
        .pendingApprovals()
        .map(({ token: _secret, ...approval }) => ({ ...approval, ...(account ? { account, region } : {}) })),
    );
  }

  board(): BoardView {
    const products = new Map<string, { product: string; place: PipelinePlace; rows: BoardRow[] }>();
    let stageNames: string[] | undefined;
    for (const place of this.#places()) {
      const pipelines = place.emulator.board();
      stageNames ??= pipelines[0]?.stages.map((stage) => stage.stageName);
      const expiries = new Map(
        place.emulator
          .pendingApprovals()
          .map((a) => [`${a.pipelineName}/${a.stageName}`, a.expiresAt.toISOString()] as const),
      );
      for (const pipeline of pipelines) this.#addRow(products, place, pipeline, expiries);
    }
    return {
      ...this.clock(),
      stageNames: stageNames ?? [],
      products: [...products.values()]
        // Greenlight's own account first, then the others'.
        .sort(
          (a, b) =>
            Number(Boolean(a.place.account)) - Number(Boolean(b.place.account)) ||
            productRank(a.product) - productRank(b.product) ||
            a.product.localeCompare(b.product),
        )
        .map(({ product, place, rows }) => ({
          product,
          ...(place.account ? { account: place.account, region: place.region } : {}),
          pipelines: rows,
        })),
    };
  }

  #addRow(
    products: Map<string, { product: string; place: PipelinePlace; rows: BoardRow[] }>,
    place: PipelinePlace,
    pipeline: BoardPipeline,
    expiries: ReadonlyMap<string, string>,
  ): void {
    const [product, service] = splitName(pipeline);
    // Two accounts may both have a product of one name: each is its own board.
    const key = `${place.account ?? 'local'}/${product}`;
    const entry = products.get(key) ?? { product, place, rows: [] };
    entry.rows.push({
      pipelineName: pipeline.pipelineName,
      service,
      ...(this.#changeSetGates.has(pipeline.pipelineName) ? { changeSetGate: true as const } : {}),
      stages: pipeline.stages.map((stage) => ({
        ...stage,
        approvalExpiresAt:
          stage.state === 'awaiting-approval'
            ? (expiries.get(`${pipeline.pipelineName}/${stage.stageName}`) ?? null)
            : null,
      })),
    });
    products.set(key, entry);
  }

  /** Everything the page draws, at one moment. */
  snapshot() {
    const slack = this.#world.slack;
    const channels = slack.channels();
    return {
      team: slack.workspace.team,
      bot: slack.workspace.bot,
      people: slack.users(),
      channels,
      messages: Object.fromEntries(channels.map((channel) => [channel.id, slack.messages(channel.id)])),
      ephemerals: slack.ephemerals(),
      views: Object.fromEntries(slack.users().map((person) => [person.id, slack.openViews(person.id)])),
      board: this.board(),
      activity: [...this.#activity],
      emulatorUrl: this.#world.emulator.url,
      slackApiUrl: slack.apiUrl,
    };
  }

  #requirePipeline(name: string): void {
    this.#emulatorOf(name);
  }

  #nextRevision(pipelineName: string): string {
    const n = (this.#commits.get(pipelineName) ?? 0) + 1;
    this.#commits.set(pipelineName, n);
    return `c${n}`;
  }

  /** The simulator throws plain Errors for impossible acts (no such button, view not on top): the caller's mistake. */
  async #attempt<T>(act: () => Promise<T>): Promise<T> {
    try {
      return await act();
    } catch (error) {
      if (error instanceof Error && !(error instanceof TypeError)) throw new SandboxRequestError(error.message, 409);
      throw error;
    }
  }
}

function actResult(result: InteractionResult): ActResult {
  return {
    sent: result.sent,
    status: result.status,
    elapsedMs: Math.round(result.elapsedMs),
    ...(result.displayError ? { displayError: result.displayError } : {}),
    ephemerals: result.ephemerals,
    views: result.views,
  };
}

/** The demo's products in the order the story tells them (shop first), then any others by name. */
function productRank(product: string): number {
  const index = Object.keys(DEMO_PRODUCTS).indexOf(product);
  return index < 0 ? Number.MAX_SAFE_INTEGER : index;
}

function splitName(pipeline: BoardPipeline): [product: string, service: string] {
  const dash = pipeline.pipelineName.indexOf('-');
  return dash < 0
    ? [pipeline.pipelineName, pipeline.pipelineName]
    : [pipeline.pipelineName.slice(0, dash), pipeline.pipelineName.slice(dash + 1)];
}
