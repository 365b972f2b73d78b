import { describe, expect, it } from 'vitest';
import {
  actorText,
  clip,
  duration,
  escapeMrkdwn,
  link,
  mention,
  relative,
  slackDate,
} from '../../../app/views/format.ts';

describe('escapeMrkdwn', () => {
  it('escapes the three characters Slack reads as markup, ampersand first', () => {
    // Act
    const text = escapeMrkdwn('<!channel> & <@U0ALICE> &lt;');
    // Assess
    expect(text).toBe('&lt;!channel&gt; &amp; &lt;@U0ALICE&gt; &amp;lt;');
  });
});

describe('clip', () => {
  it('leaves text within the limit alone', () => {
    // Act + Assess
    expect(clip('x'.repeat(150), 150)).toBe('x'.repeat(150));
  });

  it('cuts longer text to the limit and says so', () => {
    // Act
    const text = clip('x'.repeat(151), 150);
    // Assess
    expect(text).toHaveLength(150);
    expect(text.endsWith('x…')).toBe(true);
  });
});

describe('slackDate', () => {
  it('lets Slack show the time in each reader’s zone, with a UTC fallback', () => {
    // Act
    const text = slackDate(new Date('2016-07-07T20:22:00Z'));
    // Assess
    expect(text).toBe('<!date^1467922920^{date_short_pretty} at {time}|2016-07-07 20:22 UTC>');
  });

  it('takes another format', () => {
    // Act
    const text = slackDate(new Date('2016-07-07T20:22:59.999Z'), '{date}');
    // Assess
    expect(text).toBe('<!date^1467922979^{date}|2016-07-07 20:22 UTC>');
  });
});

describe('link and mention', () => {
  it('links with a label that cannot break out of the link', () => {
    // Act
    const text = link('https://example.com/pr/42', 'fix <b> | & more');
    // Assess
    expect(text).toBe('<https://example.com/pr/42|fix &lt;b&gt; ¦ &amp; more>');
  });

  it('mentions a person so Slack shows their current name', () => {
    // Act + Assess
    expect(mention('U0ALICE')).toBe('<@U0ALICE>');
  });
});

describe('actorText', () => {
  it('shows a release by a name that cannot post a link or a ping', () => {
    // Prepare: a release's name quotes the display name of the person who asked for it
    const name = 'shop → prod by <https://evil.example|Greenlight admin> <!channel> & co';
    // Act
    const text = actorText({ id: 'release-1', name, via: 'release' });
    // Assess
    expect(text).toBe('release shop → prod by &lt;https://evil.example|Greenlight admin&gt; &lt;!channel&gt; &amp; co');
  });

  it('shows the person who asked for a release as a mention, as every other line does', () => {
    // Act
    const text = actorText({
      id: 'rel-1',
      name: 'shop → qa by bob',
      via: 'release',
      release: { what: 'shop → qa', requestedBy: 'U0BOB' },
    });
    // Assess
    expect(text).toBe('release shop → qa by <@U0BOB>');
  });

  it('shows a person as a mention, never by the display name they chose', () => {
    // Act
    const text = actorText({ id: 'U0ALICE', name: '<!channel>', via: 'slack' });
    // Assess
    expect(text).toBe('<@U0ALICE>');
  });
});

describe('relative', () => {
  const now = new Date('2025-03-04T10:00:00Z');
  const at = (ms: number) => new Date(now.getTime() + ms);
  const minute = 60_000;
  const hour = 60 * minute;
  const day = 24 * hour;

  it.each([
    [0, 'now'],
    [20_000, 'now'],
    [minute, 'in 1 minute'],
    [-5 * minute, '5 minutes ago'],
    [59 * minute, 'in 59 minutes'],
    [60 * minute, 'in 1 hour'],
    [-3 * hour, '3 hours ago'],
    [47 * hour, 'in 47 hours'],
    [48 * hour, 'in 2 days'],
    [7 * day, 'in 7 days'],
    [-10 * day, '10 days ago'],
  ])('calls %i ms from now "%s"', (ms, expected) => {
    // Act + Assess
    expect(relative(at(ms), now)).toBe(expected);
  });
});

describe('duration', () => {
  it.each([
    [45_000, '45 s'],
    [60_000, '1 min'],
    [(3 * 60 + 20) * 60_000, '3 h 20 min'],
    [5 * 3_600_000, '5 h'],
    [(2 * 24 + 4) * 3_600_000, '2 d 4 h'],
    [3 * 24 * 3_600_000, '3 d'],
    // CodePipeline's clock a little ahead of ours: never "waiting -2 s".
    [-2_000, '0 s'],
    [-521_999_000, '0 s'],
  ])('writes %i ms as "%s"', (ms, expected) => {
    // Act + Assess
    expect(duration(ms)).toBe(expected);
  });
});
