import type { ApprovalRequest } from './approval.ts';
import type { ExecutionRef } from './pipeline.ts';
import { policyForApproval } from './policy.ts';
import type { PipelineReader } from './ports.ts';
import { type ProductOverride, resolveProduct } from './products.ts';

/**
 * The rules a request is posted under, as stored with it (docs/policy.md). With `separateFrom`,
 * also who may not approve it: whoever approved the same revision in the envs named. CodePipeline
 * says so itself: when the request arrives, the named env's stage still shows the execution that
 * passed it, and its approval action keeps the summary Greenlight gave it (`Approved by alice
 * (U0ALICE) via Slack: approvals from …`). Read here, on the notification's patient path, so a
 * click checks it in its own conditional write and asks nothing.
 */
export async function policyAtIngest(
  products: Readonly<Record<string, ProductOverride>>,
  reader: Pick<PipelineReader, 'snapshot'>,
  request: ApprovalRequest,
): Promise<ApprovalRequest['policy']> {
  const policy = policyForApproval(products, request);
  if (!policy || policy.separateFrom.length === 0) return policy;
  const snapshot = await reader.snapshot(request.pipelineName);
  const here = snapshot.stages.find((stage) => stage.name === request.stageName)?.latest;
  const envs = resolveProduct(policy.product, products).envs;
  const separatedFrom = new Set<string>();
  for (const env of policy.separateFrom) {
    const target = Object.hasOwn(envs, env) ? envs[env] : undefined;
    const stage = snapshot.stages.find((candidate) => candidate.name === target?.stage);
    // Only the same revision counts: a stage that has moved on shows someone else's change.
    if (!here || !stage?.latest || !sameRevision(stage.latest, here)) continue;
    for (const action of stage.actions)
      if ((!target?.action || action.name === target.action) && action.status === 'Succeeded')
        for (const id of approversIn(action.summary)) separatedFrom.add(id);
  }
  return { ...policy, separatedFrom: [...separatedFrom] };
}

const sameRevision = (a: ExecutionRef, b: ExecutionRef): boolean =>
  a.executionId === b.executionId ||
  (a.revision?.revisionId !== undefined && a.revision.revisionId === b.revision?.revisionId);

/**
 * The Slack user ids an approval summary of Greenlight's names: the decider, with `required`
 * everyone whose vote counted, and for a release the person who asked for it (core/approval.ts,
 * approvalSummary). A display name or reason that imitates an id can only add someone to those kept
 * out, never let anyone in. An approval in the console names an IAM identity, no Slack user: it
 * keeps nobody out (docs/policy.md).
 */
export function approversIn(summary: string | undefined): string[] {
  if (!summary?.startsWith('Approved by ')) return [];
  const names = summary.split(/: (?!approvals from|asked by Slack user)/)[0] ?? '';
  const people = [...names.matchAll(/\(([UW][A-Z0-9]{2,})\)/g)].map((match) => match[1] ?? '');
  const asked = /asked by Slack user ([UW][A-Z0-9]{2,})/.exec(summary)?.[1];
  return asked ? [...people, asked] : people;
}
