import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CodePipelineClient, ListPipelinesCommand } from '@aws-sdk/client-codepipeline';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { cannotListPipelines } from '../../sandbox/real.ts';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };

let server: Server | undefined;
// Never the developer's own AWS settings: no ~/.aws files, no profile.
beforeEach(() => {
  vi.stubEnv('AWS_PROFILE', 'greenlight-test-no-such-profile');
  vi.stubEnv('AWS_CONFIG_FILE', '/nonexistent/config');
  vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', '/nonexistent/credentials');
});
afterEach(async () => {
  vi.unstubAllEnvs();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
});

/** What ListPipelines throws through the real SDK, for the message `npm start` prints with it. */
async function whyNot(client: CodePipelineClient): Promise<string> {
  const error = await client.send(new ListPipelinesCommand({})).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeDefined();
  return cannotListPipelines('eu-west-1', error);
}

describe('real mode: why it cannot start', () => {
  it('blames the network, not the credentials, when CodePipeline cannot be reached', async () => {
    // Prepare: a port nobody listens on
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const client = new CodePipelineClient({
      region: 'eu-west-1',
      endpoint: `http://127.0.0.1:${port}`,
      credentials,
      maxAttempts: 1,
    });
    // Act
    const message = await whyNot(client);
    // Assess
    expect(message).toMatch(/^cannot reach CodePipeline in eu-west-1 \(.*ECONNREFUSED/);
    expect(message).toContain('AWS_REGION names a region');
    expect(message).not.toContain('credentials');
  });

  it('asks for credentials when none can be found', async () => {
    // Prepare: no profile, no keys, no instance metadata
    vi.stubEnv('AWS_ACCESS_KEY_ID', '');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', '');
    vi.stubEnv('AWS_SESSION_TOKEN', '');
    vi.stubEnv('AWS_WEB_IDENTITY_TOKEN_FILE', '');
    vi.stubEnv('AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', '');
    vi.stubEnv('AWS_CONTAINER_CREDENTIALS_FULL_URI', '');
    vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true');
    const client = new CodePipelineClient({ region: 'eu-west-1', endpoint: 'http://127.0.0.1:9', maxAttempts: 1 });
    // Act
    const message = await whyNot(client);
    // Assess
    expect(message).toMatch(/^no usable AWS credentials for CodePipeline in eu-west-1 \(CredentialsProviderError/);
    expect(message).toContain('AWS_PROFILE');
  });

  it('names the permissions when AWS refuses the identity', async () => {
    // Prepare: CodePipeline's answer to an identity without codepipeline:ListPipelines, in the
    // AWS JSON 1.1 protocol (the error type in `__type`, as the service's API model declares it)
    server = createServer((request, response) => {
      request.resume();
      response.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' }).end(
        JSON.stringify({
          __type: 'AccessDeniedException',
          message: 'User: arn:aws:iam::111111111111:user/dev is not authorized to perform: codepipeline:ListPipelines',
        }),
      );
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const client = new CodePipelineClient({
      region: 'eu-west-1',
      endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      credentials,
      maxAttempts: 1,
    });
    // Act
    const message = await whyNot(client);
    // Assess
    expect(message).toMatch(
      /^your AWS identity may not list CodePipeline pipelines in eu-west-1 \(AccessDeniedException/,
    );
    expect(message).toContain('codepipeline:ListPipelines, GetPipeline, GetPipelineState and PutApprovalResult');
  });

  it('names the host that did not resolve, and the China regions in their own domain', () => {
    // Prepare: what Node's resolver throws for a host that does not exist (code, syscall and
    // hostname, as Node's dns documentation gives them); no lookup leaves this machine
    const notFound = (hostname: string) =>
      Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), {
        code: 'ENOTFOUND',
        syscall: 'getaddrinfo',
        hostname,
      });
    // Act
    const fips = cannotListPipelines('us-east-1', notFound('codepipeline-fips.us-east-1.amazonaws.com'));
    const proxy = cannotListPipelines('eu-west-1', notFound('proxy.corp.example'));
    const china = cannotListPipelines('cn-north-1', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    // Assess
    expect(fips).toContain('AWS_REGION names a region: codepipeline-fips.us-east-1.amazonaws.com must resolve');
    expect(proxy).toContain('Check the network (a proxy?): proxy.corp.example must resolve.');
    expect(proxy).not.toContain('AWS_REGION');
    expect(china).toContain('codepipeline.cn-north-1.amazonaws.com.cn must resolve');
  });
});
