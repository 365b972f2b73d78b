import type { Actor, ApprovalRecord, ApprovalRequest, MessageRef, Outcome, Verdict } from './approval.ts';
import { type AuditEvent, dayOf, decidedElsewhereBy, isOverrideDetail } from './audit.ts';
import {
  type ApprovalWait,
  compareMetrics,
  DAY_MS,
  type FailingPipeline,
  failingPipelines,
  HISTORY_DAYS,
  type MetricsComparison,
} from './delivery-metrics.ts';
import { NotPermittedError, PipelineGoneError, TransientError } from './errors.ts';
import { mapLimit } from './map-limit.ts';
import type { ExecutionSummary, PipelineSnapshot, Revision } from './pipeline.ts';
import { type EnvPolicy, productPolicies } from './policy.ts';
import type { ApprovalStore, Clock, Log, PipelineReader } from './ports.ts';
import { type ProductBoard, productBoard } from './product-board.ts';
import { discoverProducts, ownsPipeline, type Product, type ProductOverride, productTargets } from './products.ts';

/**
 * The daily digest as data: what waits for whom, what was decided, where each product stands and
 * how its delivery goes. Views render it; nothing here knows Slack.
 */
export interface Digest {
  /** The UTC day it is for (`YYYY-MM-DD`). */
  day: string;
  now: Date;
  /** Approvals CodePipeline waits for, oldest first. */
  waiting: WaitingApproval[];
  /** Approvals Greenlight still shows as open though CodePipeline no longer waits for them. */
  outdated: number;
  /** Where `decided` starts: the end of the previous digest's window (DigestWindow). */
  decidedSince: Date;
  /** Outcomes of the window (DigestWindow), newest first. */
  decided: DecidedApproval[];
  products: ProductDigest[];
  /** Pipelines CodePipeline did not answer for (after the SDK's retries): missing from boards and metrics. */
  unreadable: string[];
  /** The configured envs with freezes (docs/policy.md), for the freezes coming up. */
  freezes?: EnvPolicy[];
}

/**
 * An AWS account and region other than Greenlight's own, where a product's pipelines live or an
 * approval waits (PRODUCTS `account`, `region`): shown beside names that two accounts may share.
 */
export interface AccountPlace {
  account: string;
  region: string;
}

export interface WaitingApproval {
  approvalId: string;
  pipelineName: string;
  /** Where the pipeline lives, when not in Greenlight's own account. */
  place?: AccountPlace;
  stageName: string;
  actionName: string;
  /** The revision under review (the stage's execution), when CodePipeline could be read. */
  revision?: Revision;
  requestedAt: Date;
  expiresAt: Date;
  /** Expires within EXPIRY_WARNING_MS. */
  expiresSoon: boolean;
  /** Someone's decision is being applied right now. */
  deciding?: Actor;
  /** The live approval message. */
  message?: MessageRef;
  consoleLink: string;
}

export interface DecidedApproval {
  approvalId: string;
  pipelineName: string;
  /** Where the pipeline lives, when not in Greenlight's own account. */
  place?: AccountPlace;
  stageName: string;
  result: Outcome['kind'];
  actor?: Actor;
  /** Answered outside Slack: the verdict CodePipeline showed, when it was read. */
  verdict?: Verdict;
  /** Answered outside Slack: who CodePipeline says gave it (an IAM ARN), and when it took it. */
  by?: string;
  decidedAt?: Date;
  /** Approved during a freeze by break glass: `freeze override (Weekend)`. */
  override?: string;
  reason?: string;
  at: Date;
  /** Requested → outcome, when the request is in the audit trail we read. */
  waitedMs?: number;
}

export interface ProductDigest {
  name: string;
  displayName: string;
  /** Where its pipelines live and were read, when not in Greenlight's own account (its PRODUCTS target). */
  place?: AccountPlace;
  /**
   * Greenlight could not read there (its role there could not be assumed, or no product names that
   * account any more): board and metrics are empty, and the digest says so in a line.
   */
  unreachable?: boolean;
  /** The table of docs/concepts.md's worked example, live: which revision is in which stage of each service pipeline. */
  board: ProductBoard;
  week: MetricsComparison;
  month: MetricsComparison;
  /** Pipelines whose latest finished execution failed and has not recovered since. */
  failing: FailingPipeline[];
}

