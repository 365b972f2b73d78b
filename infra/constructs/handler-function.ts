import { createRequire } from 'node:module';
import { relative, sep } from 'node:path';
import { type Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import { type IRole, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { ApplicationLogLevel, Architecture, type Code, LoggingFormat, Runtime } from 'aws-cdk-lib/aws-lambda';
import { type BundlingOptions, LogLevel, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { REPO_ROOT, repoPath } from '../paths.ts';

/** The Lambda entry points, `handlers/<name>.ts` (docs/architecture.md, "Contracts"). */
export const HANDLER_NAMES = [
  'approval-notification',
  'slack-events',
  'release-worker',
  'release-action',
  'daily-digest',
  'pipeline-events',
] as const;
export type HandlerName = (typeof HANDLER_NAMES)[number];

export const handlerEntry = (name: HandlerName): string => repoPath('handlers', `${name}.ts`);

/**
 * How big each handler's bundle may be, in bytes: the code a cold start loads and parses. slack-events
 * carries Bolt and answers within Slack's 3 s; the others carry the SDK clients of their way in only
 * (app/deps.ts). test/infra/handler-bundles.test.ts holds the bundles to it; `npm run bench bundles`
 * shows it beside the measured sizes.
 */
export const BUNDLE_BUDGET_BYTES: Readonly<Record<HandlerName, number>> = {
  'approval-notification': 0.9 * 1024 * 1024,
  'slack-events': 1024 * 1024,
  'release-worker': 0.9 * 1024 * 1024,
  'release-action': 0.9 * 1024 * 1024,
  'daily-digest': 0.9 * 1024 * 1024,
  'pipeline-events': 0.9 * 1024 * 1024,
};

/** cdk-nag AwsSolutions-L1 asks for the newest Node.js runtime this aws-cdk-lib knows. */
export const HANDLER_RUNTIME = Runtime.NODEJS_24_X;

/**
 * esbuild options for every handler: one ESM file per function, minified, with source maps.
 * The AWS SDK is bundled too, so Lambda runs the exact SDK version the tests ran. The one
 * external, dynalite (the embedded DynamoDB, with a native module), is reached only through a
 * dynamic import the app makes when no table is configured: esbuild hoists a static import of an
 * external to the top of an ESM bundle, where the missing package would fail at load time.
 */
/**
 * Packages of @slack/bolt that only its other receivers use, replaced by a stub in the bundles:
 * they would double the slack-events bundle and its cold start (see the stub's comment).
 */
export const UNUSED_BOLT_PACKAGES = ['@slack/socket-mode', '@slack/oauth', 'express', 'raw-body'] as const;
export const UNUSED_PACKAGE_STUB = repoPath('infra', 'bundling', 'unused-receiver.cjs');

export const HANDLER_BUNDLING: BundlingOptions = {
  forceDockerBundling: false,
  format: OutputFormat.ESM,
  target: 'node24',
  mainFields: ['module', 'main'],
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  // esbuild's warnings and errors only, not its table of output sizes on every synth: the sizes are
  // held to BUNDLE_BUDGET_BYTES by test/infra/handler-bundles.test.ts and shown by `npm run bench bundles`.
  logLevel: LogLevel.WARNING,
  bundleAwsSDK: true,
  // The embedded DynamoDB for local runs; Lambda uses the real one and never loads it.
  externalModules: ['dynalite'],
  esbuildArgs: Object.fromEntries(UNUSED_BOLT_PACKAGES.map((name) => [`--alias:${name}`, UNUSED_PACKAGE_STUB])),
  // ESM has no `require`; CommonJS dependencies bundled into the ESM file still call it.
  banner:
    "import { createRequire as topLevelCreateRequire } from 'node:module';const require = topLevelCreateRequire(import.meta.url);",
};

/**
 * Files a handler reads at run time, shipped beside its `index.mjs`: file name in the bundle → the
 * package file it is copied from. The digest's chart renderer (app/adapters/png-renderer.ts, which
 * looks for these names beside itself) needs resvg compiled to WebAssembly and the chart's font;
 * esbuild bundles only JavaScript. Only the digest renders, so only its bundle carries them (2.7 MB
 * beside the JavaScript, which stays within its budget). test/infra/daily-digest-bundle.test.ts renders a
 * chart through the bundle, which holds these names and the renderer's together.
 */
export const BUNDLE_ASSETS: Readonly<Partial<Record<HandlerName, Readonly<Record<string, string>>>>> = {
  'daily-digest': {
    'resvg.wasm': '@resvg/resvg-wasm/index_bg.wasm',
    'Roboto-Regular.ttf': '@expo-google-fonts/roboto/400Regular/Roboto_400Regular.ttf',
    'Roboto-Bold.ttf': '@expo-google-fonts/roboto/700Bold/Roboto_700Bold.ttf',
  },
};

/**
 * The bundling of one handler: HANDLER_BUNDLING, and a command after esbuild that copies the
 * handler's BUNDLE_ASSETS into the bundle. The command is one `node -e`, which bash, cmd and the
 * bundling image's shell all run alike; paths are relative to the project root, which is
 * `inputDir` both locally and in Docker.
 */
export function handlerBundling(name: HandlerName): BundlingOptions {
  const assets = Object.entries(BUNDLE_ASSETS[name] ?? {});
  if (assets.length === 0) return HANDLER_BUNDLING;
  const resolve = createRequire(repoPath('package.json')).resolve;
  const inProject = (file: string) => relative(REPO_ROOT, resolve(file)).split(sep).join('/');
  const copy =
    "for (let i = 1; i < process.argv.length; i += 2) require('fs').copyFileSync(process.argv[i], process.argv[i + 1])";
  return {
    ...HANDLER_BUNDLING,
    commandHooks: {
      beforeBundling: () => [],
      beforeInstall: () => [],
      afterBundling: (inputDir, outputDir) => [
        [
          'node',
          '-e',
          `"${copy}"`,
          ...assets.flatMap(([beside, file]) => [`"${inputDir}/${inProject(file)}"`, `"${outputDir}/${beside}"`]),
        ].join(' '),
      ],
    },
  };
}

export interface HandlerFunctionProps {
  readonly name: HandlerName;
  readonly description: string;
  readonly memorySize: number;
  readonly timeout: Duration;
  readonly environment: Readonly<Record<string, string>>;
  readonly logRetention: RetentionDays;
  /** Replaces the esbuild bundle (tests synthesize without bundling). */
  readonly code?: Code;
  /** Where failed asynchronous invocations go after Lambda's own retries. */
  readonly deadLetterQueue?: IQueue;
  /**
   * The lowest level of the function's own log lines that Lambda keeps. With the JSON log format
   * Lambda drops lines below it (INFO unless told), whatever the app's logger writes.
   */
  readonly applicationLogLevel?: ApplicationLogLevel;
}

/**
 * One Lambda function for one handler, with its own role (no managed policies) and its own
 * log group with a retention period.
 */
export class HandlerFunction extends Construct {
  readonly fn: NodejsFunction;
  readonly role: IRole;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: HandlerFunctionProps) {
    super(scope, id);
    this.logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention,
      // Logs are operational; the audit trail lives in the (retained) approvals table.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Greenlight ${props.name} handler`,
    });
    // Instead of AWSLambdaBasicExecutionRole (any log group): write to this function's group only.
    this.logGroup.grantWrite(role);
    this.role = role;

    const environment = { ...props.environment, NODE_OPTIONS: '--enable-source-maps' };
    const environmentProblem = oversizedEnvironment(environment);
    if (environmentProblem) throw new Error(environmentProblem);
    this.fn = new NodejsFunction(this, 'Function', {
      description: props.description,
      runtime: HANDLER_RUNTIME,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      role,
      logGroup: this.logGroup,
      loggingFormat: LoggingFormat.JSON,
      applicationLogLevelV2: props.applicationLogLevel ?? ApplicationLogLevel.INFO,
      environment,
      ...(props.deadLetterQueue ? { deadLetterQueue: props.deadLetterQueue } : {}),
      ...(props.code
        ? { code: props.code, handler: 'index.handler' }
        : {
            entry: handlerEntry(props.name),
            handler: 'handler',
            projectRoot: REPO_ROOT,
            depsLockFilePath: repoPath('package-lock.json'),
            bundling: handlerBundling(props.name),
          }),
    });
  }
}

