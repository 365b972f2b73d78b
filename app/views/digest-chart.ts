import type { DeliveryMetrics } from '../core/delivery-metrics.ts';
import type { Digest, ProductDigest } from '../core/digest.ts';
import { duration } from './format.ts';

/**
 * The digest's delivery metrics as a picture: for every product, deployments to production, lead
 * time and approval wait (p50) over the last 30 days, each bar beside the 30 days before. An SVG
 * for an adapter to render (text in the font it is given: CHART_FONT_FAMILY); the alt text says the
 * same in words for screen readers, and the digest's text keeps every figure.
 */
export interface DigestChart {
  svg: string;
  width: number;
  height: number;
  filename: string;
  title: string;
  /** For screen readers (files.getUploadURLExternal's alt_txt: at most ALT_TEXT_MAX characters). */
  altText: string;
}

export const CHART_FONT_FAMILY = 'Roboto';

/** Slack refuses longer alt text (alt_txt_too_large). */
export const ALT_TEXT_MAX = 1000;

/** Layout, in pixels. Bar heights are whole pixels: a value of half the panel's largest is half as tall. */
export const CHART_LAYOUT = {
  margin: 24,
  panelGap: 24,
  /** Each product's two bars and their gap; panels grow with the products. */
  groupWidth: 72,
  minPanelWidth: 288,
  plotTop: 124,
  plotHeight: 200,
  height: 384,
} as const;

export const CHART_COLORS = {
  background: '#ffffff',
  text: '#1d1c1d',
  muted: '#616061',
  axis: '#868686',
  previous: '#b9bcc1',
  current: '#2eb67d',
} as const;

interface Metric {
  title: string;
  value: (metrics: DeliveryMetrics) => number | undefined;
  label: (value: number) => string;
}

const METRICS: readonly Metric[] = [
  { title: 'Deployments to production', value: (m) => m.deployments, label: (v) => String(v) },
  { title: 'Lead time (mean)', value: (m) => m.leadTimeMs, label: (v) => span(v) },
  { title: 'Approval wait (p50)', value: (m) => m.approvalWait?.p50Ms, label: (v) => span(v) },
];

/** A duration short enough to stand over a bar: "45 s", "36 min", "2.5 h", "3 d". */
function span(ms: number): string {
  const hours = ms / 3_600_000;
  if (hours < 1) return duration(ms);
  const tenths = (n: number) => String(Math.round(n * 10) / 10);
  return hours < 48 ? `${tenths(hours)} h` : `${tenths(hours / 24)} d`;
}

