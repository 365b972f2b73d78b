/**
 * CodePipeline's naming rules, said once. Pipelines, stages and actions are named with 1–100
 * characters of letters, digits and `.@-_` (the PutApprovalResult API model's pattern).
 */
export const CODEPIPELINE_NAME = /^[A-Za-z0-9.@\-_]{1,100}$/;

export const isCodePipelineName = (value: unknown): value is string =>
  typeof value === 'string' && CODEPIPELINE_NAME.test(value);

/** AWS region names as CodePipeline reports them: `us-east-2`, `eu-central-1`, `us-gov-west-1`. */
export const AWS_REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

/**
 * The console page of a pipeline, in the shape the console uses today. Used when a notification
 * carries no console link of its own (or one that is not an AWS console link).
 */
export function pipelineConsoleLink(region: string | undefined, pipelineName: string | undefined): string {
  if (!region || !AWS_REGION.test(region)) return 'https://console.aws.amazon.com/codesuite/codepipeline/pipelines';
  const base = `https://${region}.console.aws.amazon.com/codesuite/codepipeline/pipelines`;
  return isCodePipelineName(pipelineName)
    ? `${base}/${pipelineName}/view?region=${region}`
    : `${base}?region=${region}`;
}
