/**
 * The revision under review (docs/what-am-i-approving.md): which source change an approval lets
 * through, and how far it is from what production runs. Read from CodePipeline on the notification's
 * patient path and stored with the request, so the message shows it and a click asks nothing.
 *
 * Everything here is JSON-safe (no Date), because it is stored in the approval's record as it is.
 */

/** The source change an execution carries (GetPipelineExecution's first artifact revision). */
export interface SourceRevision {
  revisionId: string;
  /** The first line of the commit message, when the source says it. */
  message?: string;
  /** Where the commit is shown: the revision's own URL, or one made from the source's repository. */
  url?: string;
}

/** How the revision under review stands against the one production runs. */
export type ProductionGap =
  /** Production runs this very revision already. */
  | { kind: 'same' }
  /**
   * Production runs `revisionId`. `count`: the different source revisions this pipeline started
   * executions for since then, this one included (a push of several commits counts once); missing
   * when the pipeline's history does not tell. `compareUrl`: the provider's compare page.
   */
  | { kind: 'behind'; revisionId: string; count?: number; compareUrl?: string }
  /** No execution has succeeded in the production stage yet. */
  | { kind: 'none'; stageName: string }
  | { kind: 'unknown'; why: string };

export type RevisionReview =
  | { kind: 'known'; revision: SourceRevision; production: ProductionGap }
  | { kind: 'unknown'; why: string };

/** Where a pipeline's source lives, as its Source action is configured. */
export interface SourceLocation {
  /** The action's provider: `CodeStarSourceConnection`, `CodeCommit`, `GitHub` (version 1), `S3`, `ECR`… */
  provider: string;
  /** `owner/repo` (connections, GitHub) or the CodeCommit repository name. */
  repository?: string;
}

/** A source revision as CodePipeline gives it (ArtifactRevision), before it is read. */
export interface RawRevision {
  revisionId: string;
  revisionSummary?: string;
  revisionUrl?: string;
}

/**
 * The hosts a connection's revision summary may name (`{"ProviderType":"GitHub","CommitMessage":…}`,
 * as CodePipeline gives it for CodeStarSourceConnection sources), with their public web addresses.
 * Self-managed hosts (GitHubEnterpriseServer, GitLabSelfManaged) have no address Greenlight could
 * know, so they get no links.
 */
const CONNECTION_HOSTS: Readonly<Record<string, 'github' | 'gitlab' | 'bitbucket'>> = {
  GitHub: 'github',
  GitLab: 'gitlab',
  Bitbucket: 'bitbucket',
};

type Host = 'github' | 'gitlab' | 'bitbucket' | 'codecommit';

/** The message's first line and the provider type, from a revision summary (JSON for connections, text otherwise). */
export function readRevisionSummary(summary: string | undefined): { message?: string; providerType?: string } {
  if (!summary?.trim()) return {};
  let message = summary;
  let providerType: string | undefined;
  if (summary.trimStart().startsWith('{')) {
    try {
      const json: unknown = JSON.parse(summary);
      if (typeof json === 'object' && json !== null) {
        const fields = json as Record<string, unknown>;
        if (typeof fields.ProviderType === 'string') providerType = fields.ProviderType;
        if (typeof fields.CommitMessage === 'string') message = fields.CommitMessage;
      }
    } catch {
      // Not JSON after all: the summary is the message.
    }
  }
  const first = message.split(/\r?\n/, 1)[0]?.trim() ?? '';
  return { ...(first ? { message: first } : {}), ...(providerType ? { providerType } : {}) };
}

function hostOf(source: SourceLocation | undefined, providerType: string | undefined): Host | undefined {
  if (!source?.repository) return undefined;
  if (source.provider === 'CodeCommit') return 'codecommit';
  if (source.provider === 'GitHub') return 'github';
  if (source.provider === 'CodeStarSourceConnection' && providerType) return CONNECTION_HOSTS[providerType];
  return undefined;
}

const hex = /^[0-9a-f]{7,64}$/i;

