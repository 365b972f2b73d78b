/**
 * Prints manifest.yml with every Slack request URL set to the slack-events Function URL.
 *
 *   npm run manifest -- https://abc123.lambda-url.eu-central-1.on.aws/
 *   npm run manifest -- --outputs-file cdk.out/outputs.json   (from `cdk deploy --outputs-file …`)
 */
import { readFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { readManifest, withRequestUrl } from '../infra/slack-manifest.ts';

const USAGE = 'usage: npm run manifest -- <function-url> | --outputs-file <cdk-outputs.json>';

function requestUrl([first, second]: string[]): string {
  if (!first || (first === '--outputs-file' && !second) || (first.startsWith('--') && first !== '--outputs-file')) {
    throw new Error(USAGE);
  }
  const url = first === '--outputs-file' ? urlFromOutputs(second as string) : first;
  if (!URL.canParse(url) || new URL(url).protocol !== 'https:') {
    throw new Error(`Slack needs an https request URL, got ${JSON.stringify(url)}`);
  }
  return url;
}

function urlFromOutputs(file: string): string {
  const outputs = JSON.parse(readFileSync(file, 'utf8')) as Record<string, Record<string, unknown>>;
  const url = Object.values(outputs)
    .map((stack) => stack.SlackEventsUrl)
    .find((value) => typeof value === 'string');
  if (typeof url !== 'string') throw new Error(`${file} has no SlackEventsUrl output: deploy the stack first`);
  return url;
}

try {
  process.stdout.write(stringify(withRequestUrl(readManifest(), requestUrl(process.argv.slice(2))), { lineWidth: 0 }));
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exitCode = 1;
}
