/** Types of mrkdwn.js, which the browser loads as it is (no build step) and the tests import. */

export interface MrkdwnContext {
  userName?: (id: string) => string | undefined;
  channelName?: (id: string) => string | undefined;
  /** IANA time zone of the reader, e.g. Europe/Berlin; the browser's own when absent. */
  timeZone?: string;
  now?: Date;
}

export const EMOJI: Readonly<Record<string, string>>;
export function escapeHtml(text: string): string;
export function unescapeSlack(text: string): string;
export function emojify(html: string): string;
export function plainToHtml(text: string | undefined, emoji?: boolean): string;
export function mrkdwnToHtml(text: string | undefined, context?: MrkdwnContext): string;
export function formatSlackDate(date: Date, format: string, options?: { timeZone?: string; now?: Date }): string;
