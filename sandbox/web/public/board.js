/**
 * The pipelines board: per product, services × stages with the revision in each stage and its
 * state, what waits at a transition and what was superseded there; commit and fault controls.
 */
import { h } from './blocks.js';

const STATES = {
  none: { label: 'not run yet', icon: '' },
  'in-progress': { label: 'in progress', icon: '' },
  'awaiting-approval': { label: 'waiting for approval', icon: '⏸' },
  succeeded: { label: 'succeeded', icon: '✓' },
  failed: { label: 'failed', icon: '✕' },
  stopped: { label: 'stopped', icon: '■' },
  skipped: { label: 'skipped', icon: '⤼' },
};

/** `StagingDEV` → `Staging` + `DEV` for a two-line column header. */
function stageHeader(name) {
  const match = /^(Staging)([A-Z]+)$/.exec(name);
  return match
    ? h('th', { title: name }, h('span', { class: 'stage-pre' }, match[1]), h('span', { class: 'stage-env' }, match[2]))
    : h('th', { title: name }, h('span', { class: 'stage-env' }, name));
}

/**
 * @param {object} board GET /api/board
 * @param {{ commit: (pipeline: string) => void, commitProduct: (product: string) => void,
 *   commitReplacement: (pipeline: string) => void,
 *   failNext: (pipeline: string, stage: string, action: string) => void,
 *   answerInConsole: (pipeline: string, stage: string) => void,
 *   stopExecution: (pipeline: string, stage: string) => void, now: Date }} actions
 */
export function renderBoard(board, actions) {
  return h(
    'div',
    { class: 'board' },
    board.products.map((product) =>
      h(
        'section',
        {
          class: 'product',
          dataset: { product: product.product, ...(product.account ? { account: product.account } : {}) },
        },
        h(
          'header',
          { class: 'product-head' },
          h(
            'h3',
            {},
            product.product,
            h(
              'span',
              { class: 'product-count' },
              `${product.pipelines.length} ${product.pipelines.length === 1 ? 'service' : 'services'}`,
            ),
            // Pipelines in another AWS account: Greenlight reaches them through the role it assumes there.
            product.account
              ? h(
                  'span',
                  {
                    class: 'product-account',
                    title: `AWS account ${product.account}, ${product.region}: read and approved through the GreenlightAccess role`,
                  },
                  `account ${product.account} · ${product.region}`,
                )
              : null,
          ),
          h(
            'button',
            {
              type: 'button',
              class: 'btn btn-small',
              title: `One commit to every ${product.product} pipeline`,
              dataset: { commitProduct: product.product },
              onclick: () => actions.commitProduct(product.product),
            },
            '+ Commit all',
          ),
        ),
        h(
          'table',
          { class: 'board-table' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              h('th', { class: 'service-col' }, 'Service'),
              board.stageNames.map(stageHeader),
              h('th', { class: 'tools-col' }),
            ),
          ),
          h(
            'tbody',
            {},
            product.pipelines.map((pipeline) => row(pipeline, actions)),
          ),
        ),
      ),
    ),
  );
}

function row(pipeline, actions) {
  return h(
    'tr',
    { dataset: { pipeline: pipeline.pipelineName } },
    h('th', { class: 'service-col', scope: 'row', title: pipeline.pipelineName }, pipeline.service),
    pipeline.stages.map((stage) => cell(pipeline, stage, actions)),
    h(
      'td',
      { class: 'tools-col' },
      h(
        'button',
        {
          type: 'button',
          class: 'btn btn-small btn-commit',
          title: `A new commit to ${pipeline.pipelineName}`,
          dataset: { commit: pipeline.pipelineName },
          onclick: () => actions.commit(pipeline.pipelineName),
        },
        'Commit',
      ),
      faultMenu(pipeline, actions),
      pipeline.changeSetGate
        ? h(
            'button',
            {
              type: 'button',
              class: 'btn btn-small btn-commit-replacement',
              title: `A commit to ${pipeline.pipelineName} whose CloudFormation change set replaces the orders table`,
              dataset: { commitReplacement: pipeline.pipelineName },
              onclick: () => actions.commitReplacement(pipeline.pipelineName),
            },
            'Commit with a replacement',
          )
        : null,
    ),
  );
}

