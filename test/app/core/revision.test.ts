import { describe, expect, it } from 'vitest';
import {
  compareUrl,
  readRevisionSummary,
  revisionsSince,
  shortRevision,
  sourceRevision,
} from '../../../app/core/revision.ts';

const a = 'a'.repeat(40);
const b = 'b'.repeat(40);

describe('the revision under review', () => {
  it('reads a connection summary (JSON) and a plain one, first line only', () => {
    // As CodePipeline gives a GitHub connection's revision: {"ProviderType":"GitHub","CommitMessage":…}
    expect(readRevisionSummary('{"ProviderType":"GitHub","CommitMessage":"Fix totals\\n\\nBody"}')).toEqual({
      message: 'Fix totals',
      providerType: 'GitHub',
    });
    expect(readRevisionSummary('Fix totals\nBody')).toEqual({ message: 'Fix totals' });
    expect(readRevisionSummary('{not json')).toEqual({ message: '{not json' });
    expect(readRevisionSummary(undefined)).toEqual({});
  });

  it('links the commit by the revision URL when it is https, else by the repository', () => {
    const source = { provider: 'CodeStarSourceConnection', repository: 'acme/orders' };
    const summary = '{"ProviderType":"GitLab","CommitMessage":"m"}';
    expect(sourceRevision({ revisionId: a, revisionSummary: summary }, source, 'us-east-2').url).toBe(
      `https://gitlab.com/acme/orders/-/commit/${a}`,
    );
    expect(sourceRevision({ revisionId: a, revisionUrl: 'https://example.com/c/1' }, source, 'us-east-2').url).toBe(
      'https://example.com/c/1',
    );
    expect(
      sourceRevision({ revisionId: a, revisionUrl: 'javascript:alert(1)' }, undefined, 'us-east-2').url,
    ).toBeUndefined();
  });

  it.each([
    ['CodeStarSourceConnection', 'GitHub', `https://github.com/acme/orders/compare/${a}...${b}`],
    ['CodeStarSourceConnection', 'GitLab', `https://gitlab.com/acme/orders/-/compare/${a}...${b}`],
    ['CodeStarSourceConnection', 'Bitbucket', `https://bitbucket.org/acme/orders/branches/compare/${b}%0D${a}`],
    ['GitHub', undefined, `https://github.com/acme/orders/compare/${a}...${b}`],
  ])('compares on %s (%s)', (provider, providerType, url) => {
    expect(compareUrl({ provider, repository: 'acme/orders' }, providerType, a, b, 'us-east-2')).toBe(url);
  });

  it('compares in the CodeCommit console, and nowhere for self-managed hosts or non-commit revisions', () => {
    expect(compareUrl({ provider: 'CodeCommit', repository: 'orders' }, undefined, a, b, 'eu-west-1')).toBe(
      `https://eu-west-1.console.aws.amazon.com/codesuite/codecommit/repositories/orders/compare/${a}/.../${b}?region=eu-west-1`,
    );
    const connection = { provider: 'CodeStarSourceConnection', repository: 'acme/orders' };
    expect(compareUrl(connection, 'GitHubEnterpriseServer', a, b, 'us-east-2')).toBeUndefined();
    expect(compareUrl({ provider: 'S3' }, undefined, a, b, 'us-east-2')).toBeUndefined();
    expect(compareUrl(connection, 'GitHub', 'v1.zip', b, 'us-east-2')).toBeUndefined();
  });

  it('counts the different revisions since production’s execution, newest first as CodePipeline lists them', () => {
    const executions = [
      { executionId: 'e5', startedAt: 5, revisionId: 'r4' },
      { executionId: 'e4', startedAt: 4, revisionId: 'r3' },
      { executionId: 'e3', startedAt: 4, revisionId: 'r3' }, // the same revision run again counts once
      { executionId: 'e2', startedAt: 3, revisionId: 'r2' },
      { executionId: 'e1', startedAt: 3, revisionId: 'r1' }, // production (the same start time: order decides)
    ];
    expect(revisionsSince(executions, 'e1', 'e4')).toBe(2);
    expect(revisionsSince(executions, 'e1', 'e5')).toBe(3);
    expect(revisionsSince(executions, 'e4', 'e2')).toBeUndefined();
    expect(revisionsSince(executions, 'e0', 'e4')).toBeUndefined();
  });

  it('shortens commit ids to 7 and other ids to 12', () => {
    expect(shortRevision(a)).toBe('aaaaaaa');
    expect(shortRevision('c1')).toBe('c1');
    expect(shortRevision('3sL4kqtJlcpXroDTDmJ-rmSpXd3dIbrHY')).toBe('3sL4kqtJlcpX…');
  });
});
