import type { WebClient } from '@slack/web-api';
import type { MessageRef } from '../core/approval.ts';
import type { Digest } from '../core/digest.ts';
import type { Log } from '../core/ports.ts';
import { digestChart } from '../views/digest-chart.ts';
import type { PngRenderer } from './png-renderer.ts';
import { uploadToThread } from './slack-file-upload.ts';

/**
 * The digest's chart (app/views/digest-chart.ts) as a PNG in the digest's thread. A picture is a
 * convenience beside the text, which has every figure: one that cannot be drawn or uploaded is
 * logged as a warning and the digest stands without it.
 */
export class SlackDigestChart {
  constructor(
    private readonly slack: WebClient,
    private readonly renderer: PngRenderer,
    private readonly log: Log,
    private readonly post: typeof fetch = fetch,
  ) {}

  async share(digest: Digest, thread: MessageRef): Promise<void> {
    const chart = digestChart(digest);
    if (!chart) return;
    try {
      const started = performance.now();
      const bytes = await this.renderer.render(chart.svg);
      const renderMs = Math.round(performance.now() - started);
      const fileId = await uploadToThread(this.slack, thread, { ...chart, bytes }, this.post);
      this.log.info('Shared the digest chart', { day: digest.day, fileId, bytes: bytes.byteLength, renderMs });
    } catch (error) {
      this.log.warn('The digest chart was not shared; the digest shows every figure in text', {
        day: digest.day,
        error,
      });
    }
  }
}