function cell(pipeline, stage, actions) {
  const state = STATES[stage.state] ?? STATES.none;
  const title = [
    `${pipeline.pipelineName} › ${stage.stageName}`,
    stage.revisionId ? `${stage.revisionId}: ${state.label}` : state.label,
    stage.approvalExpiresAt ? `approval expires ${new Date(stage.approvalExpiresAt).toLocaleString()}` : '',
    stage.waiting ? `${stage.waiting.revisionId} waits at the transition` : '',
    stage.lastSuperseded ? `${stage.lastSuperseded.revisionId} was superseded here` : '',
  ]
    .filter(Boolean)
    .join('\n');
  return h(
    'td',
    {
      class: `stage-cell state-${stage.state}`,
      title,
      dataset: { stage: stage.stageName, state: stage.state, revision: stage.revisionId ?? '' },
    },
    h(
      'div',
      { class: 'cell-inner' },
      stage.waiting || stage.lastSuperseded
        ? h(
            'div',
            { class: 'cell-queue' },
            stage.lastSuperseded && stage.lastSuperseded.revisionId !== stage.waiting?.revisionId
              ? h(
                  'span',
                  { class: 'chip superseded', title: 'superseded: a newer revision took its place' },
                  stage.lastSuperseded.revisionId,
                )
              : null,
            stage.waiting
              ? h(
                  'span',
                  { class: 'chip waiting', title: 'waiting at the transition' },
                  `${stage.waiting.revisionId} ⇢`,
                )
              : null,
          )
        : null,
      stage.state === 'none'
        ? h('span', { class: 'pill empty' }, '—')
        : h(
            'span',
            { class: 'pill' },
            stage.state === 'in-progress'
              ? h('span', { class: 'spinner', 'aria-hidden': 'true' })
              : state.icon
                ? h('span', { class: 'pill-icon' }, state.icon)
                : null,
            h('span', { class: 'pill-rev' }, stage.revisionId ?? ''),
          ),
      stage.state === 'awaiting-approval'
        ? h('span', { class: 'cell-note' }, expiresIn(stage.approvalExpiresAt, actions.now))
        : null,
      stage.state === 'awaiting-approval' ? consoleControls(pipeline, stage, actions) : null,
      stage.state === 'failed' ? h('span', { class: 'cell-note' }, 'failed') : null,
    ),
  );
}

/** What someone in the AWS console could do instead of Slack: the message then follows CodePipeline. */
function consoleControls(pipeline, stage, actions) {
  const where = `${pipeline.pipelineName} › ${stage.stageName}`;
  return h(
    'span',
    { class: 'cell-console' },
    h(
      'button',
      {
        type: 'button',
        class: 'btn btn-tiny',
        title: `Approve ${where} in the AWS console`,
        dataset: { consoleApprove: stage.stageName },
        onclick: () => actions.answerInConsole(pipeline.pipelineName, stage.stageName),
      },
      '✓',
    ),
    h(
      'button',
      {
        type: 'button',
        class: 'btn btn-tiny',
        title: `Stop and abandon the execution in ${where}`,
        dataset: { stopExecution: stage.stageName },
        onclick: () => actions.stopExecution(pipeline.pipelineName, stage.stageName),
      },
      '■',
    ),
  );
}

function expiresIn(iso, now) {
  if (!iso) return 'approve?';
  const hours = Math.round((new Date(iso).getTime() - now.getTime()) / 3_600_000);
  if (hours <= 0) return 'expiring';
  return hours >= 48 ? `${Math.round(hours / 24)} d left` : `${hours} h left`;
}

function faultMenu(pipeline, actions) {
  const options = [];
  for (const stage of pipeline.stages) {
    if (!stage.stageName.startsWith('Staging') && stage.stageName !== 'Build') continue;
    const kinds =
      stage.stageName === 'Build' ? ['Build'] : stage.stageName === 'StagingPROD' ? ['Deploy'] : ['Deploy', 'Test'];
    for (const action of kinds) options.push({ stage: stage.stageName, action });
  }
  return h(
    'details',
    { class: 'fault-menu' },
    h('summary', { class: 'btn btn-small btn-icon', title: 'Make the next run of an action fail' }, '⚡'),
    h(
      'div',
      { class: 'fault-list', role: 'menu' },
      h('div', { class: 'fault-title' }, `Fail the next… (${pipeline.pipelineName})`),
      options.map((option) =>
        h(
          'button',
          {
            type: 'button',
            role: 'menuitem',
            dataset: { failStage: option.stage, failAction: option.action },
            onclick: (event) => {
              event.target.closest('details')?.removeAttribute('open');
              actions.failNext(pipeline.pipelineName, option.stage, option.action);
            },
          },
          `${option.action} in ${option.stage}`,
        ),
      ),
    ),
  );
}
