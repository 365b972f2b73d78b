import type { WebClient } from '@slack/web-api';
import type { MessageRef } from '../core/approval.ts';

/** A file to share as a reply in a thread. */
export interface ThreadFile {
  bytes: Uint8Array;
  filename: string;
  title: string;
  /** What a screen reader says for an image. */
  altText: string;
}

export class FileUploadError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'FileUploadError';
  }
}

/** How long the bytes may take to reach Slack's upload URL. */
const UPLOAD_TIMEOUT_MS = 10_000;

/**
 * Shares a file in a thread with Slack's external upload flow (files.upload is retired):
 * files.getUploadURLExternal names it and its size and answers an upload URL and a file id; the
 * bytes are POSTed to that URL; files.completeUploadExternal then shares the file id in the channel,
 * as a reply when given the parent's thread_ts. Needs the `files:write` scope. Returns the file id.
 * https://docs.slack.dev/reference/methods/files.getUploadURLExternal/
 * https://docs.slack.dev/reference/methods/files.completeUploadExternal/
 */
export async function uploadToThread(
  slack: WebClient,
  thread: MessageRef,
  file: ThreadFile,
  post: typeof fetch = fetch,
): Promise<string> {
  const ticket = await slack.files.getUploadURLExternal({
    filename: file.filename,
    length: file.bytes.byteLength,
    // Slack's documented name for the image description is alt_txt (the SDK's type says alt_text).
    alt_txt: file.altText,
  } as Parameters<WebClient['files']['getUploadURLExternal']>[0]);
  if (!ticket.upload_url || !ticket.file_id) throw new FileUploadError('Slack gave no upload URL');

  // Raw bytes are one of the two bodies Slack's upload URL takes (multipart form is the other).
  const uploaded = await post(ticket.upload_url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/octet-stream' },
    body: new Blob([file.bytes as Uint8Array<ArrayBuffer>]),
    signal: AbortSignal.timeout(UPLOAD_TIMEOUT_MS),
  }).catch((error: unknown) => {
    throw new FileUploadError('The upload URL did not take the file', { cause: error });
  });
  if (!uploaded.ok) throw new FileUploadError(`The upload URL answered HTTP ${uploaded.status}`);

  await slack.files.completeUploadExternal({
    files: [{ id: ticket.file_id, title: file.title }],
    channel_id: thread.channel,
    thread_ts: thread.ts,
  });
  return ticket.file_id;
}