/**
 * Lambda takes at most 4 KB of environment variables per function, names and values together
 * (Lambda quotas); a bigger one fails the deploy with a bare "exceeds the maximum size". Said at
 * synthesis instead, naming what to shorten. Measured as JSON, quotes and escapes included (a
 * margin: how Lambda counts is not documented to the byte); a value known only at deployment (an
 * ARN, a queue URL) counts as this many characters.
 */
const LAMBDA_ENVIRONMENT_BYTES = 4_096;
const DEPLOY_TIME_VALUE_BYTES = 128;

/** Why `environment` is too big for Lambda, in plain words; undefined when it fits. */
function oversizedEnvironment(environment: Readonly<Record<string, string>>): string | undefined {
  const measured = Object.fromEntries(
    Object.entries(environment).map(([name, value]) => [
      name,
      Token.isUnresolved(value) ? 'x'.repeat(DEPLOY_TIME_VALUE_BYTES) : value,
    ]),
  );
  const bytes = Buffer.byteLength(JSON.stringify(measured));
  if (bytes <= LAMBDA_ENVIRONMENT_BYTES) return undefined;
  const products = Buffer.byteLength(environment.PRODUCTS ?? '');
  return `The handlers' environment would be about ${bytes} bytes, over the ${LAMBDA_ENVIRONMENT_BYTES} bytes Lambda allows; PRODUCTS is ${products} of them. Shorten the products: rely on the conventions (README.md, "Configuration"), name user groups rather than many people as approvers, or drop settings that repeat a default.`;
}
