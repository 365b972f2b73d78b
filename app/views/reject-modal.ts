import type { ModalView } from '@slack/types';
import * as z from 'zod';
import { type ApprovalRecord, describe, REASON_LIMIT } from '../core/approval.ts';
import { type Parsed, parseJson } from '../parse-json.ts';
import { approvalIdSchema } from './approval-message.ts';
import { clip, escapeMrkdwn } from './format.ts';
import { ids } from './ids.ts';

/** What the modal remembers between opening and submission (Slack keeps it for us). */
export interface RejectModalState {
  approvalId: string;
  channel?: string;
}

const metadataSchema = z.object({ approvalId: approvalIdSchema, channel: z.string().optional() });

/**
 * The modal's private_metadata: written when the modal opens, read back on submission by the
 * listener. Slack returns it as the modal was opened, but a submission can be forged, so it is
 * checked like any input.
 */
export const rejectModalMetadata = {
  write: (state: RejectModalState): string => JSON.stringify(state),
  read: (raw: string | undefined): Parsed<z.infer<typeof metadataSchema>> => parseJson(metadataSchema, raw),
};

/** Asks why; Slack enforces the length, the app refuses a blank reason with an inline error. */
export function rejectModal(record: ApprovalRecord, state: RejectModalState): ModalView {
  return reasonModal({
    callbackId: ids.rejectModal,
    metadata: rejectModalMetadata.write(state),
    title: 'Reject change',
    submit: 'Reject',
    intro: `Rejecting *${escapeMrkdwn(describe(record.request))}* stops this revision here. The pipeline records your reason.`,
    label: 'Why?',
    placeholder: 'e.g. checkout fails on QA with expired cards',
  });
}

/** A modal that asks for the reason a decision needs (rejecting; approving during a freeze). */
export function reasonModal(modal: {
  callbackId: string;
  metadata: string;
  title: string;
  submit: string;
  intro: string;
  label: string;
  placeholder: string;
}): ModalView {
  return {
    type: 'modal',
    callback_id: modal.callbackId,
    private_metadata: modal.metadata,
    title: { type: 'plain_text', text: modal.title },
    submit: { type: 'plain_text', text: modal.submit },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: clip(modal.intro, 3000) } },
      {
        type: 'input',
        block_id: ids.reasonBlock,
        label: { type: 'plain_text', text: modal.label },
        element: {
          type: 'plain_text_input',
          action_id: ids.reasonInput,
          multiline: true,
          max_length: REASON_LIMIT,
          placeholder: { type: 'plain_text', text: modal.placeholder },
        },
      },
    ],
  };
}
