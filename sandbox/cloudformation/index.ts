import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

/**
 * A CloudFormation emulator for what Greenlight reads: DescribeChangeSet, over CloudFormation's own
 * wire protocol (awsQuery: a form-encoded POST with `Action` and `Version=2010-05-15`, answered in
 * XML in the `http://cloudformation.amazonaws.com/doc/2010-05-15/` namespace, lists as `<member>`
 * elements, errors as `<ErrorResponse><Error><Type/><Code/><Message/></Error>`), so the real
 * `@aws-sdk/client-cloudformation` runs against it unchanged.
 *
 * Shapes and names follow the API reference (DescribeChangeSet, ResourceChange,
 * ResourceChangeDetail) and the SDK's model: `ChangeSetNotFound` is answered with HTTP 404 as the
 * model's awsQueryError says, a missing permission with `AccessDenied` and 403.
 */

export interface EmulatedChange {
  action: 'Add' | 'Modify' | 'Remove' | 'Import' | 'Dynamic';
  logicalId: string;
  type: string;
  physicalId?: string;
  /** Only for Modify (the API reference: "only for resources that are being modified"). */
  replacement?: 'True' | 'False' | 'Conditional';
  /** Changed properties (ResourceChangeDetail.Target with Attribute `Properties`). */
  properties?: Array<{ name: string; requiresRecreation?: 'Never' | 'Conditionally' | 'Always' }>;
  /** A nested stack's own change set (ResourceChange.ChangeSetId). */
  changeSetId?: string;
}

export interface EmulatedChangeSet {
  stackName: string;
  changeSetName: string;
  /** Default CREATE_COMPLETE. */
  status?: 'CREATE_PENDING' | 'CREATE_IN_PROGRESS' | 'CREATE_COMPLETE' | 'FAILED';
  statusReason?: string;
  changes: EmulatedChange[];
}

export interface CloudFormationCall {
  action: string;
  params: Record<string, string>;
  status: number;
  error?: string;
}

export interface CloudFormationEmulator {
  readonly url: string;
  readonly region: string;
  readonly accountId: string;
  /** Creates (or replaces) a change set, as CreateChangeSet would once done; returns its ARN. */
  putChangeSet(changeSet: EmulatedChangeSet): string;
  deleteChangeSet(stackName: string, changeSetName: string): void;
  /** Every call answers AccessDenied while on (a role without cloudformation:DescribeChangeSet). */
  denyAccess(denied: boolean): void;
  calls(action?: string): CloudFormationCall[];
  close(): Promise<void>;
}

/** How many changes one DescribeChangeSet page carries; more come with a NextToken. */
export const CHANGES_PER_PAGE = 100;

const NAMESPACE = 'http://cloudformation.amazonaws.com/doc/2010-05-15/';

interface Stored extends EmulatedChangeSet {
  arn: string;
  stackId: string;
  created: Date;
}

class QueryError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly type: 'Sender' | 'Receiver' = 'Sender',
  ) {
    super(message);
  }
}

