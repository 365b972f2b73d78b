import { describe, expect, it } from 'vitest';
import { ResvgPngRenderer } from '../../../app/adapters/png-renderer.ts';
import type { DeliveryMetrics } from '../../../app/core/delivery-metrics.ts';
import type { ProductDigest } from '../../../app/core/digest.ts';
import { ALT_TEXT_MAX, CHART_COLORS, digestChart } from '../../../app/views/digest-chart.ts';
import { type DecodedPng, decodePng } from '../../support/png.ts';

const HOUR = 3_600_000;

const metrics = (deployments: number, leadTimeMs?: number, waitP50Ms?: number): DeliveryMetrics => ({
  deployments,
  finished: deployments,
  failures: 0,
  ...(leadTimeMs === undefined ? {} : { leadTimeMs }),
  ...(waitP50Ms === undefined ? {} : { approvalWait: { p50Ms: waitP50Ms, p90Ms: waitP50Ms, count: 4 } }),
});

const product = (name: string, current: DeliveryMetrics, previous: DeliveryMetrics): ProductDigest =>
  ({ name, displayName: name, month: { current, previous } }) as ProductDigest;

/** shop doubled its deployments (5 → 10), cut lead time from 9 h to 6 h and waited 30 min where it had no approvals; blog did nothing. */
const SERIES = [
  product('shop', metrics(10, 6 * HOUR, 0.5 * HOUR), metrics(5, 9 * HOUR)),
  product('blog', metrics(0), metrics(0)),
];

/** The row just above the x axis, where every bar of a panel starts. */
const ABOVE_AXIS = 323;
const PANELS = [
  { title: 'deployments', left: 24, right: 312 },
  { title: 'lead time', left: 336, right: 624 },
  { title: 'approval wait', left: 648, right: 936 },
] as const;

/** The bars of one colour in a panel: where each starts on the row above the axis, and how tall it is. */
function bars(png: DecodedPng, panel: { left: number; right: number }, color: string) {
  const found: Array<{ x: number; height: number }> = [];
  for (let x = panel.left; x < panel.right; x++) {
    if (png.hex(x, ABOVE_AXIS) !== color || png.hex(x - 1, ABOVE_AXIS) === color) continue;
    let height = 0;
    while (png.hex(x + 2, ABOVE_AXIS - height) === color) height++;
    found.push({ x, height });
  }
  return found;
}

describe('the digest chart', () => {
  it('draws each metric’s bars to scale, the last 30 days beside the 30 before, on an axis', async () => {
    // Prepare
    const chart = digestChart({ day: '2026-11-27', products: SERIES });
    if (!chart) throw new Error('no chart');

    // Act
    const png = await new ResvgPngRenderer().render(chart.svg);
    const image = decodePng(png);

    // Assess: the size Slack previews, and an axis under every panel
    expect([image.width, image.height]).toEqual([960, 384]);
    for (const panel of PANELS) expect(image.hex(panel.left + 2, ABOVE_AXIS + 1)).toBe(CHART_COLORS.axis);
    expect(image.hex(PANELS[0].left, ABOVE_AXIS - 50)).toBe(CHART_COLORS.background);
    // Deployments: 10 fills the plot (200 px), 5 is half of it; blog, with none, has no bar
    const [deployments, leadTime, wait] = PANELS;
    expect(bars(image, deployments, CHART_COLORS.current).map((b) => b.height)).toEqual([200]);
    expect(bars(image, deployments, CHART_COLORS.previous).map((b) => b.height)).toEqual([100]);
    // Lead time: 9 h before is the tallest; 6 h is two thirds of it
    expect(bars(image, leadTime, CHART_COLORS.previous).map((b) => b.height)).toEqual([200]);
    expect(bars(image, leadTime, CHART_COLORS.current).map((b) => b.height)).toEqual([133]);
    // Approval wait: nothing to compare with before, so one bar
    expect(bars(image, wait, CHART_COLORS.previous)).toEqual([]);
    expect(bars(image, wait, CHART_COLORS.current).map((b) => b.height)).toEqual([200]);
    // The earlier period stands left of the later one
    const [before] = bars(image, deployments, CHART_COLORS.previous);
    const [after] = bars(image, deployments, CHART_COLORS.current);
    expect(before?.x).toBeLessThan(after?.x ?? 0);
    // The title is drawn: resvg draws no text at all without the font it was given
    let inked = 0;
    for (let x = 24; x < 500; x++)
      for (let y = 14; y < 40; y++) if (image.hex(x, y) !== CHART_COLORS.background) inked++;
    expect(inked).toBeGreaterThan(500);
    expect(png.byteLength).toBeGreaterThan(5_000);
    expect(png.byteLength).toBeLessThan(100_000);
  });

  it('renders the same bytes every time', async () => {
    // Prepare
    const chart = digestChart({ day: '2026-11-27', products: SERIES });
    const renderer = new ResvgPngRenderer();

    // Act
    const first = await renderer.render(chart?.svg ?? '');
    const second = await renderer.render(chart?.svg ?? '');

    // Assess
    expect(Buffer.from(second).equals(Buffer.from(first))).toBe(true);
  });

  it('says what it shows in words for screen readers, within Slack’s 1,000 characters', () => {
    // Act
    const chart = digestChart({ day: '2026-11-27', products: SERIES });
    const many = digestChart({
      day: '2026-11-27',
      products: Array.from({ length: 40 }, (_, i) => product(`product-${i}`, metrics(i), metrics(i + 1))),
    });

    // Assess
    expect(chart?.altText).toBe(
      'Delivery, last 30 days against the 30 before (2026-11-27). shop: deployments to production 10 (before: 5), lead time (mean) 6 h (before: 9 h), approval wait (p50) 30 min (before: none). blog: deployments to production 0 (before: 0), lead time (mean) none (before: none), approval wait (p50) none (before: none).',
    );
    expect(many?.altText.length).toBeLessThanOrEqual(ALT_TEXT_MAX);
    expect(chart?.filename).toBe('delivery-2026-11-27.png');
  });

  it('labels each entry of a product in several places with its place, within the width of its bars', () => {
    // Prepare: shop in Greenlight's own account, in A and in B
    const A = { account: '111122223333', region: 'eu-west-1' };
    const B = { account: '444455556666', region: 'ap-southeast-2' };
    const shop = product('shop', metrics(2), metrics(1));

    // Act
    const chart = digestChart({
      day: '2026-11-27',
      products: [shop, { ...shop, place: A }, { ...shop, place: B }],
    });

    // Assess: the account whole, a region too long for the bar cut where its end still tells it apart
    const labels = [...(chart?.svg ?? '').matchAll(/<text [^>]*font-size="10"[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    expect(labels.slice(0, 4)).toEqual(['111122223333', 'eu-west-1', '444455556666', 'ap-so…east-2']);
    expect(labels).toHaveLength(3 * 4);
    expect(chart?.altText).toContain('. shop: deployments');
    expect(chart?.altText).toContain('. shop (111122223333 eu-west-1): deployments');
    expect(chart?.altText).toContain('. shop (444455556666 ap-southeast-2): deployments');
  });

  it('escapes product names, which come from configuration, in the SVG', () => {
    // Act
    const chart = digestChart({ day: '2026-11-27', products: [product('a<b>&"c', metrics(1), metrics(1))] });

    // Assess
    expect(chart?.svg).toContain('a&lt;b&gt;&amp;&quot;c');
    expect(chart?.svg).not.toContain('a<b>');
  });

  it('draws nothing for a digest without products', () => {
    expect(digestChart({ day: '2026-11-27', products: [] })).toBeUndefined();
  });
});
