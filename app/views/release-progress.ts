import type { KnownBlock } from '@slack/types';
import type { ReleaseStep } from '../core/ports.ts';
import { ownValue } from '../core/products.ts';
import {
  type IncludedItem,
  type ItemResult,
  type ItemResultKind,
  includedItems,
  itemKey,
  type PlanItem,
  type ReleaseRun,
  releaseCounts,
} from '../core/release.ts';
import type { SlackMessage } from './approval-message.ts';
import { actorText, clip, escapeMrkdwn, slackDate } from './format.ts';
import { BLOCK_KIT, TEXT_BUDGET, textLength } from './limits.ts';
import { packLines, pipelineNamer, revisionText } from './release-lines.ts';
import { excludedLine } from './release-modal.ts';

const order: ItemResultKind[] = ['approved', 'voted', 'changed', 'already-decided', 'not-pending', 'refused', 'failed'];

const headings: Record<ItemResultKind, string> = {
  approved: ':white_check_mark: *Approved*',
  changed: ':twisted_rightwards_arrows: *Changed since confirmation* (not approved)',
  'already-decided': ':bust_in_silhouette: *Already decided*',
  'not-pending': ':white_circle: *Not pending*',
  voted: ':ballot_box_with_ballot: *Counted, waiting for more approvals*',
  refused: ':no_entry: *Not approved by the approval rules*',
  failed: ':x: *Failed*',
};

/**
 * The release's one message in the channel: "Releasing shop to prod — 7/20" while it runs, then each
 * pipeline's outcome. Redrawn in place (throttled) as results come in.
 */
export function releaseProgressMessage(
  run: ReleaseRun,
  steps: Readonly<Record<string, ReleaseStep>> = {},
): SlackMessage {
  const counts = releaseCounts(run);
  const product = run.product.displayName;
  const finished = run.state === 'finished' || (counts.total > 0 && counts.done === counts.total);
  const groups = groupResults(run);
  // A pipeline someone rejected (in Slack or the console) did not ship either: not a clean release.
  const rejected = groups['already-decided'].filter(({ result }) =>
    result.kind === 'already-decided' ? result.verdict === 'reject' && !result.inProgress : false,
  ).length;
  const troubled = counts.byKind.failed + counts.byKind.changed + counts.byKind.refused + rejected > 0;
  const head = finished
    ? `${troubled ? '⚠️' : '✅'} Released ${product} to ${run.env} — ${counts.byKind.approved}/${counts.total} approved`
    : `🚀 Releasing ${product} to ${run.env} — ${counts.done}/${counts.total}`;

  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: clip(head, BLOCK_KIT.header) } },
    {
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: clip(
            `${escapeMrkdwn(run.stageName)} of every \`${escapeMrkdwn(run.product.name)}\` pipeline · ${startedBy(run)} ` +
              `${slackDate(run.confirmedAt ?? run.createdAt)} · release \`${escapeMrkdwn(run.releaseId)}\``,
            BLOCK_KIT.text,
          ),
        },
      ],
    },
  ];

  const nameOf = pipelineNamer(run);
  const stepOf = (item: IncludedItem) => ownValue(steps, itemKey(item));
  const excluded = run.items.filter((item): item is Extract<PlanItem, { kind: 'exclude' }> => item.kind === 'exclude');
  // Each list gets an even share of what is left of the message (blocks and text); what a list leaves
  // unused goes to the lists after it. A list that does not fit says how many more it holds.
  const lists: Array<{ lines: string[]; heading: string; separator?: string }> = order
    .filter((kind) => groups[kind].length > 0)
    .map((kind) => {
      const items = groups[kind];
      const heading = `${headings[kind]} (${items.length})`;
      // Approved pipelines are a list of names, packed side by side, until they are on their way to
      // production: then each has a line with its latest step (core/journey-release.ts).
      const following = kind === 'approved' && items.some(({ item }) => stepOf(item));
      if (following) return { lines: items.map(({ item }) => stepLine(nameOf(item), stepOf(item))), heading };
      return kind === 'approved'
        ? { lines: items.map(({ item }) => `\`${escapeMrkdwn(nameOf(item))}\``), heading, separator: ', ' }
        : { lines: items.map(({ item, result }) => resultLine(nameOf(item), item, result)), heading };
    });
  if (excluded.length > 0)
    lists.push({
      lines: excluded.map((item) => excludedLine(item, nameOf)),
      heading: `*Not included (${excluded.length})*`,
    });
  let room = { blocks: BLOCK_KIT.blocks - blocks.length, chars: TEXT_BUDGET - textLength(blocks) };
  lists.forEach((list, index) => {
    const left = lists.length - index;
    const share = {
      blocks: Math.max(1, Math.floor(room.blocks / left)),
      chars: Math.floor(room.chars / left),
    };
    const packed = packLines(list.lines, share, {
      heading: list.heading,
      ...(list.separator ? { separator: list.separator } : {}),
    });
    blocks.push(...packed);
    room = { blocks: room.blocks - packed.length, chars: room.chars - textLength(packed) };
  });
  if (counts.total === 0 && excluded.length === 0)
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: 'The product has no pipelines.' } });

  return { text: clip(head, BLOCK_KIT.text), blocks: blocks.slice(0, BLOCK_KIT.blocks) };
}

/** A released pipeline's line: its latest step after the approval, or just approved. */
function stepLine(pipelineName: string, step: ReleaseStep | undefined): string {
  const name = `\`${escapeMrkdwn(pipelineName)}\``;
  const stage = escapeMrkdwn(step?.stageName ?? '');
  switch (step?.kind) {
    case undefined:
      return `${name} · approved`;
    case 'started':
      return `${name} · ⏳ ${stage} deploying`;
    case 'waiting':
      return `${name} · ✋ waiting for approval in ${stage}`;
    case 'succeeded':
      return `${name} · ✅ ${stage} succeeded`;
    case 'failed':
      return `${name} · ❌ ${stage} failed (see its approval’s thread)`;
    case 'stopped':
      return `${name} · ⛔ stopped at the approval in ${stage} (see that approval’s message)`;
    case 'production':
      return `${name} · 🚀 reached production`;
    default:
      // A step of a newer version, read by an older one after a rollback.
      return `${name} · approved`;
  }
}

const startedBy = (run: ReleaseRun) =>
  run.source === 'pipeline' ? 'started by the releasing pipeline' : `requested by ${actorText(run.requestedBy)}`;

type Grouped = Record<ItemResultKind, Array<{ item: IncludedItem; result: ItemResult }>>;

function groupResults(run: ReleaseRun): Grouped {
  const groups: Grouped = {
    approved: [],
    voted: [],
    changed: [],
    'already-decided': [],
    'not-pending': [],
    refused: [],
    failed: [],
  };
  for (const item of includedItems(run)) {
    const result = ownValue(run.results, itemKey(item));
    if (result) groups[result.kind].push({ item, result });
  }
  return groups;
}

function resultLine(pipelineName: string, item: IncludedItem, result: ItemResult): string {
  const name = `*${escapeMrkdwn(pipelineName)}*`;
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
    case 'voted':
      return `${name} — ${result.votes} of ${result.required} approvals; the rest are given in its message`;
    case 'refused':
    case 'failed':
      return `${name} — ${escapeMrkdwn(result.why)}`;
  }
}