export interface DigestDeps {
  store: ApprovalStore;
  /** Greenlight's own account and region. */
  reader: PipelineReader;
  /**
   * A reader where pipelines of another account live (app/deps.ts `readerAt`: the role assumed
   * there, that account and region's rate limit). Each product is read in its own target (PRODUCTS
   * `account`, `region`), each waiting approval where it waits. Unset: everything is read with `reader`.
   */
  readerAt?: (place: Pick<ApprovalRequest, 'account' | 'region'>) => Promise<PipelineReader>;
  clock: Clock;
  log: Log;
  /** Product overrides (PRODUCTS). */
  config: { products: Record<string, ProductOverride> };
}

/**
 * What one digest covers: the day it is for (its `DIGEST#<day>` marker) and the outcomes it lists,
 * those recorded after `since` and up to `until`. Consecutive digests' windows meet, so each outcome
 * is listed once (core/digest-posting.ts).
 */
export interface DigestWindow {
  day: string;
  since: Date;
  until: Date;
}

/**
 * The window of a digest with no previous one to follow: the 24 hours before `until`. The first
 * digest ever, one whose previous digest is older than the audit trail it reads, and the preview.
 */
export const lastDayWindow = (until: Date, day = dayOf(until)): DigestWindow => ({
  day,
  since: new Date(until.getTime() - DAY_MS),
  until,
});

/** Approvals that expire sooner than this are flagged. */
export const EXPIRY_WARNING_MS = DAY_MS;
/** DynamoDB queries (one per day of audit trail) in flight at once. */
export const READ_CONCURRENCY = 8;
/**
 * Pipelines read at once. The reader's request limiter paces CodePipeline to the rate it allows (and
 * learns it), so this only bounds what is in flight: enough that the limiter, not the digest, sets
 * the pace.
 */
export const PIPELINE_READ_CONCURRENCY = 16;
/**
 * Days of audit trail read: the 30-day comparison needs 60 days of decisions, plus the longest an
 * approval can wait before one (CodePipeline's maximum timeout, seven days) and a day for rounding.
 * A window that starts earlier is read back to its start.
 */
export const AUDIT_DAYS = 2 * 30 + 8;

/**
 * Reads everything the digest shows: open approvals and the audit trail (DynamoDB, by day), and
 * each product pipeline's executions and then its state (CodePipeline), PIPELINE_READ_CONCURRENCY
 * pipelines at a time. A pipeline's state is read after its executions, so the revisions its stages
 * show come from the executions listed instead of a lookup each. Products whose pipelines live in
 * another account are read there (docs/architecture.md, "Many accounts and regions"). `now` is
 * when it is read; `window` says which day it is for and which outcomes it lists (the 24 hours
 * before `now` unless told); a window still being found is found while CodePipeline is read.
 */
export async function buildDigest(
  deps: DigestDeps,
  now: Date,
  windowToList: DigestWindow | Promise<DigestWindow> = lastDayWindow(now),
): Promise<Digest> {
  // The audit trail (DynamoDB) is read while CodePipeline is.
  const [[window, audit], { open, products, read, unreadable, everyProduct }] = await Promise.all([
    Promise.resolve(windowToList).then(
      async (window) => [window, await readAudit(deps.store, now, window.since)] as const,
    ),
    readPipelines(deps, now),
  ]);

  const placeCount = new Map<string, number>();
  for (const { product } of products) placeCount.set(product.name, (placeCount.get(product.name) ?? 0) + 1);

  const waiting: WaitingApproval[] = [];
  let outdated = 0;
  for (const record of open) {
    const live = liveApproval(
      record,
      read.get(pipelineKey(placeOf(deps, record.request), record.request.pipelineName)),
      now,
    );
    if (live) waiting.push(live);
    else outdated++;
  }

  return {
    day: window.day,
    now,
    waiting,
    outdated,
    decidedSince: window.since,
    decided: decidedIn(audit, window),
    products: products.map(({ product, place, pipelines, board, unreachable }) => {
      const histories = pipelines.flatMap((name) => {
        const executions = read.get(pipelineKey(place, name))?.executions;
        return executions ? [{ pipelineName: name, executions }] : [];
      });
      const runs = histories.map((h) => h.executions);
      // A product in several places counts in each only the approvals that waited there; one in a
      // single place counts all of its approvals, wherever they were recorded, as before.
      const waits = audit.waits.filter(
        (w) =>
          ownsPipeline(product, w.pipelineName, everyProduct) &&
          ((placeCount.get(product.name) ?? 0) < 2 || placeOf(deps, w.place).key === place.key),
      );
      return {
        name: product.name,
        displayName: product.displayName,
        ...(place.account ? { place: { account: place.account, region: place.region } } : {}),
        ...(unreachable ? { unreachable } : {}),
        board,
        week: compareMetrics(runs, waits, now, 7),
        month: compareMetrics(runs, waits, now, 30),
        failing: failingPipelines(histories),
      };
    }),
    unreadable,
    freezes: Object.keys(deps.config.products)
      .flatMap((name) => productPolicies(name, deps.config.products))
      .filter((policy) => policy.freezes.length > 0),
  };
}

