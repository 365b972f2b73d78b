import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * One endpoint for the CodePipeline of several emulated accounts and regions, as AWS is one
 * endpoint per region for every account: the credentials a call is signed with decide the account
 * (an access key an STS emulator issued belongs to the role's account; any other key to
 * Greenlight's own), and the region of the SigV4 scope picks the region. The call is passed on, as
 * it came, to the emulator of that account and region. So a call made with the wrong role reaches
 * the wrong account, where the pipeline or its token is not found, exactly as on AWS.
 */
export interface AccountRouterOptions {
  /** Greenlight's own account: calls signed with credentials no STS here issued. */
  local: string;
  /** `account/region` → the emulator's URL. */
  places: ReadonlyMap<string, string>;
  /** The account an access key belongs to, when an STS emulator issued it. */
  accountOf: (accessKeyId: string) => string | undefined;
  /** Why the key's role session may not call `action` on `resource` (StsEmulator.denied); undefined: it may. */
  denied?: (accessKeyId: string, action: string, resource: string) => string | undefined;
  port?: number;
}

export interface AccountRouter {
  readonly url: string;
  close(): Promise<void>;
}

/** Headers of one connection, not of the call: fetch sets its own. */
const HOP_BY_HOP = new Set(['host', 'connection', 'keep-alive', 'transfer-encoding', 'content-length', 'expect']);

export async function startAccountRouter(options: AccountRouterOptions): Promise<AccountRouter> {
  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const scope = /Credential=([^/,\s]+)\/\d{8}\/([a-z0-9-]+)\//.exec(request.headers.authorization ?? '');
    const account = scope?.[1] ? options.accountOf(scope[1]) : undefined;
    const target = account ? options.places.get(`${account}/${scope?.[2]}`) : options.local;
    const body = await readBody(request);
    const denial =
      scope?.[1] && account && target
        ? deniedCall(options, scope[1], account, scope[2] ?? '', request, body)
        : undefined;
    if (denial) {
      // IAM refuses before the service looks: CodePipeline's AccessDeniedException, HTTP 400 (its
      // common errors), worded as AWS words it (captured in aws-samples/amazon-sagemaker-secure-mlops#5).
      response.writeHead(400, { 'Content-Type': 'application/x-amz-json-1.1' });
      response.end(JSON.stringify({ __type: 'AccessDeniedException', Message: denial }));
      return;
    }
    if (!target) {
      // An account and region with no emulator: nothing lives there.
      const payload = JSON.stringify({
        __type: 'PipelineNotFoundException',
        message: `No pipelines in account ${account} in ${scope?.[2]}`,
      });
      response.writeHead(400, { 'Content-Type': 'application/x-amz-json-1.1' });
      response.end(payload);
      return;
    }
    const headers = Object.fromEntries(
      Object.entries(request.headers).filter(
        (entry): entry is [string, string] => typeof entry[1] === 'string' && !HOP_BY_HOP.has(entry[0]),
      ),
    );
    const answer = await fetch(`${target}${request.url ?? '/'}`, { method: request.method ?? 'POST', headers, body });
    const text = await answer.text();
    response.writeHead(answer.status, {
      'Content-Type': answer.headers.get('content-type') ?? 'application/x-amz-json-1.1',
      'x-amzn-RequestId': answer.headers.get('x-amzn-requestid') ?? '',
    });
    response.end(text);
  };
  const server: Server = createServer((request, response) => {
    // An answer the emulator dropped (a lost answer it was told to lose) is dropped here too.
    handle(request, response).catch(() => response.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * The AccessDenied message for a call the caller's role session may not make, if any. The action is
 * `codepipeline:<Operation>` (from `X-Amz-Target`); the resource is the pipeline, or the action of a
 * stage for PutApprovalResult, which authorizes on `pipeline/stage/action`.
 */
function deniedCall(
  options: AccountRouterOptions,
  accessKeyId: string,
  account: string,
  region: string,
  request: IncomingMessage,
  body: string,
): string | undefined {
  if (!options.denied) return undefined;
  const operation = String(request.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
  let input: { pipelineName?: unknown; stageName?: unknown; actionName?: unknown; name?: unknown } = {};
  try {
    input = JSON.parse(body || '{}');
  } catch {
    // A body the emulator will refuse on its own.
  }
  const path = [input.pipelineName ?? input.name, input.stageName, input.actionName].filter(
    (part): part is string => typeof part === 'string',
  );
  return options.denied(
    accessKeyId,
    `codepipeline:${operation}`,
    `arn:aws:codepipeline:${region}:${account}:${path.join('/')}`,
  );
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
