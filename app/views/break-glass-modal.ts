import type { ModalView } from '@slack/types';
import * as z from 'zod';
import { type ApprovalRecord, describe } from '../core/approval.ts';
import type { FreezeWindow } from '../core/policy.ts';
import { type Parsed, parseJson } from '../parse-json.ts';
import { approvalIdSchema } from './approval-message.ts';
import { escapeMrkdwn } from './format.ts';
import { ids } from './ids.ts';
import { frozenText } from './policy-lines.ts';
import { reasonModal } from './reject-modal.ts';

/** What the break-glass modal remembers between opening and submission; checked like any input. */
const metadataSchema = z.object({
  approvalId: approvalIdSchema,
  channel: z.string().optional(),
  rules: z.string().max(100).optional(),
});
export type BreakGlassState = z.infer<typeof metadataSchema>;

export const breakGlassMetadata = {
  write: (state: BreakGlassState): string => JSON.stringify(state),
  read: (raw: string | undefined): Parsed<BreakGlassState> => parseJson(metadataSchema, raw),
};

/** Approving during a freeze asks why, as rejecting does; the reason goes to CodePipeline and the audit trail. */
export function breakGlassModal(record: ApprovalRecord, freeze: FreezeWindow, state: BreakGlassState): ModalView {
  return reasonModal({
    callbackId: ids.breakGlassModal,
    metadata: breakGlassMetadata.write(state),
    title: 'Break glass',
    submit: 'Approve anyway',
    intro: `${frozenText(freeze)}. Approving *${escapeMrkdwn(describe(record.request))}* now overrides the freeze; the message, CodePipeline and the audit trail say so, with your reason.`,
    label: 'Why can it not wait?',
    placeholder: 'e.g. hotfix for the checkout outage, INC-1234',
  });
}