export async function startCloudFormationEmulator(
  options: { region?: string; accountId?: string; port?: number; now?: () => Date } = {},
): Promise<CloudFormationEmulator> {
  const region = options.region ?? 'us-east-2';
  const accountId = options.accountId ?? '123456789012';
  const now = options.now ?? (() => new Date());
  const changeSets = new Map<string, Stored>();
  const stackIds = new Map<string, string>();
  const calls: CloudFormationCall[] = [];
  let denied = false;

  const key = (stackName: string, changeSetName: string) => `${stackName}\u0000${changeSetName}`;

  const find = (params: Record<string, string>): Stored => {
    const name = params.ChangeSetName;
    if (!name) throw new QueryError('ValidationError', 400, '1 validation error detected: ChangeSetName is required');
    if (name.startsWith('arn:')) {
      const byArn = [...changeSets.values()].find((candidate) => candidate.arn === name);
      if (byArn) return byArn;
    } else {
      if (!params.StackName)
        throw new QueryError(
          'ValidationError',
          400,
          'StackName must be specified if ChangeSetName is not specified as an ARN.',
        );
      const stack = params.StackName.startsWith('arn:')
        ? [...stackIds.entries()].find(([, id]) => id === params.StackName)?.[0]
        : params.StackName;
      const found = stack === undefined ? undefined : changeSets.get(key(stack, name));
      if (found) return found;
    }
    throw new QueryError('ChangeSetNotFound', 404, `ChangeSet [${name}] does not exist`);
  };

  const describe = (params: Record<string, string>): string => {
    const changeSet = find(params);
    const start = params.NextToken ? readToken(params.NextToken, changeSet.arn) : 0;
    const page = changeSet.changes.slice(start, start + CHANGES_PER_PAGE);
    const next =
      start + CHANGES_PER_PAGE < changeSet.changes.length
        ? pageToken(changeSet.arn, start + CHANGES_PER_PAGE)
        : undefined;
    const status = changeSet.status ?? 'CREATE_COMPLETE';
    return [
      el('ChangeSetName', changeSet.changeSetName),
      el('ChangeSetId', changeSet.arn),
      el('StackId', changeSet.stackId),
      el('StackName', changeSet.stackName),
      el('CreationTime', changeSet.created.toISOString()),
      el('ExecutionStatus', status === 'CREATE_COMPLETE' ? 'AVAILABLE' : 'UNAVAILABLE'),
      el('Status', status),
      changeSet.statusReason ? el('StatusReason', changeSet.statusReason) : '',
      '<NotificationARNs/>',
      '<Capabilities/>',
      '<Parameters/>',
      '<Tags/>',
      `<Changes>${page.map(changeXml).join('')}</Changes>`,
      el('IncludeNestedStacks', String(changeSet.changes.some((change) => change.changeSetId))),
      next ? el('NextToken', next) : '',
    ].join('');
  };

  const server = createServer((request, response) => {
    handle(request, response).catch(() => {
      if (!response.headersSent) response.writeHead(500);
      response.end();
    });
  });

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const params = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
    const action = params.Action ?? '';
    const requestId = randomUUID();
    try {
      if (
        request.method !== 'POST' ||
        !String(request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')
      )
        throw new QueryError('InvalidAction', 400, 'Only form-encoded POST requests are served');
      if (!/^AWS4-HMAC-SHA256 Credential=/.test(String(request.headers.authorization ?? '')))
        throw new QueryError('MissingAuthenticationToken', 403, 'Request is missing Authentication Token');
      if (params.Version !== '2010-05-15')
        throw new QueryError('InvalidAction', 400, `Could not find operation ${action} for version ${params.Version}`);
      if (action !== 'DescribeChangeSet')
        throw new QueryError('InvalidAction', 400, `The emulator serves DescribeChangeSet only, not ${action}`);
      if (denied)
        throw new QueryError(
          'AccessDenied',
          403,
          `User: arn:aws:sts::${accountId}:assumed-role/greenlight/session is not authorized to perform: cloudformation:DescribeChangeSet`,
        );
      const result = describe(params);
      calls.push({ action, params, status: 200 });
      send(
        response,
        200,
        `<${action}Response xmlns="${NAMESPACE}"><${action}Result>${result}</${action}Result><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`,
        requestId,
      );
    } catch (error) {
      if (!(error instanceof QueryError)) throw error;
      calls.push({ action, params, status: error.status, error: error.code });
      send(
        response,
        error.status,
        `<ErrorResponse xmlns="${NAMESPACE}"><Error><Type>${error.type}</Type><Code>${error.code}</Code><Message>${escapeXml(error.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
        requestId,
      );
    }
  };

  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', () => resolve()));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  return {
    url: `http://127.0.0.1:${port}`,
    region,
    accountId,
    putChangeSet(changeSet) {
      const stackId =
        stackIds.get(changeSet.stackName) ??
        `arn:aws:cloudformation:${region}:${accountId}:stack/${changeSet.stackName}/${randomUUID()}`;
      stackIds.set(changeSet.stackName, stackId);
      const arn = `arn:aws:cloudformation:${region}:${accountId}:changeSet/${changeSet.changeSetName}/${randomUUID()}`;
      changeSets.set(key(changeSet.stackName, changeSet.changeSetName), {
        ...structuredClone(changeSet),
        arn,
        stackId,
        created: now(),
      });
      return arn;
    },
    deleteChangeSet(stackName, changeSetName) {
      changeSets.delete(key(stackName, changeSetName));
    },
    denyAccess(value) {
      denied = value;
    },
    calls: (action) => calls.filter((call) => action === undefined || call.action === action),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function send(response: ServerResponse, status: number, body: string, requestId: string): void {
  response.writeHead(status, {
    'content-type': 'text/xml',
    'x-amzn-requestid': requestId,
    'content-length': Buffer.byteLength(body),
  });
  response.end(body);
}

/** One `<Changes>` member: a Change of Type `Resource` with its ResourceChange. */
function changeXml(change: EmulatedChange): string {
  const details = (change.properties ?? [])
    .map(
      (property) =>
        `<member><Target><Attribute>Properties</Attribute><Name>${escapeXml(property.name)}</Name>${
          property.requiresRecreation ? el('RequiresRecreation', property.requiresRecreation) : ''
        }</Target><Evaluation>Static</Evaluation><ChangeSource>DirectModification</ChangeSource></member>`,
    )
    .join('');
  const modify = change.action === 'Modify';
  return [
    '<member><Type>Resource</Type><ResourceChange>',
    el('Action', change.action),
    el('LogicalResourceId', change.logicalId),
    change.physicalId ? el('PhysicalResourceId', change.physicalId) : '',
    el('ResourceType', change.type),
    modify ? el('Replacement', change.replacement ?? 'False') : '',
    modify ? `<Scope>${(change.properties?.length ?? 0) > 0 ? '<member>Properties</member>' : ''}</Scope>` : '<Scope/>',
    `<Details>${details}</Details>`,
    change.changeSetId ? el('ChangeSetId', change.changeSetId) : '',
    '</ResourceChange></member>',
  ].join('');
}

const el = (name: string, value: string) => `<${name}>${escapeXml(value)}</${name}>`;

const escapeXml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** NextToken is opaque: the change set it belongs to and where the next page starts. */
const pageToken = (arn: string, start: number) => Buffer.from(JSON.stringify({ arn, start })).toString('base64url');

function readToken(token: string, arn: string): number {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { arn?: unknown; start?: unknown };
    if (parsed.arn === arn && typeof parsed.start === 'number') return parsed.start;
  } catch {
    // Falls through to the error below.
  }
  throw new QueryError('ValidationError', 400, 'Invalid NextToken');
}
