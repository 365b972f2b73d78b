import { viewProblems, withGeneratedIds } from './block-kit.ts';
import type { Block, JsonObject, ModalView } from './types.ts';
import type { Workspace } from './workspace.ts';

export interface ViewPlacement {
  /** Keep this id (views.update, `response_action: "update"`); a new one otherwise. */
  id?: string;
  rootId?: string;
  previousId?: string | null;
}

/** Returns Slack's complaints about a view the app sent, or the view as Slack stores and returns it. */
export function checkView(raw: unknown): { ok: true; view: JsonObject } | { ok: false; problems: string[] } {
  const problems = viewProblems(raw);
  return problems.length === 0 ? { ok: true, view: raw as JsonObject } : { ok: false, problems };
}

/** The view as Slack returns it from views.open/update/push: the app's fields plus ids, hash and an empty state. */
export function modalView(workspace: Workspace, raw: JsonObject, placement: ViewPlacement = {}): ModalView {
  const sequence = workspace.nextSequence();
  const id = placement.id ?? `V0${sequence.toString(36).toUpperCase().padStart(8, '0')}`;
  const hash = `${Math.floor(workspace.now().getTime() / 1000)}.${String(sequence).padStart(8, '0')}`;
  return {
    id,
    team_id: workspace.team.id,
    type: 'modal',
    title: raw.title as JsonObject,
    blocks: withGeneratedIds(raw.blocks as Block[], `${id}:${hash}`),
    close: (raw.close as JsonObject | undefined) ?? null,
    submit: (raw.submit as JsonObject | undefined) ?? null,
    private_metadata: typeof raw.private_metadata === 'string' ? raw.private_metadata : '',
    callback_id: typeof raw.callback_id === 'string' ? raw.callback_id : '',
    external_id: typeof raw.external_id === 'string' ? raw.external_id : '',
    state: { values: {} },
    hash,
    clear_on_close: raw.clear_on_close === true,
    notify_on_close: raw.notify_on_close === true,
    root_view_id: placement.rootId ?? id,
    previous_view_id: placement.previousId ?? null,
    app_id: workspace.bot.appId,
    app_installed_team_id: workspace.team.id,
    bot_id: workspace.bot.botId,
  };
}
