import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A small AWS STS on loopback that speaks STS's own protocol, so the real `@aws-sdk/client-sts`
 * path runs against it: awsQuery, a form-encoded `POST /` (`Action=AssumeRole&Version=2011-06-15&
 * RoleArn=…&RoleSessionName=…&ExternalId=…&DurationSeconds=…`), answered in XML under
 * `AssumeRoleResponse/AssumeRoleResult` and, for an error, `ErrorResponse/Error/{Type,Code,Message}`
 * (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html; the SDK's STS model
 * names the elements). It serves AssumeRole only: roles are given to it with the external id their
 * trust policy asks for, and a caller who gives another id, or names a role it does not know, gets
 * AccessDenied (403) as from AWS, as does a role session name the role's trust policy does not
 * allow. Each set of credentials it issues is remembered with its account and session, so the
 * emulated CodePipeline of that account can tell which role is calling, and refuse the actions its
 * permissions keep to another session (`denied`).
 */

const NAMESPACE = 'https://sts.amazonaws.com/doc/2011-06-15/';
const ROLE_ARN = /^arn:aws[a-z-]*:iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]+)$/;

export interface StsRole {
  roleArn: string;
  /** The `sts:ExternalId` the role's trust policy requires; unset: none is required. */
  externalId?: string;
  /** The role session names its trust policy allows (`sts:RoleSessionName`); unset: any. */
  sessionNames?: readonly string[];
  /**
   * Actions (`codepipeline:PutApprovalResult`) its permissions allow to one role session name only,
   * as an `aws:userid` condition (`<role id>:<session name>`) does; other sessions are denied them.
   */
  onlySession?: Readonly<Record<string, string>>;
}

export interface StsCall {
  action: string;
  roleArn?: string;
  sessionName?: string;
  /** The caller's access key id (from the SigV4 Authorization header). */
  caller: string;
  ok: boolean;
  error?: string;
}

export interface IssuedCredentials {
  accessKeyId: string;
  account: string;
  roleArn: string;
  sessionName: string;
  expiration: Date;
}

export interface StsEmulatorOptions {
  port?: number;
  roles?: StsRole[];
  clock?: () => Date;
}

export interface StsEmulator {
  /** `http://127.0.0.1:<port>`: `AWS_ENDPOINT_URL_STS`. */
  readonly url: string;
  /** Adds (or replaces) a role; `remove` makes it unassumable, as a deleted role is. */
  putRole(role: StsRole): void;
  removeRole(roleArn: string): void;
  /** The credentials issued for an access key id, if this STS issued it. */
  issued(accessKeyId: string): IssuedCredentials | undefined;
  /**
   * Why the role session of `accessKeyId` may not call `action` (`service:Operation`), in the words
   * of AWS's AccessDenied message; undefined when it may, or when this STS did not issue the key.
   */
  denied(accessKeyId: string, action: string, resource: string): string | undefined;
  calls(action?: string): StsCall[];
  /** Delay before each answer from now on (a slow or hung STS); 0 for none. */
  setLatency(ms: number): void;
  close(): Promise<void>;
}

