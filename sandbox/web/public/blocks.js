/**
 * Block Kit → DOM, the way Slack's client draws it: header, section (text, fields, accessory),
 * context, divider, actions (buttons with styles and confirm dialogs), image, markdown, rich_text,
 * and, in modals, input blocks with the app's validation errors. Unknown blocks say so.
 */
import { escapeHtml, mrkdwnToHtml, plainToHtml } from './mrkdwn.js';

/** A tiny element builder: attributes, `on*` listeners, children (strings are text). */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') element.addEventListener(name.slice(2), value);
    else if (name === 'html') element.innerHTML = value;
    else if (name === 'dataset') Object.assign(element.dataset, value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/** A text object (plain_text or mrkdwn) as HTML. */
export function textHtml(text, context) {
  if (!text) return '';
  if (typeof text === 'string') return mrkdwnToHtml(text, context.mrkdwn);
  return text.type === 'mrkdwn'
    ? mrkdwnToHtml(text.text, context.mrkdwn)
    : plainToHtml(text.text, text.emoji !== false);
}

/**
 * @param {object[]} blocks
 * @param {{ mrkdwn: object, surface: 'message' | 'modal', onButton?: Function, values?: object,
 *   errors?: Record<string, string>, busy?: Set<string> }} context
 */
export function renderBlocks(blocks, context) {
  return h(
    'div',
    { class: 'blocks' },
    (blocks ?? []).map((block) => renderBlock(block, context)),
  );
}

function renderBlock(block, context) {
  switch (block.type) {
    case 'header':
      return h('div', { class: 'b-header', html: textHtml(block.text, context) });
    case 'section':
      return section(block, context);
    case 'context':
      return h(
        'div',
        { class: 'b-context' },
        (block.elements ?? []).map((element) =>
          element.type === 'image'
            ? imagePlaceholder(element, 'b-context-image')
            : h('span', { class: 'b-context-item', html: textHtml(element, context) }),
        ),
      );
    case 'divider':
      return h('hr', { class: 'b-divider' });
    case 'actions':
      return h(
        'div',
        { class: 'b-actions' },
        (block.elements ?? []).map((element) => interactive(element, block, context)),
      );
    case 'image':
      return h(
        'figure',
        { class: 'b-image' },
        block.title ? h('figcaption', { html: textHtml(block.title, context) }) : null,
        imagePlaceholder(block, 'b-image-box'),
      );
    case 'markdown':
      return h('div', { class: 'b-section-text', html: mrkdwnToHtml(block.text, context.mrkdwn) });
    case 'rich_text':
      return h(
        'div',
        { class: 'b-rich' },
        (block.elements ?? []).map((element) => richElement(element, context)),
      );
    case 'input':
      return input(block, context);
    default:
      return h('div', { class: 'b-unknown' }, `[${block.type} block: not drawn by the sandbox]`);
  }
}

function section(block, context) {
  return h(
    'div',
    { class: `b-section${block.accessory ? ' has-accessory' : ''}` },
    h(
      'div',
      { class: 'b-section-main' },
      block.text ? h('div', { class: 'b-section-text', html: textHtml(block.text, context) }) : null,
      block.fields
        ? h(
            'div',
            { class: 'b-fields' },
            block.fields.map((field) => h('div', { class: 'b-field', html: textHtml(field, context) })),
          )
        : null,
    ),
    block.accessory
      ? h(
          'div',
          { class: 'b-accessory' },
          block.accessory.type === 'image'
            ? imagePlaceholder(block.accessory, 'b-thumb')
            : interactive(block.accessory, block, context),
        )
      : null,
  );
}

/** Images stay offline: the sandbox shows their alt text instead of fetching them. */
function imagePlaceholder(element, className) {
  return h('span', { class: className, title: element.alt_text ?? '' }, '🖼 ', element.alt_text ?? 'image');
}

function interactive(element, block, context) {
  if (element.type === 'button') {
    const key = `${block.block_id}/${element.action_id}`;
    const busy = context.busy?.has(key);
    const style = element.style === 'primary' ? ' primary' : element.style === 'danger' ? ' danger' : '';
    return h(
      'button',
      {
        type: 'button',
        class: `b-button${style}${busy ? ' busy' : ''}`,
        disabled: busy || !context.onButton,
        title: element.url ? element.url : undefined,
        dataset: { actionId: element.action_id ?? '', blockId: block.block_id ?? '' },
        onclick: () => context.onButton?.(element, block),
      },
      h('span', { html: plainToHtml(element.text?.text ?? '') }),
      element.url ? h('span', { class: 'b-button-external', 'aria-hidden': 'true' }, ' ↗') : null,
    );
  }
  if (element.type === 'overflow' || element.type?.endsWith('_select') || element.type === 'datepicker') {
    const label = element.placeholder?.text ?? element.initial_option?.text?.text ?? '…';
    return h(
      'button',
      { type: 'button', class: 'b-button', disabled: true, title: `${element.type} (not interactive in the sandbox)` },
      label,
      ' ▾',
    );
  }
  return h('span', { class: 'b-unknown' }, `[${element.type}]`);
}

function richElement(element, context) {
  const children = (element.elements ?? []).map((part) => richPart(part, context));
  switch (element.type) {
    case 'rich_text_section':
      return h('div', {}, children);
    case 'rich_text_preformatted':
      return h('pre', { class: 'md-pre' }, children);
    case 'rich_text_quote':
      return h('blockquote', { class: 'md-quote' }, children);
    case 'rich_text_list':
      return h(
        element.style === 'ordered' ? 'ol' : 'ul',
        { class: 'b-list' },
        (element.elements ?? []).map((item) => h('li', {}, richElement(item, context))),
      );
    default:
      return h('span', { class: 'b-unknown' }, `[${element.type}]`);
  }
}

function richPart(part, context) {
  const style = part.style ?? {};
  const wrap = (node) => {
    let out = node;
    if (style.code) out = h('code', { class: 'md-code' }, out);
    if (style.bold) out = h('b', {}, out);
    if (style.italic) out = h('i', {}, out);
    if (style.strike) out = h('s', {}, out);
    return out;
  };
  switch (part.type) {
    case 'text':
      return wrap(document.createTextNode(part.text ?? ''));
    case 'link':
      return /^(https?:|mailto:)/i.test(part.url ?? '')
        ? wrap(
            h(
              'a',
              { class: 'md-link', href: part.url, target: '_blank', rel: 'noopener noreferrer' },
              part.text ?? part.url,
            ),
          )
        : wrap(document.createTextNode(part.text ?? part.url ?? ''));
    case 'user':
      return h('span', {
        class: 'md-mention',
        html: `@${escapeHtml(context.mrkdwn.userName?.(part.user_id) ?? part.user_id)}`,
      });
    case 'channel':
      return h('span', { class: 'md-channel' }, `#${context.mrkdwn.channelName?.(part.channel_id) ?? part.channel_id}`);
    case 'emoji':
      return h('span', { html: plainToHtml(`:${part.name}:`) });
    default:
      return h('span', { class: 'b-unknown' }, `[${part.type}]`);
  }
}

function input(block, context) {
  const element = block.element ?? {};
  const error = context.errors?.[block.block_id];
  const id = `input-${block.block_id}`;
  const current = context.values?.[block.block_id]?.[element.action_id];
  const label = h(
    'label',
    { class: 'b-input-label', for: id },
    h('span', { html: plainToHtml(block.label?.text ?? '') }),
    block.optional ? h('span', { class: 'b-optional' }, ' (optional)') : null,
  );
  let field;
  if (element.type === 'plain_text_input') {
    const value = typeof current?.value === 'string' ? current.value : (element.initial_value ?? '');
    const common = {
      id,
      class: `b-text-input${error ? ' invalid' : ''}`,
      placeholder: element.placeholder?.text,
      maxlength: element.max_length,
      minlength: element.min_length,
      'aria-invalid': error ? 'true' : undefined,
      dataset: { blockId: block.block_id, actionId: element.action_id ?? '' },
    };
    field = element.multiline
      ? h('textarea', { ...common, rows: 4 }, value)
      : h('input', { ...common, type: 'text', value });
  } else if (element.type === 'static_select' || element.type === 'radio_buttons') {
    const selected = current?.selected_option?.value ?? element.initial_option?.value ?? '';
    field = h(
      'select',
      {
        id,
        class: `b-select${error ? ' invalid' : ''}`,
        dataset: { blockId: block.block_id, actionId: element.action_id ?? '', kind: 'option' },
      },
      h('option', { value: '' }, element.placeholder?.text ?? 'Choose…'),
      (element.options ?? []).map((option) =>
        h('option', { value: option.value, selected: option.value === selected }, option.text?.text ?? option.value),
      ),
    );
  } else {
    field = h('div', { class: 'b-unknown' }, `[${element.type} input: not supported by the sandbox]`);
  }
  const counter =
    element.type === 'plain_text_input' && element.max_length
      ? h('span', { class: 'b-counter', dataset: { counterFor: id } }, '')
      : null;
  const wrapper = h(
    'div',
    { class: `b-input${error ? ' has-error' : ''}`, dataset: { blockId: block.block_id } },
    label,
    field,
    h(
      'div',
      { class: 'b-input-foot' },
      error
        ? h('div', { class: 'b-error', role: 'alert' }, error)
        : block.hint
          ? h('div', { class: 'b-hint', html: textHtml(block.hint, context) })
          : h('span'),
      counter,
    ),
  );
  if (counter) {
    const update = () => {
      const left = element.max_length - field.value.length;
      counter.textContent = left <= 100 ? String(left) : '';
      counter.classList.toggle('over', left < 0);
    };
    field.addEventListener('input', update);
    update();
  }
  return wrapper;
}

/** What the person entered in a modal, keyed by block_id, as the scripting API's `values` takes it. */
export function collectValues(container) {
  const values = {};
  for (const field of container.querySelectorAll('[data-block-id][data-action-id]')) {
    if (
      !(field instanceof HTMLInputElement || field instanceof HTMLTextAreaElement || field instanceof HTMLSelectElement)
    )
      continue;
    values[field.dataset.blockId] = field.value === '' ? null : field.value;
  }
  return values;
}
