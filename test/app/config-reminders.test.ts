import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../app/config.ts';
import { readSettings, SettingsError } from '../../infra/config.ts';

/** Reminder settings per product (issue #12): the app at start and synth refuse the same, naming product and field. */

const minimal = { SLACK_BOT_TOKEN: 'xoxb-test', SLACK_SIGNING_SECRET: 'secret', APPROVALS_CHANNEL: 'C0APPROVALS' };

const startWith = (products: unknown) => () => loadConfig({ ...minimal, PRODUCTS: JSON.stringify(products) });
const synthWith = (products: unknown) => () =>
  readSettings((key) => (key === 'products' ? JSON.stringify(products) : undefined));

describe('reminderHours and remindHere in PRODUCTS', () => {
  it('takes hours before expiry and whether @here may stand in for approvers', () => {
    // Act
    const config = loadConfig({
      ...minimal,
      PRODUCTS: JSON.stringify({ shop: { reminderHours: 12.5, remindHere: true } }),
    });
    const settings = synthWith({ shop: { reminderHours: 12.5, remindHere: true } })();
    // Assess
    expect(config.products.shop).toEqual({ reminderHours: 12.5, remindHere: true });
    expect(settings.products.shop).toEqual({ reminderHours: 12.5, remindHere: true });
  });

  it.each([
    ['no hours', 0, 'product "shop" reminderHours: expected a number of hours before expiry above 0'],
    [
      'more hours than an approval waits',
      200,
      'product "shop" reminderHours: expected a number of hours before expiry above 0 and at most 168',
    ],
    ['text', '24', 'shop.reminderHours: a number of hours before expiry, such as 24'],
  ])('refuses %s, naming the product and the field', (_case, reminderHours, message) => {
    // Act / Assess
    expect(startWith({ shop: { reminderHours } })).toThrow(ConfigError);
    expect(startWith({ shop: { reminderHours } })).toThrow(message);
    expect(synthWith({ shop: { reminderHours } })).toThrow(SettingsError);
    expect(synthWith({ shop: { reminderHours } })).toThrow(/product "shop" reminderHours/);
  });

  it('refuses a remindHere that is not true or false', () => {
    // Act / Assess
    expect(startWith({ shop: { remindHere: 'yes' } })).toThrow('shop.remindHere: true or false');
    expect(synthWith({ shop: { remindHere: 'yes' } })).toThrow('product "shop" remindHere: expected true or false');
  });
});
