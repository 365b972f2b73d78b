/**
 * The sandbox page: a Slack-like client for the simulated workspace (channels, messages, threads,
 * ephemerals, modals, a composer) next to the pipelines board. Everything it shows comes from
 * GET /api/events; everything it does goes through the same JSON API a script would use.
 */
import { collectValues, h, renderBlocks, textHtml } from './blocks.js';
import { renderBoard } from './board.js';
import { mrkdwnToHtml, plainToHtml } from './mrkdwn.js';

const AVATAR_COLORS = ['#7c3aed', '#0284c7', '#d97706', '#db2777', '#0d9488', '#4f46e5'];

const state = {
  me: localStorage.getItem('greenlight.me') ?? '',
  channel: localStorage.getItem('greenlight.channel') ?? '',
  team: { name: 'Acme' },
  bot: { userId: '' },
  people: [],
  channels: [],
  /** channel id → messages, replies included, oldest first */
  messages: {},
  ephemerals: [],
  /** user id → modal stack, bottom first: [{ view, errors }] */
  views: {},
  board: null,
  activity: [],
  commands: [],
  /** { channel, ts } of the open thread */
  thread: null,
  unread: {},
  /** buttons waiting for the app: `${ts}/${blockId}/${actionId}` */
  busy: new Set(),
  /** message ts → what Slack would show next to the buttons when the app answered wrongly */
  failures: new Map(),
  /** Slack's own notices (a command that failed), per channel, only on this page */
  localNotices: [],
  submitting: false,
};

const $ = (id) => document.getElementById(id);

// Data

function applySnapshot(snapshot) {
  Object.assign(state, {
    team: snapshot.team,
    bot: snapshot.bot,
    people: snapshot.people,
    channels: snapshot.channels,
    messages: snapshot.messages,
    ephemerals: snapshot.ephemerals,
    views: Object.fromEntries(
      Object.entries(snapshot.views).map(([user, stack]) => [
        user,
        stack.map(({ view, errors }) => ({ view, errors })),
      ]),
    ),
    board: snapshot.board,
    activity: snapshot.activity ?? [],
  });
  if (!state.people.some((p) => p.id === state.me)) state.me = state.people[0]?.id ?? '';
  if (!state.channels.some((c) => c.id === state.channel)) state.channel = state.channels[0]?.id ?? '';
  renderAll();
  document.getElementById('app')?.setAttribute('aria-busy', 'false');
}

function applySlack(event) {
  const list = (channel) => {
    state.messages[channel] ??= [];
    return state.messages[channel];
  };
  switch (event.type) {
    case 'message_posted': {
      list(event.channel).push(event.message);
      const isReply = event.message.thread_ts && event.message.thread_ts !== event.message.ts;
      if (event.channel !== state.channel && !isReply)
        state.unread[event.channel] = (state.unread[event.channel] ?? 0) + 1;
      renderChannels();
      break;
    }
    case 'message_updated': {
      const messages = list(event.channel);
      const index = messages.findIndex((m) => m.ts === event.message.ts);
      if (index >= 0) messages[index] = event.message;
      else messages.push(event.message);
      state.failures.delete(event.message.ts);
      break;
    }
    case 'message_deleted':
      state.messages[event.channel] = list(event.channel).filter((m) => m.ts !== event.ts);
      break;
    case 'ephemeral_posted':
      state.ephemerals.push(event.ephemeral);
      break;
    case 'ephemeral_updated':
      state.ephemerals = state.ephemerals.map((e) => (e.ts === event.ephemeral.ts ? event.ephemeral : e));
      break;
    case 'ephemeral_deleted':
      state.ephemerals = state.ephemerals.filter((e) => e.ts !== event.ephemeral.ts);
      break;
    case 'view_opened':
      state.views[event.user] = [...(state.views[event.user] ?? []), { view: event.view, errors: {} }];
      renderModal();
      return;
    case 'view_updated':
      state.views[event.user] = (state.views[event.user] ?? []).map((open) =>
        open.view.id === event.view.id ? { view: event.view, errors: event.errors } : open,
      );
      renderModal();
      return;
    case 'view_closed':
      state.views[event.user] = (state.views[event.user] ?? []).filter((open) => open.view.id !== event.viewId);
      renderModal();
      return;
    case 'user_added':
      state.people.push(event.user);
      renderPeople();
      return;
    case 'channel_added':
      state.channels.push(event.channel);
      state.messages[event.channel.id] ??= [];
      renderChannels();
      return;
    case 'membership_changed':
      return;
    default:
      return;
  }
  scheduleMessages();
}

