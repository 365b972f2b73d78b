/**
 * Slack's mrkdwn → safe HTML, as far as Greenlight's messages need it: *bold*, _italic_, ~strike~,
 * `code`, ```blocks```, > quotes, <url|label> links, <@U…> mentions, <#C…> channels, <!here>,
 * <!date^…> dates in the reader's time zone, and :emoji: shortcodes.
 *
 * Every piece of text is HTML-escaped before it reaches the page; links keep only http(s) and mailto.
 */

/** The shortcodes Greenlight (and people in a demo) use; others stay as `:name:`. */
export const EMOJI = {
  '+1': '👍',
  ballot_box_with_check: '☑️',
  bar_chart: '📊',
  bell: '🔔',
  black_square_for_stop: '⏹️',
  bust_in_silhouette: '👤',
  calendar: '📅',
  clock3: '🕒',
  closed_lock_with_key: '🔐',
  eyes: '👀',
  fire: '🔥',
  grey_question: '❔',
  hammer_and_wrench: '🛠️',
  heavy_check_mark: '✔️',
  heavy_plus_sign: '➕',
  hourglass: '⌛',
  hourglass_flowing_sand: '⏳',
  information_source: 'ℹ️',
  large_blue_circle: '🔵',
  large_green_circle: '🟢',
  large_orange_circle: '🟠',
  large_yellow_circle: '🟡',
  leftwards_arrow_with_hook: '↩️',
  lock: '🔒',
  no_entry: '⛔',
  no_entry_sign: '🚫',
  package: '📦',
  pencil2: '✏️',
  pushpin: '📌',
  red_circle: '🔴',
  robot_face: '🤖',
  rocket: '🚀',
  rotating_light: '🚨',
  stopwatch: '⏱️',
  tada: '🎉',
  thread: '🧵',
  thumbsup: '👍',
  twisted_rightwards_arrows: '🔀',
  wastebasket: '🗑️',
  warning: '⚠️',
  white_check_mark: '✅',
  white_circle: '⚪',
  x: '❌',
  zzz: '💤',
};

const HTML_ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]);
}

/** Slack escapes exactly these three in message text. */
export function unescapeSlack(text) {
  return String(text).replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

export function emojify(html) {
  return html.replace(/:([a-z0-9_+-]+):/g, (whole, name) => EMOJI[name] ?? whole);
}

/** plain_text objects: escaped, emoji shortcodes replaced unless `emoji: false`. */
export function plainToHtml(text, emoji = true) {
  const html = escapeHtml(text ?? '').replace(/\n/g, '<br>');
  return emoji ? emojify(html) : html;
}

/**
 * @param {string} text mrkdwn as the app sent it
 * @param {{ userName?: (id: string) => string | undefined, channelName?: (id: string) => string | undefined,
 *   timeZone?: string, now?: Date }} [context]
 */
export function mrkdwnToHtml(text, context = {}) {
  const held = [];
  const hold = (html) => `\uE000${held.push(html) - 1}\uE000`;
  // Code blocks first: nothing inside them is formatted.
  let source = String(text ?? '').replace(/```\n?([\s\S]*?)```/g, (_, code) =>
    hold(`<pre class="md-pre">${escapeHtml(unescapeSlack(code))}</pre>`),
  );
  source = source.replace(/`([^`\n]+)`/g, (_, code) =>
    hold(`<code class="md-code">${escapeHtml(unescapeSlack(code))}</code>`),
  );
  source = source.replace(/<([^<>\n]+)>/g, (_, inner) => hold(special(inner, context)));

  const lines = source.split('\n');
  const out = [];
  let quote = [];
  const flushQuote = () => {
    if (quote.length) out.push(`<blockquote class="md-quote">${quote.join('<br>')}</blockquote>`);
    quote = [];
  };
  for (const line of lines) {
    const quoted = /^(?:>|&gt;)\s?(.*)$/.exec(line);
    if (quoted) {
      quote.push(inline(quoted[1] ?? ''));
      continue;
    }
    flushQuote();
    out.push(inline(line));
  }
  flushQuote();
  // A blockquote is a block already; no line break right after one.
  const html = out
    .join('\n')
    .replace(/<\/blockquote>\n/g, '</blockquote>')
    .replace(/\n/g, '<br>');
  return html.replace(/\uE000(\d+)\uE000/g, (_, index) => held[Number(index)] ?? '');
}

function inline(text) {
  let html = escapeHtml(unescapeSlack(text));
  html = html.replace(/(^|[^\w*])\*(?=\S)([^*\n]*?\S)\*(?![\w*])/g, '$1<b>$2</b>');
  html = html.replace(/(^|[^\w_])_(?=\S)([^_\n]*?\S)_(?![\w_])/g, '$1<i>$2</i>');
  html = html.replace(/(^|[^\w~])~(?=\S)([^~\n]*?\S)~(?![\w~])/g, '$1<s>$2</s>');
  return emojify(html);
}

function special(inner, context) {
  const [target = '', ...rest] = inner.split('|');
  const label = rest.join('|');
  if (target.startsWith('@')) {
    const id = target.slice(1);
    const name = context.userName?.(id) ?? (label || id);
    return `<span class="md-mention" data-user="${escapeHtml(id)}">@${escapeHtml(unescapeSlack(name))}</span>`;
  }
  if (target.startsWith('#')) {
    const id = target.slice(1);
    const name = context.channelName?.(id) ?? (label || id);
    return `<span class="md-channel">#${escapeHtml(unescapeSlack(name))}</span>`;
  }
  if (target.startsWith('!date^')) return slackDate(target, label, context);
  if (target.startsWith('!subteam^'))
    return `<span class="md-mention">${escapeHtml(unescapeSlack(label || '@team'))}</span>`;
  if (target.startsWith('!')) return `<span class="md-mention md-broadcast">@${escapeHtml(target.slice(1))}</span>`;
  const url = unescapeSlack(target);
  if (!/^(https?:|mailto:)/i.test(url)) return escapeHtml(unescapeSlack(label || target));
  const shown = label ? inline(label) : escapeHtml(url);
  return `<a class="md-link" href="${escapeHtml(url)}" target="_blank" rel="noopener noreferrer">${shown}</a>`;
}