/**
 * Where the digest reads: Greenlight's own account (`key` 'local', `region` unknown to the core and
 * not needed), or another account and region. Without `readerAt` every place is the local one.
 */
interface Place {
  key: string;
  account?: string;
  region: string;
}

const LOCAL: Place = { key: 'local', region: '' };

function placeOf(deps: DigestDeps, where: { account?: string; region: string } | undefined): Place {
  if (!deps.readerAt || !where?.account) return LOCAL;
  return { key: `${where.account}/${where.region}`, account: where.account, region: where.region };
}

/**
 * A product's boards and metrics are read in every place its pipelines live (its envs' targets), as
 * `/release <product> status` reads them: one entry of the digest per place.
 */
const placesOfProduct = (deps: DigestDeps, product: Product): Place[] => [
  ...new Map(
    productTargets(product.name, deps.config.products)
      .map((target) => placeOf(deps, target))
      .map((place) => [place.key, place]),
  ).values(),
];

const pipelineKey = (place: Place, name: string) => `${place.key} ${name}`;

/**
 * Readers by place, each asking CodePipeline for a pipeline's snapshot once. A place Greenlight
 * cannot reach (its role there is refused, no product names it any more, or it could not be listed
 * after the SDK's retries) is asked nothing more once that is known: every call there would try the
 * role again. Reads of single pipelines note their own failures (readPipeline, productBoard).
 */
class PlaceReaders {
  readonly #readers = new Map<string, Promise<PipelineReader>>();
  readonly #unreachable = new Set<string>();

  constructor(private readonly deps: DigestDeps) {}