/** The commit's page at its host, or undefined when the host is not known. */
function commitUrl(host: Host | undefined, repository: string, revisionId: string, region: string): string | undefined {
  if (!host || !hex.test(revisionId)) return undefined;
  const repo = encodeRepository(repository);
  switch (host) {
    case 'github':
      return `https://github.com/${repo}/commit/${revisionId}`;
    case 'gitlab':
      return `https://gitlab.com/${repo}/-/commit/${revisionId}`;
    case 'bitbucket':
      return `https://bitbucket.org/${repo}/commits/${revisionId}`;
    case 'codecommit':
      return `https://${region}.console.aws.amazon.com/codesuite/codecommit/repositories/${repo}/commit/${revisionId}?region=${region}`;
  }
}

/** The page comparing `base` (production) with `head` (under review), or undefined when the host has none known. */
export function compareUrl(
  source: SourceLocation | undefined,
  providerType: string | undefined,
  base: string,
  head: string,
  region: string,
): string | undefined {
  const host = hostOf(source, providerType);
  if (!host || !source?.repository || !hex.test(base) || !hex.test(head)) return undefined;
  const repo = encodeRepository(source.repository);
  switch (host) {
    case 'github':
      return `https://github.com/${repo}/compare/${base}...${head}`;
    case 'gitlab':
      return `https://gitlab.com/${repo}/-/compare/${base}...${head}`;
    case 'bitbucket':
      // Bitbucket Cloud names the newer side first, the two separated by a carriage return.
      return `https://bitbucket.org/${repo}/branches/compare/${head}%0D${base}`;
    case 'codecommit':
      return `https://${region}.console.aws.amazon.com/codesuite/codecommit/repositories/${repo}/compare/${base}/.../${head}?region=${region}`;
  }
}

/** Each path segment encoded, the slash between owner and repository kept. */
const encodeRepository = (repository: string) => repository.split('/').map(encodeURIComponent).join('/');

/** A revision as the message shows it: message first line, and a link only to an https page. */
export function sourceRevision(raw: RawRevision, source: SourceLocation | undefined, region: string): SourceRevision {
  const { message, providerType } = readRevisionSummary(raw.revisionSummary);
  const own = raw.revisionUrl && /^https:\/\//.test(raw.revisionUrl) ? raw.revisionUrl : undefined;
  const url = own ?? commitUrl(hostOf(source, providerType), source?.repository ?? '', raw.revisionId, region);
  return { revisionId: raw.revisionId, ...(message ? { message } : {}), ...(url ? { url } : {}) };
}

/** An execution as far as counting revisions goes. */
export interface ExecutionMark {
  executionId: string;
  /** Epoch milliseconds. */
  startedAt: number;
  revisionId?: string;
}

/**
 * How many different source revisions the pipeline started executions for after production's and
 * up to the one under review (included), production's own revision not counted. `executions` is
 * newest first, as ListPipelineExecutions gives them: the order is CodePipeline's, not the start
 * times' (which may tie). Undefined when the list does not hold both, or the one under review is
 * the older.
 */
export function revisionsSince(
  executions: readonly ExecutionMark[],
  productionExecutionId: string,
  underReviewExecutionId: string,
): number | undefined {
  const production = executions.findIndex((execution) => execution.executionId === productionExecutionId);
  const underReview = executions.findIndex((execution) => execution.executionId === underReviewExecutionId);
  if (production < 0 || underReview < 0 || underReview > production) return undefined;
  const productionRevision = executions[production]?.revisionId;
  const between = new Set<string>();
  for (const execution of executions.slice(underReview, production)) {
    if (execution.revisionId === undefined) return undefined;
    if (execution.revisionId !== productionRevision) between.add(execution.revisionId);
  }
  return between.size;
}

/** `a1b2c3d`: a commit id as people say it; other revision ids (S3 versions, image digests) cut to 12. */
export const shortRevision = (revisionId: string): string =>
  hex.test(revisionId) ? revisionId.slice(0, 7) : revisionId.length > 12 ? `${revisionId.slice(0, 12)}…` : revisionId;