/** The chart of the digest's products, or undefined when it has none to draw. */
export function digestChart(digest: Pick<Digest, 'day' | 'products'>): DigestChart | undefined {
  // A product whose account could not be reached has no figures: drawing zeros would mislead.
  const products = digest.products.filter((product) => !product.unreachable);
  if (products.length === 0) return undefined;
  const { margin, panelGap, groupWidth, minPanelWidth, plotTop, plotHeight, height } = CHART_LAYOUT;
  const panelWidth = Math.max(minPanelWidth, products.length * groupWidth);
  const width = 2 * margin + METRICS.length * panelWidth + (METRICS.length - 1) * panelGap;
  const base = plotTop + plotHeight;
  const title = `Delivery, last 30 days against the 30 before (${digest.day})`;

  const parts: string[] = [
    `<rect width="${width}" height="${height}" fill="${CHART_COLORS.background}"/>`,
    text(margin, 34, title, { size: 20, weight: 700 }),
    legend(margin, 62),
  ];
  METRICS.forEach((metric, index) => {
    const left = margin + index * (panelWidth + panelGap);
    parts.push(text(left, 96, metric.title, { size: 15, weight: 700 }));
    const values = products.map((p) => [metric.value(p.month.previous), metric.value(p.month.current)] as const);
    const largest = Math.max(0, ...values.flat().map((v) => v ?? 0));
    products.forEach((product, i) => {
      const center = left + (i + 0.5) * (panelWidth / products.length);
      const [before, now] = values[i] ?? [];
      parts.push(bar(center - 26, before, largest, metric, CHART_COLORS.previous));
      parts.push(bar(center + 2, now, largest, metric, CHART_COLORS.current));
      parts.push(text(center, base + 22, product.displayName, { size: 13, anchor: 'middle', clipTo: groupWidth - 6 }));
      // Another account's entry names its place under the name, as the digest's text does: account
      // and region a line each, small enough that a whole account id fits the bar's width.
      const place = product.place ? [product.place.account, product.place.region] : [];
      place.forEach((line, n) => {
        const options = { size: 10, anchor: 'middle', color: CHART_COLORS.muted, clipTo: groupWidth - 6 } as const;
        parts.push(text(center, base + 36 + n * 13, line, { ...options, clipMiddle: true }));
      });
    });
    parts.push(
      `<line x1="${left}" y1="${base + 0.5}" x2="${left + panelWidth}" y2="${base + 0.5}" stroke="${CHART_COLORS.axis}" stroke-width="1"/>`,
    );
  });

  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="${CHART_FONT_FAMILY}">${parts.join('')}</svg>`;
  return {
    svg,
    width,
    height,
    filename: `delivery-${digest.day}.png`,
    title,
    altText: altText(title, products),
  };

  /** One bar: whole pixels tall, its value above it ("–" when there is none). */
  function bar(x: number, value: number | undefined, largest: number, metric: Metric, color: string): string {
    const barHeight = value && largest > 0 ? Math.max(1, Math.round((value / largest) * plotHeight)) : 0;
    const label = value === undefined ? '–' : metric.label(value);
    return [
      barHeight > 0 ? `<rect x="${x}" y="${base - barHeight}" width="24" height="${barHeight}" fill="${color}"/>` : '',
      text(x + 12, base - barHeight - 6, label, { size: 11, anchor: 'middle', color: CHART_COLORS.muted }),
    ].join('');
  }
}

function legend(x: number, y: number): string {
  return [
    `<rect x="${x}" y="${y - 11}" width="12" height="12" fill="${CHART_COLORS.previous}"/>`,
    text(x + 18, y, 'the 30 days before', { size: 13, color: CHART_COLORS.muted }),
    `<rect x="${x + 160}" y="${y - 11}" width="12" height="12" fill="${CHART_COLORS.current}"/>`,
    text(x + 178, y, 'the last 30 days', { size: 13, color: CHART_COLORS.muted }),
  ].join('');
}

function text(
  x: number,
  y: number,
  content: string,
  options: { size: number; weight?: number; anchor?: 'middle'; color?: string; clipTo?: number; clipMiddle?: boolean },
): string {
  // About 0.55 em per character: a long product name is cut rather than run into its neighbour.
  const fits = options.clipTo ? Math.floor(options.clipTo / (options.size * 0.55)) : Number.POSITIVE_INFINITY;
  return `<text x="${x}" y="${y}" font-size="${options.size}"${options.weight ? ` font-weight="${options.weight}"` : ''}${options.anchor ? ` text-anchor="${options.anchor}"` : ''} fill="${options.color ?? CHART_COLORS.text}">${escapeXml(clipText(content, fits, options.clipMiddle))}</text>`;
}

/** `content` in at most `fits` characters; cut in the middle where its end tells it apart (ap-southeast-1 and -2). */
function clipText(content: string, fits: number, middle = false): string {
  if (content.length <= fits) return content;
  if (!middle || fits < 3) return `${content.slice(0, Math.max(1, fits - 1))}…`;
  const tail = Math.ceil((fits - 1) / 2);
  return `${content.slice(0, fits - 1 - tail)}…${content.slice(-tail)}`;
}

const escapeXml = (value: string) =>
  value.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] ?? c);

function altText(title: string, products: readonly ProductDigest[]): string {
  const figure = (metric: Metric, metrics: DeliveryMetrics) => {
    const value = metric.value(metrics);
    return value === undefined ? 'none' : metric.label(value);
  };
  const lines = products.map(
    (product) =>
      `${product.displayName}${product.place ? ` (${product.place.account} ${product.place.region})` : ''}: ${METRICS.map(
        (metric) =>
          `${metric.title.toLowerCase()} ${figure(metric, product.month.current)} (before: ${figure(metric, product.month.previous)})`,
      ).join(', ')}.`,
  );
  const full = [`${title}.`, ...lines].join(' ');
  return full.length > ALT_TEXT_MAX ? `${full.slice(0, ALT_TEXT_MAX - 1)}…` : full;
}
