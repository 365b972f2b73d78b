import type { Actor, Outcome } from '../core/approval.ts';

/** Small, pure helpers for Slack mrkdwn. */

/** Slack needs only these three escaped in mrkdwn text (docs: "Escaping text"). */
export const escapeMrkdwn = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Cuts text to Slack's limits, saying so, never inside a surrogate pair (an emoji). */
export { clip } from '../core/text.ts';

/** A date every reader sees in their own time zone; the fallback is UTC. */
export const slackDate = (date: Date, format = '{date_short_pretty} at {time}'): string =>
  `<!date^${Math.floor(date.getTime() / 1000)}^${format}|${date.toISOString().replace('T', ' ').slice(0, 16)} UTC>`;

/** A link; `<`, `>` and `|` would end Slack's link syntax early, so they are percent-encoded in the URL. */
export const link = (url: string, label: string): string =>
  `<${url.replace(/[<>|]/g, (c) => encodeURIComponent(c))}|${escapeMrkdwn(label).replace(/\|/g, '¦')}>`;

export const mention = (userId: string): string => `<@${userId}>`;

/** "in 6 days", "in 3 hours", "5 minutes ago": coarse on purpose, it is read at a glance. */
export function relative(to: Date, now: Date): string {
  const ms = to.getTime() - now.getTime();
  const minutes = Math.round(Math.abs(ms) / 60_000);
  const [n, unit] =
    minutes < 60
      ? [minutes, 'minute']
      : minutes < 48 * 60
        ? [Math.round(minutes / 60), 'hour']
        : [Math.round(minutes / (24 * 60)), 'day'];
  const amount = `${n} ${unit}${n === 1 ? '' : 's'}`;
  if (minutes === 0) return 'now';
  return ms > 0 ? `in ${amount}` : `${amount} ago`;
}

/**
 * Wait times: "3 h 20 min", "2 d 4 h", "45 s". Spans are measured between two clocks (CodePipeline's
 * timestamps and this process's), which may stand a little apart: a negative one reads "0 s".
 */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
  const d = Math.floor(h / 24);
  return h % 24 ? `${d} d ${h % 24} h` : `${d} d`;
}

/**
 * Who acted: a person as a mention (Slack shows their current name), a release by its name, escaped:
 * a release's name quotes the display name of whoever asked for it, which anyone can set to markup
 * (`<!channel>`, a disguised link). Every view shows an actor through this.
 */
export const actorText = (actor: Pick<Actor, 'id' | 'name' | 'via' | 'release'>): string => {
  if (actor.via === 'slack') return mention(actor.id);
  if (actor.via === 'policy') return `*${escapeMrkdwn(actor.name)}*`;
  // The person who asked is a mention, as everywhere else; releases recorded before they were named by name.
  if (actor.release) return `release ${escapeMrkdwn(actor.release.what)} by ${mention(actor.release.requestedBy)}`;
  return `release ${escapeMrkdwn(actor.name)}`;
};

/**
 * When an outcome is shown to have happened: a person's decision when they decided, so one a later
 * settle recorded (after a click that died) keeps its time; any other outcome when it was noticed.
 */
export const shownAt = (outcome: Outcome): Date =>
  outcome.kind === 'approved' || outcome.kind === 'rejected' ? outcome.decision.at : outcome.at;
