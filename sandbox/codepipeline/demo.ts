import type { ActionDeclaration, PipelineDeclaration, StageDeclaration } from '@aws-sdk/client-codepipeline';

export interface PipelineDefinitionOptions {
  region?: string;
  accountId?: string;
  /** SNS topic the approval actions publish to; CodePipeline sends no notification without one. */
  notificationArn?: string;
  /** Manual approval timeout (CodePipeline's default: 7 days). */
  approvalTimeoutInMinutes?: number;
  /** Approval `CustomData`: a text, `null` for none, or per-stage wording by default. */
  customData?: string | null;
  /** Approval `ExternalEntityLink`: a URL, `null` for none, or a per-stage environment URL by default. */
  externalEntityLink?: string | null;
  /**
   * StagingPROD as the manual gate before a CloudFormation change set, as CDK Pipelines builds it (docs/what-am-i-approving.md):
   * "Prepare" (CHANGE_SET_REPLACE) → "Approve" → "Deploy" (CHANGE_SET_EXECUTE) on stack `<name>-prod`.
   */
  changeSetGate?: boolean;
}

/** The stack and change set a `changeSetGate` pipeline's StagingPROD prepares and executes. */
export const changeSetOf = (pipelineName: string) => ({
  stackName: `${pipelineName}-prod`,
  changeSetName: `${pipelineName}-prod-changes`,
});

/** The service pipelines of the demo products (docs/concepts.md: `<product>-<service>`). */
export const DEMO_PRODUCTS: Readonly<Record<string, readonly string[]>> = {
  shop: ['cart', 'catalog', 'payments'],
  blog: ['web', 'api'],
};

const ARTIFACT = 'SourceArtifact';

/**
 * A service pipeline shaped as docs/concepts.md describes: Source → Build → StagingDEV (Deploy, Test, Approve) →
 * StagingQA (Deploy, Test, Approve) → StagingPROD (Deploy), in SUPERSEDED mode.
 */
export function pipelineDefinition(name: string, options: PipelineDefinitionOptions = {}): PipelineDeclaration {
  const region = options.region ?? 'us-east-2';
  const accountId = options.accountId ?? '123456789012';
  const notificationArn = options.notificationArn ?? `arn:aws:sns:${region}:${accountId}:greenlight-approvals`;

  /** `before`: the gate comes before the env's deploy (a change set), not after its tests. */
  const approve = (environment: string, before = false): ActionDeclaration => {
    const ask = before
      ? `Review the change set for ${name} in ${environment.toUpperCase()}, then approve to deploy it or reject, within seven days.`
      : `Test ${name} in ${environment.toUpperCase()}, then approve or reject within seven days.`;
    const customData = options.customData === undefined ? ask : options.customData;
    const link =
      options.externalEntityLink === undefined
        ? `https://${name}.${environment}.example.com`
        : options.externalEntityLink;
    return {
      name: 'Approve',
      actionTypeId: { category: 'Approval', owner: 'AWS', provider: 'Manual', version: '1' },
      runOrder: 3,
      configuration: {
        NotificationArn: notificationArn,
        ...(customData === null ? {} : { CustomData: customData }),
        ...(link === null ? {} : { ExternalEntityLink: link }),
      },
      ...(options.approvalTimeoutInMinutes === undefined ? {} : { timeoutInMinutes: options.approvalTimeoutInMinutes }),
    };
  };

  const deploy = (environment: string): ActionDeclaration => ({
    name: 'Deploy',
    actionTypeId: { category: 'Deploy', owner: 'AWS', provider: 'CloudFormation', version: '1' },
    runOrder: 1,
    configuration: {
      ActionMode: 'CREATE_UPDATE',
      StackName: `${name}-${environment}`,
      TemplatePath: `${ARTIFACT}::template.yml`,
    },
    inputArtifacts: [{ name: ARTIFACT }],
  });

  const test = (environment: string): ActionDeclaration => ({
    name: 'Test',
    actionTypeId: { category: 'Test', owner: 'AWS', provider: 'CodeBuild', version: '1' },
    runOrder: 2,
    configuration: { ProjectName: `${name}-test-${environment}` },
    inputArtifacts: [{ name: ARTIFACT }],
  });

  const staging = (stageName: string, environment: string): StageDeclaration => ({
    name: stageName,
    actions: [deploy(environment), test(environment), approve(environment)],
  });

  return {
    name,
    roleArn: `arn:aws:iam::${accountId}:role/${name}-pipeline`,
    artifactStore: { type: 'S3', location: `codepipeline-${region}-${accountId}` },
    executionMode: 'SUPERSEDED',
    pipelineType: 'V2',
    stages: [
      {
        name: 'Source',
        actions: [
          {
            name: 'Source',
            actionTypeId: { category: 'Source', owner: 'AWS', provider: 'CodeStarSourceConnection', version: '1' },
            runOrder: 1,
            configuration: {
              ConnectionArn: `arn:aws:codeconnections:${region}:${accountId}:connection/emulated`,
              FullRepositoryId: `example/${name}`,
              BranchName: 'main',
            },
            outputArtifacts: [{ name: ARTIFACT }],
          },
        ],
      },
      {
        name: 'Build',
        actions: [
          {
            name: 'Build',
            actionTypeId: { category: 'Build', owner: 'AWS', provider: 'CodeBuild', version: '1' },
            runOrder: 1,
            configuration: { ProjectName: `${name}-build` },
            inputArtifacts: [{ name: ARTIFACT }],
          },
        ],
      },
      staging('StagingDEV', 'dev'),
      staging('StagingQA', 'qa'),
      options.changeSetGate
        ? { name: 'StagingPROD', actions: [...changeSetActions(name), { ...approve('prod', true), runOrder: 2 }] }
        : { name: 'StagingPROD', actions: [deploy('prod')] },
    ],
  };
}

/** Prepare and Deploy of a change-set gate: the CloudFormation action's two change-set modes (action reference). */
function changeSetActions(name: string): ActionDeclaration[] {
  const { stackName, changeSetName } = changeSetOf(name);
  const cloudFormation = { category: 'Deploy', owner: 'AWS', provider: 'CloudFormation', version: '1' } as const;
  return [
    {
      name: 'Prepare',
      actionTypeId: cloudFormation,
      runOrder: 1,
      configuration: {
        ActionMode: 'CHANGE_SET_REPLACE',
        StackName: stackName,
        ChangeSetName: changeSetName,
        TemplatePath: `${ARTIFACT}::template.yml`,
        Capabilities: 'CAPABILITY_NAMED_IAM',
      },
      inputArtifacts: [{ name: ARTIFACT }],
    },
    {
      name: 'Deploy',
      actionTypeId: cloudFormation,
      runOrder: 3,
      configuration: { ActionMode: 'CHANGE_SET_EXECUTE', StackName: stackName, ChangeSetName: changeSetName },
    },
  ];
}

/** `big-0001`, `big-0002`, …: names for many pipelines of one product (benchmarks). */
export const numberedNames = (prefix: string, count: number) =>
  Array.from({ length: count }, (_, i) => `${prefix}-${String(i + 1).padStart(4, '0')}`);

export const demoPipelineNames = () =>
  Object.entries(DEMO_PRODUCTS).flatMap(([product, services]) => services.map((service) => `${product}-${service}`));
