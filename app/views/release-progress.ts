import type { KnownBlock } from '@slack/types';
import {
  type IncludedItem,
  type ItemResult,
  type ItemResultKind,
  includedItems,
  type PlanItem,
  type ReleaseRun,
  releaseCounts,
} from '../core/release.ts';
import type { SlackMessage } from './approval-message.ts';
import { actorText, clip, escapeMrkdwn, slackDate } from './format.ts';
import { packLines, revisionText } from './release-lines.ts';
import { excludedLine } from './release-modal.ts';

/** Messages hold at most 50 blocks; header, summary and context take three. */
const MESSAGE_BLOCKS = 50;

const order: ItemResultKind[] = ['approved', 'changed', 'already-decided', 'not-pending', 'failed'];

const headings: Record<ItemResultKind, string> = {
  approved: ':white_check_mark: *Approved*',
  changed: ':twisted_rightwards_arrows: *Changed since confirmation* (not approved)',
  'already-decided': ':bust_in_silhouette: *Already decided*',
  'not-pending': ':white_circle: *Not pending*',
  failed: ':x: *Failed*',
};

/**
 * The release's one message in the channel: "Releasing shop to prod — 7/20" while it runs, then each
 * pipeline's outcome. Redrawn in place (throttled) as results come in.
 */
export function releaseProgressMessage(run: ReleaseRun): SlackMessage {
  const counts = releaseCounts(run);
  const product = run.product.displayName;
  const finished = run.state === 'finished' || (counts.total > 0 && counts.done === counts.total);
  const troubled = counts.byKind.failed + counts.byKind.changed > 0;
  const head = finished
    ? `${troubled ? '⚠️' : '✅'} Released ${product} to ${run.env} — ${counts.byKind.approved}/${counts.total} approved`
    : `🚀 Releasing ${product} to ${run.env} — ${counts.done}/${counts.total}`;

  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: clip(head, 150) } },
    {
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: clip(
            `${escapeMrkdwn(run.stageName)} of every \`${escapeMrkdwn(run.product.name)}\` pipeline · ${startedBy(run)} ` +
              `${slackDate(run.confirmedAt ?? run.createdAt)} · release \`${escapeMrkdwn(run.releaseId)}\``,
            3000,
          ),
        },
      ],
    },
  ];

  const groups = groupResults(run);
  const excluded = run.items.filter((item): item is Extract<PlanItem, { kind: 'exclude' }> => item.kind === 'exclude');
  const sections = order.filter((kind) => groups[kind].length > 0).length + (excluded.length > 0 ? 1 : 0);
  let budget = MESSAGE_BLOCKS - blocks.length;
  for (const kind of order) {
    const items = groups[kind];
    if (items.length === 0) continue;
    const share = Math.max(1, Math.floor(budget / Math.max(1, sections)));
    // Approved pipelines are a list of names, packed side by side; the rest need a line each.
    const packed =
      kind === 'approved'
        ? packLines(
            items.map(({ item }) => `\`${escapeMrkdwn(item.pipelineName)}\``),
            share,
            `${headings[kind]} (${items.length})`,
            ', ',
          )
        : packLines(
            items.map(({ item, result }) => resultLine(item, result)),
            share,
            `${headings[kind]} (${items.length})`,
          );
    blocks.push(...packed);
    budget -= packed.length;
  }
  if (excluded.length > 0)
    blocks.push(...packLines(excluded.map(excludedLine), Math.max(1, budget), `*Not included (${excluded.length})*`));
  if (counts.total === 0 && excluded.length === 0)
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: 'The product has no pipelines.' } });

  return { text: clip(head, 3000), blocks: blocks.slice(0, MESSAGE_BLOCKS) };
}

const startedBy = (run: ReleaseRun) =>
  run.source === 'pipeline' ? 'started by the releasing pipeline' : `requested by ${actorText(run.requestedBy)}`;

type Grouped = Record<ItemResultKind, Array<{ item: IncludedItem; result: ItemResult }>>;

function groupResults(run: ReleaseRun): Grouped {
  const groups: Grouped = { approved: [], changed: [], 'already-decided': [], 'not-pending': [], failed: [] };
  for (const item of includedItems(run)) {
    const result = run.results[item.pipelineName];
    if (result) groups[result.kind].push({ item, result });
  }
  return groups;
}

function resultLine(item: IncludedItem, result: ItemResult): string {
  const name = `*${escapeMrkdwn(item.pipelineName)}*`;
  switch (result.kind) {
    case 'approved':
      return `${name} · ${revisionText(item.approval.revision)}`;
    case 'changed':
      return `${name} — confirmed ${revisionText(item.approval.revision)}, now ${revisionText(result.revision)}`;
    case 'already-decided': {
      const verb = result.verdict === 'reject' ? 'rejected' : result.verdict === 'approve' ? 'approved' : 'decided';
      const who = result.by ? actorText(result.by) : 'someone outside Greenlight (console or CLI)';
      return result.inProgress ? `${name} — being ${verb} by ${who}` : `${name} — ${verb} by ${who}`;
    }
    case 'not-pending':
      return `${name} — ${escapeMrkdwn(result.detail)}`;
    case 'failed':
      return `${name} — ${escapeMrkdwn(result.why)}`;
  }
}
