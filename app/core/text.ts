/**
 * Cuts `text` to at most `limit` UTF-16 units (the unit Slack, CodePipeline and DynamoDB limits
 * count in JavaScript), ending in `…` when cut. Never cuts inside a surrogate pair, so an emoji at
 * the edge is dropped whole instead of leaving half a character that Slack or AWS would refuse.
 */
export function clip(text: string, limit: number): string {
  if (text.length <= limit) return text;
  let end = Math.max(0, limit - 1);
  const last = text.charCodeAt(end - 1);
  if (end > 0 && last >= 0xd800 && last <= 0xdbff) end -= 1; // a high surrogate whose pair would be cut off
  return `${text.slice(0, end)}…`;
}
