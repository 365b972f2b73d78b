/**
 * Who CodePipeline says changed an action (`lastUpdatedBy`: the caller's IAM ARN), in words a
 * person recognises. ARN shapes from the IAM user guide, "IAM identifiers" (reference_identifiers):
 * `arn:aws:iam::<account>:user/<path/>name`, `…:role/<path/>name`, `…:root`, and for assumed
 * roles (SSO, federation, the console behind a role) `arn:aws:sts::<account>:assumed-role/<role>/<session>`.
 * Anything else is shown as it came, cut short.
 */
export function readableIdentity(arn: string): string {
  const match = /^arn:aws[a-z-]*:(iam|sts)::(\d{12}):(.+)$/.exec(arn.trim());
  if (!match) return arn.length > 80 ? `${arn.slice(0, 79)}…` : arn;
  const resource = match[3] ?? '';
  if (resource === 'root') return `the root user of account ${match[2]}`;
  const [kind, ...rest] = resource.split('/');
  const last = rest.at(-1) ?? '';
  switch (kind) {
    case 'user':
      return `${last} (IAM user)`;
    case 'role':
      return `role ${last}`;
    case 'assumed-role':
      // The session name is the person (an SSO user name, an e-mail) or the tool that assumed it.
      return rest.length >= 2 ? `${last} (role ${rest[0]})` : `role ${rest[0] ?? ''}`;
    case 'federated-user':
      return `${last} (federated user)`;
    default:
      return resource;
  }
}
