import { describe, expect, it } from 'vitest';
import { formatSlackDate, mrkdwnToHtml, plainToHtml } from '../../../sandbox/web/public/mrkdwn.js';

/** The page's mrkdwn renderer, on the texts Greenlight's views write. */

const context = {
  userName: (id: string) => ({ U0ALICE: 'alice' })[id],
  channelName: (id: string) => ({ C0APPROVALS: 'approvals' })[id],
  timeZone: 'Europe/Berlin',
  now: new Date('2026-03-10T09:00:00Z'),
};

describe('mrkdwn on the sandbox page', () => {
  it('formats bold, italic, strike and code, and leaves words with underscores alone', () => {
    // Act
    const html = mrkdwnToHtml('*Approved* by _someone_ ~maybe~ `c1` in snake_case_name', context);

    // Assess
    expect(html).toBe(
      '<b>Approved</b> by <i>someone</i> <s>maybe</s> <code class="md-code">c1</code> in snake_case_name',
    );
  });

  it('turns links, mentions, channels and emoji shortcodes into what Slack shows', () => {
    // Act
    const html = mrkdwnToHtml(
      ':white_check_mark: <@U0ALICE> in <#C0APPROVALS> — <https://example.com/a?b=1&amp;c=2|What to review>',
      context,
    );

    // Assess
    expect(html).toContain('✅');
    expect(html).toContain('<span class="md-mention" data-user="U0ALICE">@alice</span>');
    expect(html).toContain('<span class="md-channel">#approvals</span>');
    expect(html).toContain('href="https://example.com/a?b=1&amp;c=2"');
    expect(html).toContain('>What to review</a>');
  });

  it('quotes lines that start with >, keeping escaped text escaped', () => {
    // Act
    const html = mrkdwnToHtml('Reason:\n>Checkout &lt;b&gt; fails\n>on QA', context);

    // Assess
    expect(html).toBe('Reason:<br><blockquote class="md-quote">Checkout &lt;b&gt; fails<br>on QA</blockquote>');
  });

  it('never lets the text inject markup or script links', () => {
    // Act
    const html = mrkdwnToHtml('<script>alert(1)</script> <javascript:alert(1)|click> "quoted"', context);

    // Assess
    expect(html).not.toMatch(/<script|href="javascript/i);
    expect(html).toContain('&quot;quoted&quot;');
    expect(plainToHtml('<b>x</b> :x:')).toBe('&lt;b&gt;x&lt;/b&gt; ❌');
  });

  it("shows <!date^…> in the reader's time zone, with the fallback as the title", () => {
    // Prepare: 2026-03-10 18:30 UTC is 19:30 in Berlin
    const epoch = Date.UTC(2026, 2, 10, 18, 30) / 1000;

    // Act
    const html = mrkdwnToHtml(`<!date^${epoch}^{date_short_pretty} at {time}|2026-03-10 18:30 UTC>`, context);
    const tomorrow = formatSlackDate(new Date((epoch + 86_400) * 1000), '{date_pretty}', context);
    const later = formatSlackDate(new Date((epoch + 7 * 86_400) * 1000), '{date_long} {date_num}', context);

    // Assess
    expect(html).toContain('>Today at 7:30 PM</time>');
    expect(html).toContain('title="2026-03-10 18:30 UTC"');
    expect(tomorrow).toBe('Tomorrow');
    expect(later).toBe('Tuesday, March 17th, 2026 2026-03-17');
  });
});