export async function startStsEmulator(options: StsEmulatorOptions = {}): Promise<StsEmulator> {
  const clock = options.clock ?? (() => new Date());
  const roles = new Map((options.roles ?? []).map((role) => [role.roleArn, role]));
  const issued = new Map<string, IssuedCredentials>();
  const calls: StsCall[] = [];
  let latencyMs = 0;

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const body = new URLSearchParams(await readBody(request));
    if (latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs));
    const caller = /Credential=([^/,\s]+)\//.exec(request.headers.authorization ?? '')?.[1] ?? 'anonymous';
    const action = body.get('Action') ?? '';
    if (request.method !== 'POST' || body.get('Version') !== '2011-06-15' || action !== 'AssumeRole') {
      calls.push({ action, caller, ok: false, error: 'InvalidAction' });
      return sendError(response, 400, 'InvalidAction', `The action ${action} is not valid for this endpoint.`);
    }
    const roleArn = body.get('RoleArn') ?? '';
    const sessionName = body.get('RoleSessionName') ?? '';
    const refuse = (status: number, code: string, message: string) => {
      calls.push({ action, roleArn, sessionName, caller, ok: false, error: code });
      sendError(response, status, code, message);
    };
    const arn = ROLE_ARN.exec(roleArn);
    if (!arn || !/^[\w+=,.@-]{2,64}$/.test(sessionName))
      return refuse(400, 'ValidationError', 'RoleArn or RoleSessionName is not valid');
    const role = roles.get(roleArn);
    const externalId = body.get('ExternalId') ?? undefined;
    if (
      !role ||
      (role.externalId !== undefined && role.externalId !== externalId) ||
      (role.sessionNames !== undefined && !role.sessionNames.includes(sessionName))
    )
      return refuse(
        403,
        'AccessDenied',
        `User: arn:aws:iam::000000000000:user/${caller} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
      );
    const duration = Number(body.get('DurationSeconds') ?? 3600);
    if (!Number.isInteger(duration) || duration < 900 || duration > 43_200)
      return refuse(400, 'ValidationError', 'DurationSeconds must be between 900 and 43200');
    const [, account = '', roleName = ''] = arn;
    const accessKeyId = `ASIA${randomBytes(8).toString('hex').toUpperCase()}`;
    const expiration = new Date(clock().getTime() + duration * 1000);
    issued.set(accessKeyId, { accessKeyId, account, roleArn, sessionName, expiration });
    calls.push({ action, roleArn, sessionName, caller, ok: true });
    const roleId = `AROA${randomBytes(8).toString('hex').toUpperCase()}`;
    send(
      response,
      200,
      `<AssumeRoleResponse xmlns="${NAMESPACE}">
  <AssumeRoleResult>
    <Credentials>
      <AccessKeyId>${accessKeyId}</AccessKeyId>
      <SecretAccessKey>${randomBytes(30).toString('base64')}</SecretAccessKey>
      <SessionToken>${randomBytes(96).toString('base64')}</SessionToken>
      <Expiration>${expiration.toISOString()}</Expiration>
    </Credentials>
    <AssumedRoleUser>
      <AssumedRoleId>${roleId}:${escapeXml(sessionName)}</AssumedRoleId>
      <Arn>arn:aws:sts::${account}:assumed-role/${escapeXml(roleName)}/${escapeXml(sessionName)}</Arn>
    </AssumedRoleUser>
  </AssumeRoleResult>
  <ResponseMetadata>
    <RequestId>${randomUUID()}</RequestId>
  </ResponseMetadata>
</AssumeRoleResponse>`,
    );
  };

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) sendError(response, 500, 'InternalFailure', String(error));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    putRole: (role) => roles.set(role.roleArn, role),
    removeRole: (roleArn) => roles.delete(roleArn),
    issued: (accessKeyId) => issued.get(accessKeyId),
    denied: (accessKeyId, action, resource) => {
      const session = issued.get(accessKeyId);
      const only = session && roles.get(session.roleArn)?.onlySession?.[action];
      if (!session || only === undefined || only === session.sessionName) return undefined;
      const roleName = session.roleArn.split('/').at(-1);
      return `User: arn:aws:sts::${session.account}:assumed-role/${roleName}/${session.sessionName} is not authorized to perform: ${action} on resource: ${resource} because no identity-based policy allows the ${action} action`;
    },
    calls: (action) => calls.filter((call) => action === undefined || call.action === action),
    setLatency: (ms) => {
      latencyMs = ms;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function sendError(response: ServerResponse, status: number, code: string, message: string): void {
  // Type `Sender` for the caller's mistakes, `Receiver` for the service's own, as AWS answers.
  const type = status >= 500 ? 'Receiver' : 'Sender';
  send(
    response,
    status,
    `<ErrorResponse xmlns="${NAMESPACE}">
  <Error>
    <Type>${type}</Type>
    <Code>${code}</Code>
    <Message>${escapeXml(message)}</Message>
  </Error>
  <RequestId>${randomUUID()}</RequestId>
</ErrorResponse>`,
  );
}

function send(response: ServerResponse, status: number, xml: string): void {
  response.writeHead(status, {
    'Content-Type': 'text/xml',
    'Content-Length': Buffer.byteLength(xml),
    'x-amzn-RequestId': randomUUID(),
  });
  response.end(xml);
}

const escapeXml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
