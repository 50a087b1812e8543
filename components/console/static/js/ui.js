// DOM helpers. Every value is set with textContent or as a property: no
// string of data ever becomes HTML.

/** Creates an element. `attrs`: attributes, except `on*` (listeners), `text`
 *  (textContent) and a few properties (value, checked, disabled, hidden). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'text') el.textContent = String(value);
    else if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2), value);
    else if (['value', 'checked', 'disabled', 'hidden', 'selected'].includes(name)) el[name] = value;
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces the children of `el`. */
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** A time (Unix seconds) in the viewer's locale, with UTC on hover. */
export function time(seconds) {
  if (seconds === undefined || seconds === null) return h('span', { class: 'muted', text: '—' });
  const date = new Date(seconds * 1000);
  return h('time', {
    datetime: date.toISOString(),
    title: `${date.toISOString().replace('T', ' ').replace(/\.\d+Z$/, '')} UTC`,
    text: date.toLocaleString(),
  });
}

export function badge(text, cls = '') {
  return h('span', { class: `badge ${cls}`.trim(), text });
}

export function badges(list) {
  if (!list || list.length === 0) return h('span', { text: '—' });
  return list.map((item) => badge(item));
}

/** Says `text` to screen readers. */
export function announce(text) {
  const region = document.getElementById('announce');
  if (region) region.textContent = text;
}

export function loading(text = 'Loading…') {
  return h('p', { class: 'loading', role: 'status', text });
}

/** An error block for a failed call: the API's message, never a guess. */
export function errorBox(err) {
  const message = err && err.message ? err.message : String(err);
  return h('div', { class: 'error', role: 'alert' }, message);
}

/** A labelled input. Returns the wrapper; the control has `name` as id. */
export function field(label, control, hint) {
  const id = control.id || `f-${control.name || Math.random().toString(36).slice(2)}`;
  control.id = id;
  const wrap = h('div', { class: 'field', 'data-field': control.name || '' },
    h('label', { for: id, text: label }), control);
  if (hint) {
    const hintId = `${id}-hint`;
    control.setAttribute('aria-describedby', hintId);
    wrap.append(h('p', { class: 'hint', id: hintId, text: hint }));
  }
  return wrap;
}

/** A group of checkboxes named `name`, one per option. */
export function checks(legend, name, options, selected = []) {
  return h('fieldset', { class: 'checks', 'data-field': name },
    h('legend', { text: legend }),
    options.length === 0 ? h('span', { text: 'none defined' }) : options.map((option) =>
      h('label', {},
        h('input', { type: 'checkbox', name, value: option, checked: selected.includes(option) }),
        option)));
}

export function checkedValues(form, name) {
  return [...form.querySelectorAll(`input[name="${name}"]:checked`)].map((i) => i.value);
}

/** Clears the field errors of `form`. */
export function clearErrors(form) {
  form.querySelectorAll('.field-error').forEach((e) => e.remove());
  form.querySelectorAll('[aria-invalid]').forEach((e) => e.removeAttribute('aria-invalid'));
}

/** Shows an API error beside the field it names (`field`, or its parent
 *  before a dot or bracket, e.g. `scope.project` → `scope.project`, then
 *  `scope`); errors naming no field of the form go to `fallback`. */
export function showError(form, err, fallback) {
  clearErrors(form);
  const name = err && err.body && err.body.field;
  let holder = null;
  if (name) {
    const candidates = [name, name.split(/[.[]/)[0]];
    for (const candidate of candidates) {
      holder = form.querySelector(`[data-field="${CSS.escape(candidate)}"]`);
      if (holder) break;
    }
  }
  if (!holder) {
    fill(fallback, errorBox(err));
    return;
  }
  fallback.replaceChildren();
  const id = `err-${Math.random().toString(36).slice(2)}`;
  const message = h('p', { class: 'field-error', id, role: 'alert', text: err.message });
  holder.append(message);
  const control = holder.querySelector('input, select, textarea');
  if (control) {
    control.setAttribute('aria-invalid', 'true');
    const described = control.getAttribute('aria-describedby');
    control.setAttribute('aria-describedby', described ? `${described} ${id}` : id);
    control.focus();
  }
}

/** A modal confirmation. Resolves true when confirmed. */
export function confirmDialog({ title, body, confirm = 'Confirm', danger = false, requireText }) {
  return new Promise((resolve) => {
    const input = requireText
      ? h('input', { type: 'text', name: 'confirm-text', autocomplete: 'off' })
      : null;
    const ok = h('button', { type: 'submit', class: danger ? 'danger' : 'primary', text: confirm, disabled: !!requireText });
    const cancel = h('button', { type: 'button', text: 'Cancel' });
    const form = h('form', { method: 'dialog' },
      h('h2', { text: title }),
      body,
      input ? field(`Type ${requireText} to confirm`, input) : null,
      h('div', { class: 'actions' }, ok, cancel));
    const dialog = h('dialog', { 'aria-label': title }, form);
    if (input) input.addEventListener('input', () => { ok.disabled = input.value !== requireText; });
    let answer = false;
    ok.addEventListener('click', () => { answer = true; });
    cancel.addEventListener('click', () => dialog.close());
    dialog.addEventListener('close', () => { dialog.remove(); resolve(answer); });
    document.body.append(dialog);
    dialog.showModal();
    (input || cancel).focus();
  });
}

/** A button that runs `action` with a busy state, showing failures in `where`. */
export function actionButton(label, action, { cls = '', where } = {}) {
  const button = h('button', { type: 'button', class: cls, text: label });
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      await action();
    } catch (err) {
      if (where) fill(where, errorBox(err));
    } finally {
      button.disabled = false;
    }
  });
  return button;
}

/** A table with a header row; `rows` are arrays of cells (nodes or text). */
export function table(caption, headers, rows, empty = 'Nothing here yet.') {
  return h('div', { class: 'table-wrap' },
    h('table', {},
      h('caption', { class: 'visually-hidden', text: caption }),
      h('thead', {}, h('tr', {}, headers.map((t) => h('th', { scope: 'col', text: t })))),
      h('tbody', {}, rows.length === 0
        ? h('tr', {}, h('td', { class: 'empty', colspan: headers.length, text: empty }))
        : rows.map((cells) => h('tr', {}, cells.map((c) => h('td', {}, c)))))));
}

/** A link inside the console. */
export function link(hash, text) {
  return h('a', { href: `#${hash}`, text });
}

/** Cursor paging over an API list answering `next`: `paging.cursors[i]` is
 *  the cursor that fetches page i. Returns the pager for a page whose answer
 *  carried `next`; the buttons call `load` again. */
export function newPaging() {
  return { cursors: [''], page: 0 };
}

export function pager(paging, next, load, [back, forward] = ['Previous page', 'Next page']) {
  if (next) paging.cursors[paging.page + 1] = next;
  const move = (by) => () => { paging.page += by; load(); };
  return h('nav', { class: 'pager', 'aria-label': 'Pages' },
    h('button', { type: 'button', text: back, disabled: paging.page === 0, onclick: move(-1) }),
    h('span', { text: `Page ${paging.page + 1}` }),
    h('button', { type: 'button', text: forward, disabled: !next, onclick: move(1) }));
}

/** Runs `load` from the first page whenever `form` is submitted. */
export function onFilter(form, paging, load) {
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    paging.cursors.length = 1;
    paging.page = 0;
    load();
  });
}
