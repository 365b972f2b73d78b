import { describe, expect, it } from 'vitest';
import { readableIdentity } from '../../../app/core/iam-identity.ts';

describe('readableIdentity', () => {
  it.each([
    ['arn:aws:iam::123456789012:user/alice', 'alice (IAM user)'],
    ['arn:aws:iam::123456789012:user/division/team/bob', 'bob (IAM user)'],
    // The trigger-detail of the user guide's "Pipeline STARTED event" sample
    ['arn:aws:sts::123456789012:assumed-role/Admin/my-user', 'my-user (role Admin)'],
    [
      'arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Deployers_0123abcd/carol@example.com',
      'carol@example.com (role AWSReservedSSO_Deployers_0123abcd)',
    ],
    ['arn:aws:iam::123456789012:role/service-role/release-bot', 'role release-bot'],
    ['arn:aws:iam::123456789012:root', 'the root user of account 123456789012'],
    ['arn:aws-us-gov:iam::123456789012:user/dave', 'dave (IAM user)'],
    ['arn:aws:sts::123456789012:federated-user/erin', 'erin (federated user)'],
  ])('shows %s as “%s”', (arn, shown) => {
    expect(readableIdentity(arn)).toBe(shown);
  });

  it('shows anything else as it came, cut short', () => {
    expect(readableIdentity('someone')).toBe('someone');
    expect(readableIdentity('x'.repeat(200))).toHaveLength(80);
  });
});