function slackDate(target, fallback, context) {
  const [, epoch = '', format = '', link] = target.split('^');
  const seconds = Number(epoch);
  if (!Number.isFinite(seconds)) return escapeHtml(unescapeSlack(fallback));
  const text = formatSlackDate(new Date(seconds * 1000), format, context);
  const title = escapeHtml(unescapeSlack(fallback || new Date(seconds * 1000).toISOString()));
  const body = `<time class="md-date" datetime="${new Date(seconds * 1000).toISOString()}" title="${title}">${escapeHtml(text)}</time>`;
  return link && /^https?:/i.test(link)
    ? `<a class="md-link" href="${escapeHtml(link)}" target="_blank" rel="noopener">${body}</a>`
    : body;
}

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** The `{token}` formats of Slack's date formatting, in the reader's time zone. */
export function formatSlackDate(date, format, { timeZone, now = new Date() } = {}) {
  const day = calendarDay(date, timeZone);
  const today = calendarDay(now, timeZone);
  const daysAway = Math.round((Date.UTC(day.y, day.m, day.d) - Date.UTC(today.y, today.m, today.d)) / 86_400_000);
  const pretty = daysAway === 0 ? 'today' : daysAway === -1 ? 'yesterday' : daysAway === 1 ? 'tomorrow' : undefined;
  const time = (seconds) =>
    new Intl.DateTimeFormat('en-US', {
      timeZone,
      hour: 'numeric',
      minute: '2-digit',
      ...(seconds ? { second: '2-digit' } : {}),
    }).format(date);
  const long = `${WEEKDAYS[day.weekday]}, ${MONTHS[day.m]} ${ordinal(day.d)}, ${day.y}`;
  const full = `${MONTHS[day.m]} ${ordinal(day.d)}, ${day.y}`;
  const short = `${MONTHS[day.m]?.slice(0, 3)} ${day.d}, ${day.y}`;
  const tokens = {
    date_num: `${day.y}-${String(day.m + 1).padStart(2, '0')}-${String(day.d).padStart(2, '0')}`,
    date: full,
    date_short: short,
    date_long: long,
    date_pretty: pretty ?? full,
    date_short_pretty: pretty ?? short,
    date_long_pretty: pretty ?? long,
    time: time(false),
    time_secs: time(true),
    ago: ago(date, now),
  };
  const text = (format || '{date_short} {time}').replace(/\{(\w+)\}/g, (whole, token) => tokens[token] ?? whole);
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function calendarDay(date, timeZone) {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: 'numeric', day: 'numeric', weekday: 'short' })
      .formatToParts(date)
      .map((part) => [part.type, part.value]),
  );
  return {
    y: Number(parts.year),
    m: Number(parts.month) - 1,
    d: Number(parts.day),
    weekday: ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(parts.weekday),
  };
}

function ordinal(n) {
  const tens = n % 100;
  const suffix = tens >= 11 && tens <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th');
  return `${n}${suffix}`;
}

function ago(date, now) {
  const ms = date.getTime() - now.getTime();
  const minutes = Math.round(Math.abs(ms) / 60_000);
  if (minutes < 1) return 'just now';
  const [n, unit] =
    minutes < 60
      ? [minutes, 'minute']
      : minutes < 48 * 60
        ? [Math.round(minutes / 60), 'hour']
        : [Math.round(minutes / 1440), 'day'];
  const amount = `${n} ${unit}${n === 1 ? '' : 's'}`;
  return ms < 0 ? `${amount} ago` : `in ${amount}`;
}
