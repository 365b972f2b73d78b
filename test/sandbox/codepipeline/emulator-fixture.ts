import { CodePipelineClient, GetPipelineStateCommand } from '@aws-sdk/client-codepipeline';
import {
  type CodePipelineEmulator,
  type CodePipelineEmulatorOptions,
  startCodePipelineEmulator,
} from '../../../sandbox/codepipeline/index.ts';

export interface EmulatorFixture {
  readonly emulator: CodePipelineEmulator;
  /** The real SDK client, pointed at the emulator over loopback HTTP. */
  readonly client: CodePipelineClient;
  close(): Promise<void>;
}

export async function startEmulator(
  options: CodePipelineEmulatorOptions = {},
  clientOptions: { maxAttempts?: number } = {},
): Promise<EmulatorFixture> {
  const emulator = await startCodePipelineEmulator(options);
  const client = new CodePipelineClient({
    endpoint: emulator.url,
    region: emulator.region,
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    ...clientOptions,
  });
  return {
    emulator,
    client,
    async close() {
      client.destroy();
      await emulator.close();
    },
  };
}

/** The pending approval token of a stage, read the way the app reads it: from GetPipelineState. */
export async function pendingToken(client: CodePipelineClient, pipelineName: string, stageName: string) {
  const state = await client.send(new GetPipelineStateCommand({ name: pipelineName }));
  const stage = state.stageStates?.find((s) => s.stageName === stageName);
  const approval = stage?.actionStates?.find((a) => a.latestExecution?.token !== undefined);
  const token = approval?.latestExecution?.token;
  if (!token || !approval?.actionName) throw new Error(`no approval pending in ${pipelineName}/${stageName}`);
  return { actionName: approval.actionName, token, pipelineExecutionId: stage?.latestExecution?.pipelineExecutionId };
}
