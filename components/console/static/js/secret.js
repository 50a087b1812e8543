// The "secret shown once" dialog: the value, a copy button, a warning, and a
// confirmation before it can be closed. On close the value is removed from
// the page; the console keeps it nowhere else.

import { h } from './ui.js';

/** Shows `secret` (plus non-secret `details`, label → value) and resolves
 *  once the user has confirmed and closed the dialog. */
export function showSecret({ title, secret, details = [] }) {
  return new Promise((resolve) => {
    const value = h('code', { class: 'secret-box', id: 'secret-value', 'data-testid': 'secret-value', text: secret });
    const copied = h('span', { role: 'status', 'aria-live': 'polite' });
    const copy = h('button', { type: 'button', text: 'Copy' });
    copy.addEventListener('click', async () => {
      try {
        await navigator.clipboard.writeText(value.textContent);
        copied.textContent = 'Copied.';
      } catch {
        const range = document.createRange();
        range.selectNodeContents(value);
        const selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
        copied.textContent = 'Copying is not allowed here: the value is selected, press Ctrl+C.';
      }
    });
    const stored = h('input', { type: 'checkbox', name: 'stored' });
    const close = h('button', { type: 'button', class: 'primary', text: 'Close', disabled: true });
    const dialog = h('dialog', { 'aria-labelledby': 'secret-title', class: 'secret-dialog' },
      h('h2', { id: 'secret-title', text: title }),
      h('p', { class: 'notice', role: 'alert' },
        h('strong', { text: 'You will not see this again. ' }),
        'flowgate stores only a keyed hash of it. Copy it now into your secret store; if it is lost, reset the credential.'),
      details.map(([label, text]) => h('p', {}, h('strong', { text: `${label}: ` }), h('code', { text }))),
      value,
      h('div', { class: 'actions' }, copy, copied),
      h('div', { class: 'checks' }, h('label', {}, stored, 'I have stored this secret safely')),
      h('div', { class: 'actions' }, close));
    openConfirmed(dialog, stored, close, () => {
      value.textContent = '';
      resolve();
    });
    copy.focus();
  });
}

/** Shows `dialog` modally; it closes only through `close`, which `stored`
 *  (the "I have stored it" checkbox) enables, or Escape once it is checked.
 *  On close the dialog leaves the page and `cleanup` runs. */
export function openConfirmed(dialog, stored, close, cleanup) {
  stored.addEventListener('change', () => { close.disabled = !stored.checked; });
  // Escape must not close it before the confirmation.
  dialog.addEventListener('cancel', (event) => {
    if (!stored.checked) event.preventDefault();
  });
  close.addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => {
    dialog.remove();
    cleanup();
  });
  document.body.append(dialog);
  dialog.showModal();
}

