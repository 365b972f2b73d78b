import {
  ChangeSetNotFoundException,
  type CloudFormationClient,
  DescribeChangeSetCommand,
  type DescribeChangeSetCommandOutput,
} from '@aws-sdk/client-cloudformation';
import { type ChangeSetRef, type ChangeSetReview, type RawResourceChange, readChanges } from '../core/change-set.ts';
import { TransientError } from '../core/errors.ts';
import type { ChangeSetReader } from '../core/revision-review.ts';

/**
 * The StatusReason of a change set CloudFormation FAILED because the template changes nothing:
 * "The submitted information didn't contain changes. Submit different information to create a
 * change set." (and, from older stacks, "No updates are to be performed.").
 */
const NO_CHANGES = /didn't contain changes|no updates are to be performed/i;

/** Pages read at most per change set: far beyond the 2,500 resources a stack may hold at a page's size. */
const MAX_PAGES = 100;
/** Nested stacks' change sets are read this deep, and this many in all. */
const MAX_NESTED_DEPTH = 3;
const MAX_NESTED = 20;

/**
 * ChangeSetReader on CloudFormation's DescribeChangeSet, every page (NextToken), nested stacks'
 * change sets included as far as the API names them (ResourceChange.ChangeSetId). One client per
 * region, from `clientFor`. What CloudFormation says of the change set becomes a review kind; a call
 * that got no answer (or was throttled) throws TransientError.
 */
export class CloudFormationChangeSets implements ChangeSetReader {
  constructor(private readonly clientFor: (region: string, roleArn?: string) => CloudFormationClient) {}

  async read(ref: ChangeSetRef): Promise<ChangeSetReview> {
    const where = { stackName: ref.stackName, changeSetName: ref.changeSetName, region: ref.region };
    const client = this.clientFor(ref.region, ref.roleArn);
    let first: DescribeChangeSetCommandOutput;
    let raw: RawResourceChange[];
    try {
      ({ first, raw } = await this.readAll(client, { ChangeSetName: ref.changeSetName, StackName: ref.stackName }));
    } catch (error) {
      if (error instanceof ChangeSetNotFoundException) return { kind: 'missing', ...where };
      if (isAccessDenied(error)) return { kind: 'denied', ...where };
      throw new TransientError(`CloudFormation did not describe change set ${ref.changeSetName}`, { cause: error });
    }
    if (first.Status === 'FAILED')
      return NO_CHANGES.test(first.StatusReason ?? '')
        ? { kind: 'empty', ...where }
        : { kind: 'failed', ...where, ...(first.StatusReason ? { reason: first.StatusReason } : {}) };
    if (first.Status !== 'CREATE_COMPLETE') return { kind: 'pending', status: first.Status ?? 'unknown', ...where };
    return { kind: 'read', ...where, ...readChanges(raw) };
  }

  /** Every page of one change set, and of the nested stacks' change sets it names. */
  private async readAll(
    client: CloudFormationClient,
    input: { ChangeSetName: string; StackName?: string },
  ): Promise<{ first: DescribeChangeSetCommandOutput; raw: RawResourceChange[] }> {
    const first = await client.send(new DescribeChangeSetCommand(input));
    const raw: RawResourceChange[] = [];
    const nested: Array<{ prefix: string; changeSetId: string; depth: number }> = [];
    const take = (page: DescribeChangeSetCommandOutput, prefix: string, depth: number) => {
      for (const change of page.Changes ?? []) {
        const resource = change.ResourceChange;
        if (!resource) continue;
        const logicalId = `${prefix}${resource.LogicalResourceId ?? ''}`;
        raw.push({
          ...(resource.Action ? { action: resource.Action } : {}),
          logicalId,
          ...(resource.ResourceType ? { type: resource.ResourceType } : {}),
          ...(resource.Replacement ? { replacement: resource.Replacement } : {}),
          properties: (resource.Details ?? []).flatMap((detail) => (detail.Target?.Name ? [detail.Target.Name] : [])),
        });
        if (resource.ChangeSetId && depth < MAX_NESTED_DEPTH && nested.length < MAX_NESTED)
          nested.push({ prefix: `${logicalId}/`, changeSetId: resource.ChangeSetId, depth: depth + 1 });
      }
    };
    await this.pages(client, input, first, (page) => take(page, '', 0));
    for (const stack of nested) {
      const top = await client.send(new DescribeChangeSetCommand({ ChangeSetName: stack.changeSetId }));
      await this.pages(client, { ChangeSetName: stack.changeSetId }, top, (page) =>
        take(page, stack.prefix, stack.depth),
      );
    }
    return { first, raw };
  }

  private async pages(
    client: CloudFormationClient,
    input: { ChangeSetName: string; StackName?: string },
    first: DescribeChangeSetCommandOutput,
    each: (page: DescribeChangeSetCommandOutput) => void,
  ): Promise<void> {
    let page = first;
    for (let count = 1; ; count++) {
      each(page);
      if (!page.NextToken || count >= MAX_PAGES) return;
      page = await client.send(new DescribeChangeSetCommand({ ...input, NextToken: page.NextToken }));
    }
  }
}

/** CloudFormation answers a missing permission with the awsQuery error code AccessDenied (HTTP 403). */
function isAccessDenied(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { name, $metadata } = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return name === 'AccessDenied' || name === 'AccessDeniedException' || $metadata?.httpStatusCode === 403;
}
