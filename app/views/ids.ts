/** Every Slack action, callback and block id the app uses, in one place. */
export const ids = {
  approve: 'approval.approve',
  reject: 'approval.reject',
  rejectModal: 'approval.reject-modal',
  breakGlass: 'approval.break-glass',
  breakGlassModal: 'approval.break-glass-modal',
  showChanges: 'approval.show-changes',
  reasonBlock: 'reason',
  reasonInput: 'reason-input',
  metadataEvent: 'greenlight_approval',
  releaseModal: 'release.confirm',
  releaseMetadataEvent: 'greenlight_release',
} as const;
