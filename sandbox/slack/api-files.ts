import { randomBytes } from 'node:crypto';
import { type ApiMethod, jsonArg, requiredArg, SlackApiError, stringArg } from './api-args.ts';
import { visibleChannel } from './api-chat.ts';
import { isObject } from './block-kit.ts';
import type { SlackFile } from './types.ts';
import type { Workspace } from './workspace.ts';

/** A file and its bytes, as the workspace keeps it. */
export interface StoredFile {
  file: SlackFile;
  bytes: Buffer;
}

interface PendingUpload {
  fileId: string;
  filename: string;
  length: number;
  altTxt?: string;
  bytes?: Buffer;
}

/** What the file types Greenlight shares are called; anything else is stored as binary. */
const TYPES: Record<string, { mimetype: string; pretty: string }> = {
  png: { mimetype: 'image/png', pretty: 'PNG' },
  jpg: { mimetype: 'image/jpeg', pretty: 'JPEG' },
  svg: { mimetype: 'image/svg+xml', pretty: 'SVG' },
  txt: { mimetype: 'text/plain', pretty: 'Plain Text' },
};

/** Slack refuses a longer image description (alt_txt_too_large). */
const ALT_TXT_MAX = 1000;

/**
 * Slack's external upload flow, on loopback:
 * 1. files.getUploadURLExternal {filename, length, alt_txt?} → {upload_url, file_id}
 *    (https://docs.slack.dev/reference/methods/files.getUploadURLExternal/);
 * 2. a POST of the bytes to upload_url, raw or as a multipart form, answered 200 (`receive`);
 * 3. files.completeUploadExternal {files: [{id, title?}], channel_id?, thread_ts?, initial_comment?}
 *    → {files}, sharing them in the channel (in the thread) as a message by the uploader
 *    (https://docs.slack.dev/reference/methods/files.completeUploadExternal/). Without channel_id
 *    the files stay private.
 */
export class FileStore {
  readonly #workspace: Workspace;
  readonly #baseUrl: () => string;
  readonly #webUrl: string;
  readonly #pending = new Map<string, PendingUpload>();
  readonly #byUploadKey = new Map<string, string>();
  readonly #files = new Map<string, StoredFile>();

  constructor(workspace: Workspace, baseUrl: () => string, webUrl: string) {
    this.#workspace = workspace;
    this.#baseUrl = baseUrl;
    this.#webUrl = webUrl;
  }

  file(id: string): StoredFile | undefined {
    return this.#files.get(id);
  }

  /** The upload URL's POST: the bytes of a file getUploadURLExternal announced. False: no such upload. */
  receive(uploadKey: string, contentType: string | undefined, body: Buffer): boolean {
    const fileId = this.#byUploadKey.get(uploadKey);
    const pending = fileId ? this.#pending.get(fileId) : undefined;
    if (!pending) return false;
    pending.bytes = multipartFile(contentType, body) ?? body;
    return true;
  }

  /** The bytes a `url_private` names, for someone holding the token. */
  private(path: string): StoredFile | undefined {
    const match = /^\/files-pri\/[^/]+-(F[0-9A-Z]+)\/[^/]+$/.exec(path);
    return match?.[1] ? this.#files.get(match[1]) : undefined;
  }

