import { type ApiMethod, jsonArg, requiredArg, SlackApiError, stringArg } from './api-args.ts';
import type { TriggerRegistry } from './interaction-tokens.ts';
import { checkView, modalView } from './modal.ts';
import type { JsonObject } from './types.ts';
import { maxViewStack, type Workspace } from './workspace.ts';

export function viewMethods({
  workspace,
  triggers,
}: {
  workspace: Workspace;
  triggers: TriggerRegistry;
}): Record<string, ApiMethod> {
  const userOfTrigger = (args: JsonObject): string => {
    const exchanged = triggers.exchange(requiredArg(args, 'trigger_id', 'invalid_trigger_id'));
    if (!exchanged.ok) throw new SlackApiError(exchanged.error);
    return exchanged.value;
  };

  const viewArg = (args: JsonObject, currentId?: string): JsonObject => {
    const checked = checkView(jsonArg(args, 'view', 'invalid_arguments'));
    if (!checked.ok) throw new SlackApiError('invalid_arguments', { messages: checked.problems });
    const externalId = checked.view.external_id;
    const holder = typeof externalId === 'string' && externalId ? workspace.findView({ externalId }) : undefined;
    if (holder && holder.view.id !== currentId) throw new SlackApiError('duplicate_external_id');
    return checked.view;
  };

  return {
    'views.open': (args) => {
      const raw = viewArg(args);
      const user = userOfTrigger(args);
      const view = modalView(workspace, raw);
      workspace.openView(user, view);
      return { view };
    },

    'views.push': (args) => {
      const raw = viewArg(args);
      const user = userOfTrigger(args);
      const stack = workspace.openViews(user);
      if (stack.length >= maxViewStack) throw new SlackApiError('push_limit_reached');
      const rootId = stack[0]?.view.id;
      const view = modalView(workspace, raw, {
        ...(rootId ? { rootId } : {}),
        previousId: stack.at(-1)?.view.id ?? null,
      });
      if (stack.length === 0) workspace.openView(user, view);
      else workspace.pushView(user, view);
      return { view };
    },

    'views.update': (args) => {
      const id = stringArg(args, 'view_id');
      const externalId = stringArg(args, 'external_id');
      const match = id ? { id } : externalId ? { externalId } : undefined;
      if (!match)
        throw new SlackApiError('invalid_arguments', { messages: ['[ERROR] view_id or external_id is required'] });
      const current = workspace.findView(match);
      if (!current) throw new SlackApiError('not_found');
      const hash = stringArg(args, 'hash');
      if (hash && hash !== current.view.hash) throw new SlackApiError('hash_conflict');
      const raw = viewArg(args, current.view.id);
      const view = modalView(
        workspace,
        { ...raw, external_id: raw.external_id ?? current.view.external_id },
        { id: current.view.id, rootId: current.view.root_view_id, previousId: current.view.previous_view_id },
      );
      workspace.updateView(view);
      return { view };
    },
  };
}
