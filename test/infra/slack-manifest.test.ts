import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { parse } from 'yaml';
import { REPO_ROOT, repoPath } from '../../infra/paths.ts';
import { PLACEHOLDER_URL, readManifest, slackManifestSchema, withRequestUrl } from '../../infra/slack-manifest.ts';

const FUNCTION_URL = 'https://abc123def.lambda-url.eu-central-1.on.aws/';
const manifest = readManifest();

function printManifest(...args: string[]): string {
  return execFileSync(process.execPath, ['--import', 'tsx', repoPath('scripts', 'manifest.ts'), ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

describe('manifest.yml', () => {
  it('follows Slack’s manifest schema', () => {
    expect(slackManifestSchema.safeParse(manifest).error).toBeUndefined();
  });

  it('asks for the fewest bot scopes the app uses, sorted', () => {
    expect(manifest.oauth_config.scopes.bot).toEqual([
      'chat:write',
      'commands',
      'users:read',
      'channels:history',
      'groups:history',
      'files:write',
      'usergroups:read',
    ]);
  });

  it('offers /release with its usage, unescaped', () => {
    expect(manifest.features.slash_commands).toEqual([
      expect.objectContaining({
        command: '/release',
        usage_hint: '[product] [qa|prod] | [product] status | [product] policy | digest | help',
        should_escape: false,
      }),
    ]);
  });

  it('receives interactions over HTTPS, not Socket Mode, with a placeholder until deployed', () => {
    expect(manifest.settings).toEqual({
      interactivity: { is_enabled: true, request_url: PLACEHOLDER_URL },
      org_deploy_enabled: false,
      socket_mode_enabled: false,
      token_rotation_enabled: false,
    });
    expect(manifest.features.slash_commands?.[0]?.url).toBe(PLACEHOLDER_URL);
    expect(manifest.features.bot_user).toEqual({ display_name: 'Greenlight', always_online: true });
  });

  it('rejects what Slack would reject', () => {
    // Prepare
    const broken = [
      { ...manifest, display_information: { name: 'x'.repeat(36) } },
      { ...manifest, settings: { interactivity: { is_enabled: true, request_url: 'http://insecure.example' } } },
      { ...manifest, features: { ...manifest.features, slash_commands: [{ command: 'release', url: FUNCTION_URL }] } },
      { ...manifest, oauth_config: { scopes: { bot: ['chat:write'], bots: [] } } },
    ];
    // Act
    const results = broken.map((candidate) => slackManifestSchema.safeParse(candidate).success);
    // Assess
    expect(results).toEqual([false, false, false, false]);
  });

  it('points every request URL at the Function URL', () => {
    // Act
    const deployed = withRequestUrl(manifest, FUNCTION_URL);
    // Assess
    expect(JSON.stringify(deployed)).not.toContain(PLACEHOLDER_URL);
    expect(deployed.settings.interactivity?.request_url).toBe(FUNCTION_URL);
    expect(deployed.features.slash_commands?.map((command) => command.url)).toEqual([FUNCTION_URL]);
  });
});

describe('npm run manifest', () => {
  it('prints the manifest for a Function URL given on the command line or in cdk outputs', () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'greenlight-outputs-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const outputs = join(dir, 'outputs.json');
    writeFileSync(outputs, JSON.stringify({ Greenlight: { SlackEventsUrl: FUNCTION_URL } }));
    // Act
    const printed = [printManifest(FUNCTION_URL), printManifest('--outputs-file', outputs)];
    // Assess
    for (const yaml of printed) {
      const parsed = slackManifestSchema.parse(parse(yaml));
      expect(parsed).toEqual(withRequestUrl(manifest, FUNCTION_URL));
    }
  });

  it('refuses a URL Slack would refuse', () => {
    expect(() => printManifest('http://abc123def.lambda-url.eu-central-1.on.aws/')).toThrow(/https/);
  });
});