  methods(): Record<string, ApiMethod> {
    const workspace = this.#workspace;
    return {
      'files.getUploadURLExternal': (args) => {
        const filename = requiredArg(args, 'filename', 'invalid_arguments');
        const length = Number(stringArg(args, 'length'));
        // Slack answers missing_argument for a length of 0.
        if (!Number.isInteger(length) || length <= 0) throw new SlackApiError('missing_argument');
        const altTxt = stringArg(args, 'alt_txt');
        if (altTxt !== undefined && altTxt.length > ALT_TXT_MAX) throw new SlackApiError('alt_txt_too_large');
        const fileId = `F0${String(workspace.nextSequence()).padStart(9, '0')}`;
        const uploadKey = randomBytes(12).toString('hex');
        this.#pending.set(fileId, { fileId, filename, length, ...(altTxt ? { altTxt } : {}) });
        this.#byUploadKey.set(uploadKey, fileId);
        return { upload_url: `${this.#baseUrl()}/upload/v1/${uploadKey}`, file_id: fileId };
      },

      'files.completeUploadExternal': (args) => {
        const requested = jsonArg(args, 'files', 'invalid_arguments');
        if (!Array.isArray(requested) || requested.length === 0) throw new SlackApiError('invalid_arguments');
        const channel = args.channel_id === undefined ? undefined : visibleChannel(workspace, args, 'channel_id');
        if (channel && !channel.members.includes(workspace.bot.userId)) throw new SlackApiError('not_in_channel');
        const threadTs = stringArg(args, 'thread_ts');
        // As chat.postMessage: a thread_ts that matches no message shares into the channel itself.
        const parent = channel && threadTs ? workspace.message(channel.id, threadTs) : undefined;
        const uploads = requested.map((entry) => {
          const id = isObject(entry) ? stringArg(entry, 'id') : undefined;
          const pending = id ? this.#pending.get(id) : undefined;
          // Announced but never uploaded is as unknown to Slack as an id it never gave.
          if (!pending?.bytes) throw new SlackApiError('file_not_found');
          const title = (isObject(entry) && stringArg(entry, 'title')) || pending.filename;
          return { pending: pending as PendingUpload & { bytes: Buffer }, title };
        });
        const files = uploads.map(({ pending, title }) => {
          this.#pending.delete(pending.fileId);
          const stored = { file: this.#fileObject(pending, title), bytes: pending.bytes };
          this.#files.set(pending.fileId, stored);
          return stored.file;
        });
        if (channel) {
          workspace.post(channel.id, {
            user: workspace.bot.userId,
            text: stringArg(args, 'initial_comment') ?? '',
            files,
            ...(parent ? { thread_ts: parent.thread_ts ?? parent.ts } : {}),
          });
        }
        return { files: files.map((file) => ({ id: file.id, title: file.title })) };
      },
    };
  }

  #fileObject(pending: PendingUpload & { bytes: Buffer }, title: string): SlackFile {
    const workspace = this.#workspace;
    const extension = pending.filename.split('.').at(-1)?.toLowerCase() ?? '';
    const type = TYPES[extension] ?? { mimetype: 'application/octet-stream', pretty: 'Binary' };
    const created = Math.floor(workspace.now().getTime() / 1000);
    const name = encodeURIComponent(pending.filename);
    const size = pngSize(pending.bytes);
    return {
      id: pending.fileId,
      created,
      timestamp: created,
      name: pending.filename,
      title,
      mimetype: type.mimetype,
      filetype: TYPES[extension] ? extension : 'binary',
      pretty_type: type.pretty,
      user: workspace.bot.userId,
      size: pending.bytes.byteLength,
      url_private: `${this.#baseUrl()}/files-pri/${workspace.team.id}-${pending.fileId}/${name}`,
      url_private_download: `${this.#baseUrl()}/files-pri/${workspace.team.id}-${pending.fileId}/download/${name}`,
      permalink: `${this.#webUrl}/files/${workspace.bot.userId}/${pending.fileId}/${name}`,
      ...(pending.altTxt ? { alt_txt: pending.altTxt } : {}),
      ...(size ? { original_w: size.width, original_h: size.height } : {}),
    };
  }
}

/** The first file part of a multipart form body, the other body Slack's upload URL takes. */
function multipartFile(contentType: string | undefined, body: Buffer): Buffer | undefined {
  const boundary = /^multipart\/form-data;.*boundary="?([^";]+)"?/i.exec(contentType ?? '')?.[1];
  if (!boundary) return undefined;
  const delimiter = Buffer.from(`--${boundary}`);
  let start = body.indexOf(delimiter);
  while (start >= 0) {
    const next = body.indexOf(delimiter, start + delimiter.length);
    if (next < 0) break;
    const part = body.subarray(start + delimiter.length + 2, next - 2);
    const headerEnd = part.indexOf('\r\n\r\n');
    if (headerEnd >= 0 && /filename=/i.test(part.subarray(0, headerEnd).toString('latin1'))) {
      return Buffer.from(part.subarray(headerEnd + 4));
    }
    start = next;
  }
  return undefined;
}

/** A PNG's size from its IHDR chunk, which Slack reports as original_w / original_h. */
function pngSize(bytes: Buffer): { width: number; height: number } | undefined {
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (bytes.length < 24 || !bytes.subarray(0, 8).equals(signature)) return undefined;
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}