  /** `read` with the place's reader; undefined when the place cannot be reached (logged once). */
  async attempt<T>(place: Place, read: (reader: PipelineReader) => Promise<T>): Promise<T | undefined> {
    if (this.#unreachable.has(place.key)) return undefined;
    try {
      return await read(await this.reader(place));
    } catch (error) {
      // Greenlight's own account fails the digest as before (it is retried); another one is left out.
      if (!place.account || !(error instanceof NotPermittedError || error instanceof TransientError)) throw error;
      if (!this.#unreachable.has(place.key)) {
        this.#unreachable.add(place.key);
        this.deps.log.error('Could not read pipelines of another account for the digest; showing the rest', {
          account: place.account,
          region: place.region,
          error,
        });
      }
      return undefined;
    }
  }

  reader(place: Place): Promise<PipelineReader> {
    let reader = this.#readers.get(place.key);
    if (!reader) {
      const { readerAt } = this.deps;
      reader =
        place.account && readerAt
          ? readerAt({ account: place.account, region: place.region }).then(readOnce)
          : Promise.resolve(readOnce(this.deps.reader));
      this.#readers.set(place.key, reader);
    }
    return reader;
  }
}

/**
 * Open approvals, products, and every pipeline they involve: its history and state, each read once,
 * where it lives. Greenlight's own account is listed for the products named by their pipelines; each
 * other account a product lives in is listed once.
 */
async function readPipelines(deps: DigestDeps, now: Date) {
  const [open, names] = await Promise.all([deps.store.listOpen(), deps.reader.listPipelines('')]);
  const readers = new PlaceReaders(deps);
  const everyProduct = discoverProducts(names, deps.config.products);
  const homes = everyProduct.flatMap((product) => placesOfProduct(deps, product).map((place) => ({ product, place })));
  const listed = new Map<string, string[]>([[LOCAL.key, names]]);
  const elsewhere = [...new Map(homes.filter((h) => h.place !== LOCAL).map((h) => [h.place.key, h.place])).values()];
  await mapLimit(elsewhere, READ_CONCURRENCY, async (place) => {
    const there = await readers.attempt(place, (reader) => reader.listPipelines(''));
    if (there) listed.set(place.key, there);
  });
  const found = homes.map(({ product, place }) => ({
    product,
    place,
    // A nested product's pipelines (`shop-admin-` in `shop-`) are its own, not counted twice.
    pipelines: (listed.get(place.key) ?? []).filter((name) => ownsPipeline(product, name, everyProduct)),
  }));

  // What to read where: product pipelines with their history, and the pipeline of each open approval.
  const targets = new Map<string, { place: Place; name: string; withHistory: boolean }>();
  for (const { place, pipelines } of found)
    for (const name of pipelines) targets.set(pipelineKey(place, name), { place, name, withHistory: true });
  for (const { request } of open) {
    const place = placeOf(deps, request);
    const key = pipelineKey(place, request.pipelineName);
    if (!targets.has(key)) targets.set(key, { place, name: request.pipelineName, withHistory: false });
  }
  const toRead = [...targets.entries()].sort(([a], [b]) => a.localeCompare(b));
  const since = new Date(now.getTime() - HISTORY_DAYS * DAY_MS);
  const reads = await mapLimit(toRead, PIPELINE_READ_CONCURRENCY, async ([key, { place, name, withHistory }]) => {
    const read = await readers.attempt(place, (reader) => readPipeline(deps, reader, name, withHistory, since));
    return [key, { place, ...(read ?? { name }) }] as const;
  });
  const read = new Map(reads);
  // Every pipeline is read once: the boards below find its snapshot in the place's reader.
  const products = await mapLimit(found, READ_CONCURRENCY, async ({ product, place, pipelines }) => {
    const board = await readers.attempt(place, (reader) => productBoard(reader, product, { pipelines }));
    return board
      ? { product, place, pipelines, board }
      : { product, place, pipelines: [], board: { product, stages: [], rows: [] }, unreachable: true };
  });
  const unreadable = reads
    .filter(([, r]) => r.unreadable)
    .map(([, r]) => (r.place.account ? `${r.name} (${r.place.account} ${r.place.region})` : r.name));
  return { open, products, read, unreadable, everyProduct };
}

interface PipelineRead {
  name: string;
  snapshot?: PipelineSnapshot;
  executions?: ExecutionSummary[];
  gone?: boolean;
  unreadable?: boolean;
}

/** One pipeline's history (product pipelines only) and state; a pipeline gone or not answering is noted, not fatal. */
async function readPipeline(
  deps: DigestDeps,
  reader: PipelineReader,
  name: string,
  withHistory: boolean,
  since: Date,
): Promise<PipelineRead> {
  try {
    const executions = withHistory ? await reader.executionsSince(name, since) : undefined;
    const snapshot = await reader.snapshot(name);
    return { name, snapshot, ...(executions ? { executions } : {}) };
  } catch (error) {
    if (error instanceof PipelineGoneError) return { name, gone: true };
    if (error instanceof TransientError) {
      deps.log.warn('Could not read a pipeline for the digest; showing the rest', { pipeline: name, error });
      return { name, unreadable: true };
    }
    throw error;
  }
}

/**
 * The approval as the digest shows it, or undefined when CodePipeline no longer waits for it
 * (decided in the console, expired, superseded, pipeline gone). An unreadable pipeline keeps it, as
 * does one in an account Greenlight could not reach.
 */
function liveApproval(record: ApprovalRecord, read: PipelineRead | undefined, now: Date): WaitingApproval | undefined {
  const { request } = record;
  if (request.expiresAt.getTime() <= now.getTime() || read?.gone) return undefined;
  const stage = read?.snapshot?.stages.find((s) => s.name === request.stageName);
  if (read?.snapshot) {
    const action = stage?.actions.find((a) => a.name === request.actionName);
    if (action?.status !== 'InProgress' || action.token !== request.token) return undefined;
  }
  const revision = stage?.latest?.revision;
  return {
    approvalId: request.id,
    pipelineName: request.pipelineName,
    ...(request.account ? { place: { account: request.account, region: request.region } } : {}),
    stageName: request.stageName,
    actionName: request.actionName,
    ...(revision ? { revision } : {}),
    requestedAt: request.receivedAt,
    expiresAt: request.expiresAt,
    expiresSoon: request.expiresAt.getTime() - now.getTime() <= EXPIRY_WARNING_MS,
    ...(record.status === 'deciding' && record.claim ? { deciding: record.claim.actor } : {}),
    ...(record.message ? { message: record.message } : {}),
    consoleLink: request.consoleLink,
  };
}

/** The reader, asking CodePipeline for each pipeline's snapshot at most once (failures included). */
function readOnce(reader: PipelineReader): PipelineReader {
  const snapshots = new Map<string, Promise<PipelineSnapshot>>();
  return {
    listPipelines: (prefix) => reader.listPipelines(prefix),
    executionsSince: (name, since) => reader.executionsSince(name, since),
    snapshot(name) {
      let snapshot = snapshots.get(name);
      if (!snapshot) {
        snapshot = reader.snapshot(name);
        snapshots.set(name, snapshot);
      }
      return snapshot;
    },
  };
}

interface OutcomeFact {
  event: AuditEvent;
  requestedAt?: Date;
}

interface AuditFacts {
  outcomes: OutcomeFact[];
  /** Approved and rejected decisions with their wait and where they waited, for the metrics. */
  waits: (ApprovalWait & { pipelineName: string; place: Pick<ApprovalRequest, 'account' | 'region'> })[];
}

/**
 * The audit trail of the last AUDIT_DAYS days (or back to `since`, when that is earlier), one query
 * per UTC day, reduced as it arrives to what the digest needs (requests and outcomes), so memory
 * stays small however busy the days were.
 */
async function readAudit(store: ApprovalStore, now: Date, since: Date): Promise<AuditFacts> {
  const first = Math.min(now.getTime() - AUDIT_DAYS * DAY_MS, since.getTime());
  const count = Math.round((Date.parse(dayOf(now)) - Date.parse(dayOf(new Date(first)))) / DAY_MS) + 1;
  const days = Array.from({ length: count }, (_, i) => dayOf(new Date(now.getTime() - i * DAY_MS)));
  const perDay = await mapLimit(days, READ_CONCURRENCY, async (day) => {
    const events = await store.eventsForDay(day);
    return {
      requested: events.filter((e) => e.type === 'requested').map((e) => [e.approvalId, e.at] as const),
      outcomes: events.filter((e) => e.type === 'outcome' && e.at.getTime() <= now.getTime()),
    };
  });
  const requestedAt = new Map(perDay.flatMap((d) => d.requested));
  const outcomes = perDay.flatMap((d) =>
    d.outcomes.map((event) => {
      const requested = requestedAt.get(event.approvalId);
      return requested ? { event, requestedAt: requested } : { event };
    }),
  );
  const waits = outcomes.flatMap(({ event, requestedAt }) =>
    requestedAt && event.approval && (event.result === 'approved' || event.result === 'rejected')
      ? [
          {
            pipelineName: event.approval.pipelineName,
            place: event.approval,
            requestedAt,
            decidedAt: event.at,
          },
        ]
      : [],
  );
  return { outcomes, waits };
}

/** The outcomes recorded in the window: after its start, up to and including its end. */
function decidedIn(audit: AuditFacts, { since, until }: DigestWindow): DecidedApproval[] {
  return (
    audit.outcomes
      .filter(({ event }) => event.at.getTime() > since.getTime() && event.at.getTime() <= until.getTime())
      // Newest first by the time shown: CodePipeline's for an answer outside Slack (decidedAt).
      .sort((a, b) => (b.event.decidedAt ?? b.event.at).getTime() - (a.event.decidedAt ?? a.event.at).getTime())
      .map(({ event, requestedAt }) => {
        const by = decidedElsewhereBy(event);
        return {
          approvalId: event.approvalId,
          pipelineName: event.approval?.pipelineName ?? 'unknown pipeline',
          ...(event.approval?.account
            ? { place: { account: event.approval.account, region: event.approval.region } }
            : {}),
          stageName: event.approval?.stageName ?? 'unknown stage',
          result: (event.result ?? 'decided-elsewhere') as Outcome['kind'],
          ...(event.actor ? { actor: event.actor } : {}),
          // Answered outside Slack: the outcome's verdict is CodePipeline's (core/audit.ts, outcomeEvent).
          ...(event.result === 'decided-elsewhere' && event.verdict ? { verdict: event.verdict } : {}),
          ...(by ? { by } : {}),
          ...(event.decidedAt ? { decidedAt: event.decidedAt } : {}),
          ...(event.result === 'approved' && isOverrideDetail(event.detail) ? { override: event.detail } : {}),
          ...(event.reason ? { reason: event.reason } : {}),
          at: event.at,
          ...(requestedAt ? { waitedMs: (event.decidedAt ?? event.at).getTime() - requestedAt.getTime() } : {}),
        };
      })
  );
}

/** Nothing waits and nothing was decided: the digest says so in a line. */
export const isQuiet = (digest: Digest): boolean =>
  digest.waiting.length === 0 && digest.decided.length === 0 && digest.outdated === 0;
