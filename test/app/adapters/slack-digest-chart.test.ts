import { afterEach, describe, expect, it } from 'vitest';
import { ResvgPngRenderer } from '../../../app/adapters/png-renderer.ts';
import { SlackDigestChart } from '../../../app/adapters/slack-digest-chart.ts';
import { SlackDigestPublisher } from '../../../app/adapters/slack-digest-publisher.ts';
import type { Digest } from '../../../app/core/digest.ts';
import { resolveProduct } from '../../../app/core/products.ts';
import { type SlackSimulator, startSlackSimulator } from '../../../sandbox/slack/index.ts';
import { botToken, signingSecret, webClient } from '../../sandbox/slack/helpers.ts';
import { memoryLog } from '../../support/fakes.ts';
import { decodePng } from '../../support/png.ts';

const NOW = new Date('2026-11-20T07:00:00Z');
const CHANNEL = 'C0DIGEST';

let sim: SlackSimulator | undefined;
afterEach(() => sim?.close());

const month = {
  current: { deployments: 4, finished: 4, failures: 0 },
  previous: { deployments: 2, finished: 2, failures: 0 },
};

const digest: Digest = {
  day: '2026-11-20',
  now: NOW,
  decidedSince: new Date(NOW.getTime() - 24 * 60 * 60 * 1000),
  waiting: [],
  outdated: 0,
  decided: [],
  products: [
    {
      name: 'shop',
      displayName: 'shop',
      board: { product: resolveProduct('shop', {}), stages: [], rows: [] },
      week: month,
      month,
      failing: [],
    },
  ],
  unreadable: [],
};

async function publisherWithChart() {
  sim = await startSlackSimulator({ botToken, signingSecret });
  const client = webClient(sim);
  const log = memoryLog();
  const chart = new SlackDigestChart(client, new ResvgPngRenderer(), log);
  const publisher = new SlackDigestPublisher(client, client, CHANNEL, log, { rateLimitWaitMs: 0, chart });
  return { sim, log, publisher };
}

describe('the digest chart in Slack', () => {
  it('shares the chart as a PNG in the digest’s thread, after the text, with words for screen readers', async () => {
    // Prepare
    const { sim, publisher } = await publisherWithChart();

    // Act
    const top = await publisher.publish(digest, async () => {});

    // Assess
    const messages = sim.messages(CHANNEL);
    const shared = messages.at(-1);
    expect(messages[0]?.ts).toBe(top.ts);
    expect(shared?.thread_ts).toBe(top.ts);
    const file = shared?.files?.[0];
    expect(file).toMatchObject({
      name: 'delivery-2026-11-20.png',
      title: 'Delivery, last 30 days against the 30 before (2026-11-20)',
      mimetype: 'image/png',
    });
    expect(file?.alt_txt).toContain('shop: deployments to production 4 (before: 2)');
    const png = decodePng(sim.file(file?.id ?? '')?.bytes ?? new Uint8Array());
    expect([png.width, png.height]).toEqual([960, 384]);
    expect(sim.calls('files.getUploadURLExternal')[0]?.args).toMatchObject({ length: String(file?.size) });
  });

  it('posts the digest all the same when the upload fails, and says so in a warning', async () => {
    // Prepare: Slack fails the step that shares the file
    const { sim, log, publisher } = await publisherWithChart();
    sim.faults.failCalls('files.completeUploadExternal', 500);

    // Act
    const top = await publisher.publish(digest, async () => {});

    // Assess
    expect(sim.messages(CHANNEL).map((m) => m.ts)).toContain(top.ts);
    expect(sim.messages(CHANNEL).some((m) => m.files)).toBe(false);
    expect(log.entries).toContainEqual(
      expect.objectContaining({ level: 'warn', message: expect.stringContaining('chart was not shared') }),
    );
  });
});
