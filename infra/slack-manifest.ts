import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import { repoPath } from './paths.ts';

export const MANIFEST_FILE = repoPath('manifest.yml');

/** The request URL manifest.yml carries until the Function URL is known. */
export const PLACEHOLDER_URL = 'https://example.invalid/slack/events';

const httpsUrl = z.url({ protocol: /^https$/ });

/**
 * The parts of Slack's app manifest (schema v1) that Greenlight uses, with Slack's documented
 * limits. Objects are strict, so a misspelt key fails here instead of being ignored by Slack.
 */
export const slackManifestSchema = z.strictObject({
  _metadata: z.strictObject({ major_version: z.literal(1), minor_version: z.number().int().min(0) }).optional(),
  display_information: z.strictObject({
    name: z.string().min(1).max(35),
    description: z.string().max(140).optional(),
    long_description: z.string().min(175).max(4000).optional(),
    background_color: z
      .string()
      .regex(/^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/)
      .optional(),
  }),
  features: z.strictObject({
    bot_user: z.strictObject({ display_name: z.string().min(1).max(80), always_online: z.boolean().optional() }),
    slash_commands: z
      .array(
        z.strictObject({
          command: z
            .string()
            .regex(/^\/[a-z0-9_-]+$/)
            .max(32),
          url: httpsUrl,
          description: z.string().min(1).max(2000),
          usage_hint: z.string().max(1000).optional(),
          should_escape: z.boolean().optional(),
        }),
      )
      .max(50)
      .optional(),
  }),
  oauth_config: z.strictObject({
    scopes: z.strictObject({ bot: z.array(z.string().regex(/^[a-z]+(:[a-z.]+)*$/)).max(255) }),
  }),
  settings: z.strictObject({
    interactivity: z.strictObject({ is_enabled: z.boolean(), request_url: httpsUrl }).optional(),
    org_deploy_enabled: z.boolean().optional(),
    socket_mode_enabled: z.boolean().optional(),
    token_rotation_enabled: z.boolean().optional(),
  }),
});

export type SlackManifest = z.infer<typeof slackManifestSchema>;

/** Reads and validates manifest.yml. */
export function readManifest(file: string = MANIFEST_FILE): SlackManifest {
  return slackManifestSchema.parse(parse(readFileSync(file, 'utf8')));
}

/**
 * The manifest with every request URL pointing at `url` (the slack-events Function URL). `url`
 * may be a CDK token: the JSON then resolves in CloudFormation.
 */
export function withRequestUrl(manifest: SlackManifest, url: string): SlackManifest {
  return {
    ...manifest,
    features: {
      ...manifest.features,
      slash_commands: manifest.features.slash_commands?.map((command) => ({ ...command, url })),
    },
    settings: {
      ...manifest.settings,
      interactivity: manifest.settings.interactivity && { ...manifest.settings.interactivity, request_url: url },
    },
  };
}
