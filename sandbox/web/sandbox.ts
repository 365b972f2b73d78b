import type { ActionCategory } from '@aws-sdk/client-codepipeline';
import { SANDBOX_ACCOUNT_PRODUCTS, SANDBOX_DEMO_PRODUCTS, SANDBOX_SECOND_ACCOUNT } from '../demo-policy.ts';
import type { WorkspaceEvent } from '../slack/index.ts';
import { startWorld, type World } from '../world.ts';
import { SandboxControl } from './control.ts';
import { startWebServer, type WebServer } from './server.ts';

/**
 * How long pipeline actions take in the sandbox (real ms): long enough to watch a commit move
 * through Source and Build on the board, short enough that an approval is asked for within seconds.
 */
export const DEMO_ACTION_DELAYS: Partial<Record<ActionCategory, number>> = {
  Source: 500,
  Build: 1500,
  Deploy: 1200,
  Test: 900,
};

/** How often the sandbox's reminder schedule fires (real ms). */
const REMINDER_SCHEDULE_MS = 60_000;

export interface SandboxOptions {
  /** Port of the page and the API; 0 picks a free one. Default 3000. */
  port?: number;
  /** Default 127.0.0.1 (only this machine); `0.0.0.0` to reach it from elsewhere (a container). */
  host?: string;
  /** Keep DynamoDB data in this folder between runs. */
  dataDir?: string;
  /** Real ms pipeline actions take; default DEMO_ACTION_DELAYS. */
  actionDelayMs?: number | Partial<Record<ActionCategory, number>>;
  /** Seed the demo products (default true). */
  seed?: boolean;
  /** The demo approval rules: shop prod needs 2 Releasers, no weekend releases (default true; docs/policy.md). */
  demoPolicy?: boolean;
  /**
   * A second AWS account (SANDBOX_SECOND_ACCOUNT) where product `data` lives: Greenlight reaches it
   * through STS AssumeRole, as on AWS (default true; docs/architecture.md, "Many accounts and regions").
   */
  secondAccount?: boolean;
  /** One line per notable event. */
  log?: (line: string) => void;
}

export interface Sandbox {
  readonly url: string;
  readonly world: World;
  readonly control: SandboxControl;
  readonly web: WebServer;
  close(): Promise<void>;
}

/** Greenlight's whole world on loopback plus the page and its API: what `npm start` runs. */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const log = options.log ?? (() => {});
  const demoPolicy = options.demoPolicy ?? true;
  const secondAccount = options.secondAccount ?? true;
  // PRODUCTS names where the second account's products live (and the demo rules, when on).
  const products = { ...(demoPolicy ? SANDBOX_DEMO_PRODUCTS : {}), ...SANDBOX_ACCOUNT_PRODUCTS };
  const world = await startWorld({
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    emulator: { actionDelayMs: options.actionDelayMs ?? DEMO_ACTION_DELAYS },
    demoPolicy,
    ...(secondAccount ? { accounts: [SANDBOX_SECOND_ACCOUNT], env: { PRODUCTS: JSON.stringify(products) } } : {}),
    log,
  });
  try {
    const control = new SandboxControl(world);
    if (options.seed ?? true) {
      world.emulator.seedDemoWorld();
      control.seedOtherAccounts();
    }
    // The change-set gate (docs/what-am-i-approving.md): StagingPROD prepares a change set, asks, then executes it.
    if (options.seed ?? true) control.addChangeSetPipeline('orders-api');
    const note = (line: string) => {
      control.note(line);
      log(line);
    };
    const describe = describer(control);
    const stopLogging = world.slack.onChange((event) => {
      const line = describe(event);
      if (line) note(line);
    });
    // The reminder schedule, once a minute of real time (every 15 minutes on AWS); "advance clock" fires it too.
    const reminders = setInterval(() => {
      control.remindNow().catch((error: unknown) => log(`reminders failed: ${String(error)}`));
    }, REMINDER_SCHEDULE_MS);
    reminders.unref();
    const web = await startWebServer({
      control,
      port: options.port ?? 3000,
      host: options.host ?? '127.0.0.1',
      log: note,
    });
    return {
      url: web.url,
      world,
      control,
      web,
      close: async () => {
        clearInterval(reminders);
        stopLogging();
        await web.close();
        await world.close();
      },
    };
  } catch (error) {
    await world.close();
    throw error;
  }
}

/**
 * What the app (or a person) did in Slack, in a line: the messages people would notice. An update
 * that leaves a message's first line as it was (a redraw, a reply counted on its parent) is none.
 */
function describer(control: SandboxControl): (event: WorkspaceEvent) => string | undefined {
  const workspace = control.world.slack.workspace;
  const channelName = (id: string) => `#${workspace.channel(id)?.name ?? id}`;
  const author = (id: string) => (id === workspace.bot.userId ? 'Greenlight' : (workspace.user(id)?.name ?? id));
  const shown = new Map<string, string>();
  /** The message's first line, or undefined when it is the one last shown for that message. */
  const changed = (channel: string, message: { ts: string; text: string }) => {
    const line = firstLine(message.text);
    const key = `${channel}/${message.ts}`;
    if (shown.get(key) === line) return undefined;
    shown.set(key, line);
    return line;
  };
  return (event) => {
    switch (event.type) {
      case 'message_posted': {
        const line = changed(event.channel, event.message);
        const where = event.message.thread_ts
          ? `a thread in ${channelName(event.channel)}`
          : channelName(event.channel);
        const files = (event.message.files ?? []).map((file) => `📎 ${file.title}`).join(', ');
        return `${author(event.message.user)} → ${where}: ${[line ?? firstLine(event.message.text), files].filter(Boolean).join(' ')}`;
      }
      case 'message_updated': {
        const line = event.message.edited ? changed(event.channel, event.message) : undefined;
        return event.message.edited && line !== undefined
          ? `${author(event.message.edited.user)} updated in ${channelName(event.channel)}: ${line}`
          : undefined;
      }
      case 'ephemeral_posted':
        return `Greenlight → only ${author(event.ephemeral.user)} in ${channelName(event.ephemeral.channel)}: ${firstLine(event.ephemeral.text)}`;
      case 'view_opened':
        return `${author(event.user)} sees the modal “${String(event.view.title.text ?? '')}”`;
      default:
        return undefined;
    }
  };
}

const firstLine = (text: string) => {
  const line = text.split('\n')[0] ?? '';
  return line.length > 120 ? `${line.slice(0, 119)}…` : line;
};
