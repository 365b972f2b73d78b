/**
 * Slack's error code of a Web API call that Slack refused (`error` in its answer, as @slack/web-api
 * reports it in `data.error`); undefined for any other failure.
 */
export const slackErrorCode = (error: unknown): string | undefined => {
  const code = (error as { data?: { error?: unknown } } | undefined)?.data?.error;
  return typeof code === 'string' ? code : undefined;
};

/**
 * A modal Slack would not update: the person closed it (`not_found`), or it changed since the hash
 * the update named (`hash_conflict`). Nothing to show any more; not a fault.
 */
export const modalGone = (error: unknown): boolean => {
  const code = slackErrorCode(error);
  return code === 'not_found' || code === 'hash_conflict';
};