// Talking to the sandbox

async function api(path, body) {
  const response = await fetch(path, {
    method: body === undefined ? 'GET' : 'POST',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(json.error ?? `HTTP ${response.status}`);
  return json;
}

function connect() {
  const connection = $('connection');
  const source = new EventSource('/api/events');
  source.addEventListener('open', () => {
    connection.dataset.state = 'live';
    connection.textContent = 'live';
  });
  source.addEventListener('error', () => {
    connection.dataset.state = 'lost';
    connection.textContent = 'reconnecting… (is npm start running?)';
  });
  source.addEventListener('snapshot', (event) => applySnapshot(JSON.parse(event.data)));
  source.addEventListener('slack', (event) => applySlack(JSON.parse(event.data)));
  source.addEventListener('activity', (event) => {
    state.activity = [...state.activity.slice(-49), JSON.parse(event.data)];
    renderActivity();
  });
  source.addEventListener('board', (event) => {
    state.board = JSON.parse(event.data);
    renderBoardPanel();
  });
}

// Helpers for drawing

const person = (id) => state.people.find((p) => p.id === id);
const me = () => person(state.me);
const channel = (id) => state.channels.find((c) => c.id === id);

function mrkdwnContext() {
  return {
    userName: (id) => (id === state.bot.userId ? 'Greenlight' : person(id)?.displayName),
    channelName: (id) => channel(id)?.name,
    timeZone: me()?.tz,
    now: new Date(),
  };
}

function avatar(userId, size = 36) {
  if (userId === state.bot.userId) {
    return h('img', { class: 'avatar bot', src: '/favicon.svg', alt: '', width: size, height: size });
  }
  const index = Math.max(
    0,
    state.people.findIndex((p) => p.id === userId),
  );
  const who = person(userId);
  return h(
    'span',
    {
      class: 'avatar',
      style: `background:${AVATAR_COLORS[index % AVATAR_COLORS.length]};width:${size}px;height:${size}px`,
      'aria-hidden': 'true',
    },
    (who?.realName ?? '?').charAt(0),
  );
}

function timeOf(ts) {
  return new Intl.DateTimeFormat('en-US', { timeZone: me()?.tz, hour: 'numeric', minute: '2-digit' }).format(
    new Date(Number(ts) * 1000),
  );
}

function toast(text, kind = 'info') {
  const item = h('div', { class: `toast ${kind}` }, text);
  $('toasts').append(item);
  setTimeout(() => item.remove(), kind === 'error' ? 6000 : 3000);
}

// Rendering

function renderAll() {
  renderPeople();
  renderChannels();
  renderMessages();
  renderBoardPanel();
  renderActivity();
  renderModal();
  renderComposerHint();
}

function renderPeople() {
  const container = $('people');
  container.replaceChildren(
    h('span', { class: 'people-label' }, 'You are'),
    ...state.people.map((p) =>
      h(
        'button',
        {
          type: 'button',
          role: 'radio',
          class: 'person',
          'aria-checked': p.id === state.me ? 'true' : 'false',
          title: `${p.realName} (@${p.name}, ${p.tz})`,
          dataset: { user: p.id, name: p.name },
          onclick: () => switchPerson(p.id),
        },
        avatar(p.id, 22),
        h('span', { class: 'person-name' }, p.realName.split(' ')[0]),
      ),
    ),
  );
  const current = me();
  $('workspace-name').textContent = state.team.name;
  $('workspace-me').replaceChildren(h('span', { class: 'presence' }), current ? current.realName : '');
}

function renderChannels() {
  $('channel-list').replaceChildren(
    ...state.channels.map((c) =>
      h(
        'li',
        {},
        h(
          'button',
          {
            type: 'button',
            class: `channel-link${c.id === state.channel ? ' active' : ''}${state.unread[c.id] ? ' unread' : ''}`,
            dataset: { channel: c.id, name: c.name },
            onclick: () => switchChannel(c.id),
          },
          h('span', { class: 'hash' }, c.isPrivate ? '🔒' : '#'),
          h('span', { class: 'channel-name' }, c.name),
          state.unread[c.id] ? h('span', { class: 'badge' }, String(state.unread[c.id])) : null,
        ),
      ),
    ),
  );
  const current = channel(state.channel);
  $('channel-title').textContent = current ? `# ${current.name}` : '';
  $('channel-topic').textContent = topicOf(current?.name);
  $('composer-input').placeholder = current ? `Message #${current.name}` : 'Message';
}

function topicOf(name) {
  if (name === 'approvals') return 'Greenlight asks here when a pipeline waits for a manual approval';
  if (name === 'releases') return 'Type /release shop qa to release a whole product';
  if (name === 'delivery-digest') return 'The daily digest: what waits, what was decided, where each product stands';
  return '';
}

let messagesQueued = false;
/** Bursts of events (a click updates a message and posts an ephemeral) draw once. */
function scheduleMessages() {
  if (messagesQueued) return;
  messagesQueued = true;
  requestAnimationFrame(() => {
    messagesQueued = false;
    renderMessages();
  });
}

function visibleItems(channelId, threadTs) {
  const inThread = (m) =>
    threadTs ? m.ts === threadTs || m.thread_ts === threadTs : !m.thread_ts || m.thread_ts === m.ts;
  const messages = (state.messages[channelId] ?? []).filter(inThread).map((message) => ({ kind: 'message', message }));
  const ephemerals = state.ephemerals
    .filter(
      (e) => e.channel === channelId && e.user === state.me && (threadTs ? e.thread_ts === threadTs : !e.thread_ts),
    )
    .map((message) => ({ kind: 'ephemeral', message }));
  const notices = state.localNotices
    .filter((n) => n.channel === channelId && n.user === state.me && !threadTs)
    .map((message) => ({ kind: 'notice', message }));
  return [...messages, ...ephemerals, ...notices].sort((a, b) => Number(a.message.ts) - Number(b.message.ts));
}

function renderMessages() {
  const list = $('messages');
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  const items = visibleItems(state.channel);
  const current = channel(state.channel);
  list.replaceChildren(
    h(
      'div',
      { class: 'channel-intro' },
      h('h2', {}, `# ${current?.name ?? ''}`),
      h('p', {}, `This is the very beginning of #${current?.name ?? ''}. ${topicOf(current?.name)}.`),
    ),
    ...items.map((item) => messageView(item, state.channel)),
  );
  if (atBottom) list.scrollTop = list.scrollHeight;
  if (state.thread) renderThread();
}

function messageView(item, channelId, { inThread = false } = {}) {
  const { message, kind } = item;
  // An ephemeral's `user` is the one person who sees it; the app wrote it.
  const author = kind === 'message' ? message.user : state.bot.userId;
  const fromBot = kind !== 'message' || Boolean(message.bot_id) || author === state.bot.userId;
  const name = kind === 'notice' ? 'Slackbot' : fromBot ? 'Greenlight' : (person(author)?.realName ?? author);
  const content = message.blocks?.length
    ? renderBlocks(message.blocks, {
        mrkdwn: mrkdwnContext(),
        surface: 'message',
        busy: new Set(
          [...state.busy]
            .filter((key) => key.startsWith(`${message.ts}/`))
            .map((key) => key.slice(message.ts.length + 1)),
        ),
        onButton: kind === 'notice' ? undefined : (element, block) => clickButton(channelId, message, element, block),
      })
    : h('div', { class: 'msg-text', html: mrkdwnToHtml(message.text, mrkdwnContext()) });
  const failure = state.failures.get(message.ts);
  return h(
    'article',
    { class: `msg${kind !== 'message' ? ' ephemeral' : ''}`, dataset: { ts: message.ts, kind } },
    kind === 'notice' ? h('span', { class: 'avatar slackbot', 'aria-hidden': 'true' }, '✱') : avatar(author),
    h(
      'div',
      { class: 'msg-body' },
      kind !== 'message'
        ? h('div', { class: 'ephemeral-note' }, h('span', { 'aria-hidden': 'true' }, '👁 '), 'Only visible to you')
        : null,
      h(
        'div',
        { class: 'msg-head' },
        h('span', { class: 'author' }, name),
        fromBot && kind !== 'notice' ? h('span', { class: 'app-badge' }, 'APP') : null,
        h(
          'time',
          { class: 'msg-time', datetime: new Date(Number(message.ts) * 1000).toISOString() },
          timeOf(message.ts),
        ),
        message.edited ? h('span', { class: 'edited' }, '(edited)') : null,
      ),
      message.text || message.blocks?.length || !message.files?.length
        ? h('div', { class: 'msg-content' }, content)
        : null,
      message.files?.length ? h('div', { class: 'msg-files' }, message.files.map(fileView)) : null,
      failure ? h('div', { class: 'msg-failure', role: 'alert' }, '⚠ ', failure) : null,
      message.reply_count && !inThread
        ? h(
            'button',
            {
              type: 'button',
              class: 'thread-link',
              dataset: { thread: message.ts },
              onclick: () => openThread(channelId, message.ts),
            },
            h(
              'span',
              { class: 'reply-avatars' },
              (message.reply_users ?? []).slice(0, 3).map((user) => avatar(user, 20)),
            ),
            `${message.reply_count} ${message.reply_count === 1 ? 'reply' : 'replies'}`,
            h(
              'span',
              { class: 'thread-last' },
              message.latest_reply ? `Last reply ${timeOf(message.latest_reply)}` : '',
            ),
          )
        : null,
      kind !== 'message'
        ? h('button', { type: 'button', class: 'dismiss', onclick: () => dismiss(item) }, 'Dismiss')
        : null,
    ),
  );
}

/** A file shared with the message, as Slack shows it: its title, and an image inline (served by the sandbox). */
function fileView(file) {
  const src = `/api/files/${encodeURIComponent(file.id)}`;
  const image = file.mimetype?.startsWith('image/');
  return h(
    'figure',
    { class: 'msg-file', dataset: { file: file.id } },
    h('figcaption', {}, h('a', { href: src, target: '_blank', rel: 'noopener' }, file.title || file.name)),
    image
      ? h('img', {
          src,
          alt: file.alt_txt ?? file.title ?? file.name,
          width: file.original_w,
          height: file.original_h,
          loading: 'lazy',
        })
      : h('div', { class: 'file-type' }, file.pretty_type ?? file.filetype),
  );
}

function renderBoardPanel() {
  if (!state.board) return;
  const now = new Date(state.board.now);
  $('clock-now').textContent = new Intl.DateTimeFormat('en-US', {
    timeZone: me()?.tz,
    weekday: 'short',
    month: 'short',
    day: 'numeric',
    hour: 'numeric',
    minute: '2-digit',
  }).format(now);
  const offsetDays = state.board.clockOffsetMs / 86_400_000;
  $('clock-offset').textContent =
    state.board.clockOffsetMs > 60_000
      ? `+${offsetDays >= 1 ? `${Math.round(offsetDays * 10) / 10} d` : `${Math.round(state.board.clockOffsetMs / 3_600_000)} h`} ahead`
      : '';
  $('board').replaceChildren(
    renderBoard(state.board, {
      now,
      commit: (pipeline) =>
        api(`/api/pipelines/${encodeURIComponent(pipeline)}/commit`, {}).then(
          (result) => toast(`Committed ${result.revisionId} to ${pipeline}`),
          (error) => toast(error.message, 'error'),
        ),
      commitReplacement: (pipeline) =>
        api(`/api/pipelines/${encodeURIComponent(pipeline)}/commit`, { replacement: true }).then(
          (result) => toast(`Committed ${result.revisionId} to ${pipeline}: its change set replaces OrdersTable`),
          (error) => toast(error.message, 'error'),
        ),
      commitProduct: (product) =>
        api(`/api/products/${encodeURIComponent(product)}/commit`, {}).then(
          (result) =>
            toast(`Committed to ${result.commits.map((c) => `${c.pipelineName} (${c.revisionId})`).join(', ')}`),
          (error) => toast(error.message, 'error'),
        ),
      failNext: (pipeline, stage, action) =>
        api(`/api/pipelines/${encodeURIComponent(pipeline)}/fail-next`, { stage, action }).then(
          () => toast(`The next ${action} in ${pipeline} › ${stage} will fail`),
          (error) => toast(error.message, 'error'),
        ),
      answerInConsole: (pipeline, stage) =>
        api(`/api/pipelines/${encodeURIComponent(pipeline)}/console`, { stage, status: 'Approved' }).then(
          () => toast(`Approved ${pipeline} › ${stage} in the AWS console`),
          (error) => toast(error.message, 'error'),
        ),
      stopExecution: (pipeline, stage) =>
        api(`/api/pipelines/${encodeURIComponent(pipeline)}/stop`, { stage }).then(
          () => toast(`Stopped the execution in ${pipeline} › ${stage}`),
          (error) => toast(error.message, 'error'),
        ),
    }),
  );
}

function renderActivity() {
  const time = new Intl.DateTimeFormat('en-GB', {
    timeZone: me()?.tz,
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
  $('activity').replaceChildren(
    ...state.activity
      .slice(-12)
      .reverse()
      .map((item) =>
        h(
          'li',
          {},
          h('time', { datetime: item.at }, time.format(new Date(item.at))),
          h('span', { html: mrkdwnToHtml(item.line, mrkdwnContext()) }),
        ),
      ),
  );
  $('activity-empty').hidden = state.activity.length > 0;
}

// Threads

function openThread(channelId, ts) {
  state.thread = { channel: channelId, ts };
  $('tab-thread').hidden = false;
  $('thread-close').hidden = false;
  showTab('thread');
  renderThread();
}

function closeThread() {
  state.thread = null;
  delete $('thread-panel').dataset.thread;
  $('tab-thread').hidden = true;
  $('thread-close').hidden = true;
  showTab('board');
}

function showTab(which) {
  $('tab-board').setAttribute('aria-selected', String(which === 'board'));
  $('tab-thread').setAttribute('aria-selected', String(which === 'thread'));
  $('board-panel').hidden = which !== 'board';
  $('thread-panel').hidden = which !== 'thread';
}

function renderThread() {
  const { channel: channelId, ts } = state.thread;
  const panel = $('thread-panel');
  const draft = panel.querySelector('textarea')?.value ?? '';
  const atBottom = panel.scrollHeight - panel.scrollTop - panel.clientHeight < 80 || panel.dataset.thread !== ts;
  panel.dataset.thread = ts;
  const items = visibleItems(channelId, ts);
  const reply = h('textarea', { rows: 2, placeholder: 'Reply…', class: 'thread-input' }, draft);
  panel.replaceChildren(
    h(
      'div',
      { class: 'thread-head' },
      h('b', {}, 'Thread'),
      h('span', { class: 'muted' }, ` #${channel(channelId)?.name ?? ''}`),
    ),
    h(
      'div',
      { class: 'thread-messages' },
      items.map((item, index) => [
        messageView(item, channelId, { inThread: true }),
        index === 0 && items.length > 1
          ? h('div', { class: 'thread-divider' }, `${items.length - 1} ${items.length === 2 ? 'reply' : 'replies'}`)
          : null,
      ]),
    ),
    h(
      'form',
      {
        class: 'thread-reply',
        onsubmit: (event) => {
          event.preventDefault();
          const text = reply.value.trim();
          if (!text) return;
          api('/api/act/message', { user: state.me, channel: channelId, text, threadTs: ts }).then(
            () => {
              reply.value = '';
            },
            (error) => toast(error.message, 'error'),
          );
        },
      },
      reply,
      h('button', { type: 'submit', class: 'btn btn-small' }, 'Reply'),
    ),
  );
  // Replies are at the bottom, as in Slack: open a thread there, and stay there as replies arrive.
  if (atBottom) panel.scrollTop = panel.scrollHeight;
}

// Acting

function switchPerson(id) {
  state.me = id;
  localStorage.setItem('greenlight.me', id);
  renderAll();
}

function switchChannel(id) {
  state.channel = id;
  state.unread[id] = 0;
  localStorage.setItem('greenlight.channel', id);
  renderChannels();
  renderMessages();
  const list = $('messages');
  list.scrollTop = list.scrollHeight;
}

async function clickButton(channelId, message, element, block) {
  if (element.confirm && !(await confirmDialog(element.confirm))) return;
  if (element.url) window.open(element.url, '_blank', 'noopener');
  const key = `${message.ts}/${block.block_id}/${element.action_id}`;
  state.busy.add(key);
  state.failures.delete(message.ts);
  scheduleMessages();
  try {
    const result = await api('/api/act/click', {
      user: state.me,
      channel: channelId,
      ts: message.ts,
      actionId: element.action_id,
      ...(element.value === undefined ? {} : { value: element.value }),
    });
    if (result.displayError) state.failures.set(message.ts, result.displayError);
  } catch (error) {
    state.failures.set(message.ts, error.message);
  } finally {
    state.busy.delete(key);
    scheduleMessages();
  }
}

function dismiss(item) {
  if (item.kind === 'notice') {
    state.localNotices = state.localNotices.filter((n) => n !== item.message);
    scheduleMessages();
    return;
  }
  api('/api/act/dismiss', { ts: item.message.ts }).catch((error) => toast(error.message, 'error'));
}

/** Longer than most systems' double-click interval (500 ms by default). */
const DOUBLE_CLICK_MS = 600;

/** Slack's confirmation dialog: nothing is sent unless the person confirms. */
function confirmDialog(confirm) {
  const root = $('dialog-root');
  return new Promise((resolve) => {
    const done = (answer) => {
      root.hidden = true;
      root.replaceChildren();
      document.removeEventListener('keydown', onKey);
      resolve(answer);
    };
    const onKey = (event) => {
      if (event.key === 'Escape') done(false);
    };
    const style = confirm.style === 'danger' ? 'danger' : 'primary';
    const ok = h(
      'button',
      { type: 'button', class: `b-button ${style}`, onclick: () => done(true) },
      confirm.confirm?.text ?? 'Yes',
    );
    root.replaceChildren(
      h(
        'div',
        { class: 'dialog', role: 'alertdialog', 'aria-modal': 'true', 'aria-labelledby': 'dialog-title' },
        h('h2', { id: 'dialog-title', html: plainToHtml(confirm.title?.text ?? 'Are you sure?') }),
        h('div', { class: 'dialog-text', html: textHtml(confirm.text, { mrkdwn: mrkdwnContext() }) }),
        h(
          'div',
          { class: 'dialog-buttons' },
          h(
            'button',
            { type: 'button', class: 'b-button', onclick: () => done(false) },
            confirm.deny?.text ?? 'Cancel',
          ),
          ok,
        ),
      ),
    );
    // A click beside the dialog cancels it, but not the second click of a double-click on the
    // button that opened it, which lands on the backdrop a moment later.
    const openedAt = performance.now();
    root.onclick = (event) => {
      if (event.target !== root || event.detail > 1 || performance.now() - openedAt < DOUBLE_CLICK_MS) return;
      done(false);
    };
    root.hidden = false;
    document.addEventListener('keydown', onKey);
    ok.focus();
  });
}

let shownView = '';
function renderModal() {
  const root = $('modal-root');
  const top = (state.views[state.me] ?? []).at(-1);
  const key = top ? `${top.view.id}:${top.view.hash}:${JSON.stringify(top.errors)}:${state.me}` : '';
  if (key === shownView) return;
  shownView = key;
  if (!top) {
    root.hidden = true;
    root.replaceChildren();
    return;
  }
  const { view, errors } = top;
  const body = renderBlocks(view.blocks, {
    mrkdwn: mrkdwnContext(),
    surface: 'modal',
    values: view.state?.values,
    errors,
  });
  const submit = view.submit ? h('button', { type: 'submit', class: 'b-button primary' }, view.submit.text) : null;
  const close = () =>
    api('/api/act/close', { user: state.me, viewId: view.id }).catch((error) => toast(error.message, 'error'));
  const form = h(
    'form',
    {
      class: 'modal',
      role: 'dialog',
      'aria-modal': 'true',
      'aria-labelledby': 'modal-title',
      dataset: { viewId: view.id, callbackId: view.callback_id },
      onsubmit: async (event) => {
        event.preventDefault();
        if (state.submitting) return;
        state.submitting = true;
        if (submit) submit.disabled = true;
        try {
          await api('/api/act/submit', { user: state.me, viewId: view.id, values: collectValues(form) });
        } catch (error) {
          toast(error.message, 'error');
        } finally {
          state.submitting = false;
          // The app's answer may have redrawn the modal (errors): enable whichever button is on screen.
          for (const button of $('modal-root').querySelectorAll('button[type=submit]')) button.disabled = false;
        }
      },
    },
    h(
      'header',
      { class: 'modal-head' },
      h('img', { src: '/favicon.svg', alt: '', width: 24, height: 24 }),
      h('h2', { id: 'modal-title', html: plainToHtml(view.title?.text ?? '') }),
      h('button', { type: 'button', class: 'modal-x', 'aria-label': 'Close', onclick: close }, '×'),
    ),
    h('div', { class: 'modal-body' }, body),
    h(
      'footer',
      { class: 'modal-foot' },
      h('button', { type: 'button', class: 'b-button', onclick: close }, view.close?.text ?? 'Cancel'),
      submit,
    ),
  );
  root.replaceChildren(form);
  root.hidden = false;
  const first = form.querySelector('.invalid') ?? form.querySelector('textarea, input, select');
  first?.focus();
}

// Composer

function renderComposerHint() {
  const who = me();
  $('composer-hint').replaceChildren(
    h('span', {}, 'Posting as ', h('b', {}, who?.realName ?? '—')),
    ' · ',
    h('span', {}, 'try ', h('code', {}, '/release shop qa')),
    ' · Enter sends, Shift+Enter adds a line',
  );
}

function updateCommandHints() {
  const input = $('composer-input');
  const hints = $('command-hints');
  const text = input.value;
  const typed = /^\/\S*$/.exec(text.split(' ')[0] ?? '') && !text.includes('\n') ? text.split(' ')[0] : '';
  const matches = typed ? state.commands.filter((c) => c.command.startsWith(typed)) : [];
  hints.hidden = matches.length === 0;
  hints.replaceChildren(
    ...matches.map((c) =>
      h(
        'button',
        {
          type: 'button',
          class: 'command-hint',
          onclick: () => {
            input.value = `${c.command} `;
            input.focus();
            updateCommandHints();
          },
        },
        h('b', {}, c.command),
        c.usage_hint ? h('span', { class: 'muted' }, ` ${c.usage_hint}`) : null,
        h('div', { class: 'command-description' }, c.description ?? ''),
      ),
    ),
  );
}

async function send(text) {
  const channelId = state.channel;
  if (text.startsWith('/')) {
    const [command = '', ...rest] = text.split(' ');
    try {
      const result = await api('/api/act/command', {
        user: state.me,
        channel: channelId,
        command,
        text: rest.join(' '),
      });
      if (result.displayError) notice(channelId, `${command} failed: ${result.displayError}`);
    } catch (error) {
      notice(channelId, `${command} failed: ${error.message}`);
    }
    return;
  }
  await api('/api/act/message', { user: state.me, channel: channelId, text });
}

function notice(channelId, text) {
  state.localNotices.push({ channel: channelId, user: state.me, ts: String(Date.now() / 1000), text });
  scheduleMessages();
}

function setUpComposer() {
  const form = $('composer');
  const input = $('composer-input');
  const grow = () => {
    input.style.height = 'auto';
    input.style.height = `${Math.min(input.scrollHeight, 160)}px`;
  };
  input.addEventListener('input', () => {
    grow();
    updateCommandHints();
  });
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = '';
    grow();
    updateCommandHints();
    send(text).catch((error) => toast(error.message, 'error'));
  });
}

/** Slack permalinks (`…/archives/C…/p1712345678123456`) lead to the message here, not to a real workspace. */
function setUpPermalinks() {
  document.addEventListener('click', (event) => {
    const link = event.target instanceof Element ? event.target.closest('a[href]') : null;
    const match = link && /\/archives\/([A-Z0-9]+)\/p(\d{10})(\d{6})/.exec(link.getAttribute('href') ?? '');
    if (!match || !channel(match[1])) return;
    event.preventDefault();
    switchChannel(match[1]);
    const target = $('messages').querySelector(`[data-ts="${match[2]}.${match[3]}"]`);
    if (!target) return;
    target.scrollIntoView({ block: 'center' });
    target.classList.add('highlight');
    setTimeout(() => target.classList.remove('highlight'), 2000);
  });
}

function setUpPanel() {
  $('tab-board').addEventListener('click', () => showTab('board'));
  $('tab-thread').addEventListener('click', () => showTab('thread'));
  $('thread-close').addEventListener('click', closeThread);
  for (const button of document.querySelectorAll('[data-advance-days], [data-advance-hours]')) {
    button.addEventListener('click', () => {
      const days = Number(button.dataset.advanceDays ?? 0);
      const hours = Number(button.dataset.advanceHours ?? 0);
      api('/api/clock', { days, hours }).then(
        () => toast(`Pipelines clock moved ${days ? `${days} day${days === 1 ? '' : 's'}` : `${hours} h`} ahead`),
        (error) => toast(error.message, 'error'),
      );
    });
  }
  $('post-digest').addEventListener('click', () => {
    api('/api/digest', {}).then(
      (answer) =>
        toast(
          answer.result === 'already-posted'
            ? 'Today’s digest is out already (once a day)'
            : 'Digest posted in #delivery-digest',
        ),
      (error) => toast(error.message, 'error'),
    );
  });
  // Escape closes the modal as Slack's Close button does.
  document.addEventListener('keydown', (event) => {
    if (event.key !== 'Escape' || !$('dialog-root').hidden) return;
    const top = (state.views[state.me] ?? []).at(-1);
    if (top) api('/api/act/close', { user: state.me, viewId: top.view.id }).catch(() => {});
  });
}

setUpComposer();
setUpPanel();
setUpPermalinks();
api('/api/commands')
  .then((result) => {
    state.commands = result.commands;
  })
  .catch(() => {});
connect();
