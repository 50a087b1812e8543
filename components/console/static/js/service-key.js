// Generated credentials (docs/service-keys.md): the "generate" options of a
// form, and the one-time download of the service key the API answers with.
// The service key holds the private key: it is offered as a file once,
// never rendered on the page, and dropped when the dialog closes.

import { h, field } from './ui.js';
import { openConfirmed } from './secret.js';

/** A "generate" checkbox with its options. `certificate` adds the
 *  validity. `onToggle(checked)` lets the form hide the upload fields. */
export function generateFields({ certificate, onToggle }) {
  const on = h('input', { type: 'checkbox', name: 'generate' });
  const algorithm = h('select', { name: 'generate-algorithm' },
    [['ES256', 'ES256 (P-256, default)'], ['EdDSA', 'EdDSA (Ed25519)']].map(([v, t]) => h('option', { value: v, text: t })));
  const options = h('div', { hidden: true },
    field('Key algorithm', algorithm),
    certificate
      ? field('Validity (days)', h('input', { name: 'generate-validity', type: 'number', min: 1, step: 1, placeholder: '90' }),
        'At most the maximum the deployment configures.')
      : null);
  on.addEventListener('change', () => {
    options.hidden = !on.checked;
    onToggle(on.checked);
  });
  const wrap = h('fieldset', { 'data-field': 'generate' },
    h('legend', { text: 'Generate' }),
    h('label', {}, on, certificate
      ? 'Let flowgate make the key and a certificate signed by its CA'
      : 'Let flowgate make the key pair'),
    options);
  return { element: wrap, checked: () => on.checked };
}

/** The `generate` field of a request from the form's values. */
export function generateBody(form) {
  const body = { algorithm: form.elements['generate-algorithm'].value };
  const days = form.elements['generate-validity'];
  if (days && days.value !== '') body.validity_days = Number(days.value);
  return body;
}

/** Offers `serviceKey` as a one-time download and resolves when the user
 *  has confirmed and closed the dialog. */
export function offerServiceKey({ title, serviceKey, account }) {
  return new Promise((resolve) => {
    let text = JSON.stringify(serviceKey, null, 2);
    const name = `${account}-service-key.json`;
    const status = h('span', { role: 'status', 'aria-live': 'polite' });
    const download = h('button', { type: 'button', class: 'primary', text: `Download ${name}`, 'data-testid': 'service-key-download' });
    download.addEventListener('click', () => {
      if (!text) return;
      const url = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
      const link = h('a', { href: url, download: name });
      document.body.append(link);
      link.click();
      link.remove();
      URL.revokeObjectURL(url);
      text = '';
      download.disabled = true;
      status.textContent = 'Downloaded. It cannot be downloaded again.';
    });
    const stored = h('input', { type: 'checkbox', name: 'stored' });
    const close = h('button', { type: 'button', text: 'Close', disabled: true });
    const details = serviceKey.certificatedetails
      ? [['Subject', serviceKey.certificatedetails.subjectdn], ['Serial', serviceKey.certificatedetails.serialnumber],
        ['Valid until', serviceKey.certificatedetails.validuntil]]
      : [['Key id', serviceKey.key_id], ['Algorithm', serviceKey.algorithm]];
    const dialog = h('dialog', { 'aria-labelledby': 'service-key-title', class: 'secret-dialog' },
      h('h2', { id: 'service-key-title', text: title }),
      h('p', { class: 'notice', role: 'alert' },
        h('strong', { text: 'One download only. ' }),
        'The service key holds the private key; flowgate keeps no copy. Store the file in your secret store; if it is lost, generate a new credential.'),
      [['client_id', serviceKey.clientid], ['Token URL', serviceKey.tokenurl], ...details]
        .map(([label, value]) => h('p', {}, h('strong', { text: `${label}: ` }), h('code', { text: String(value) }))),
      h('div', { class: 'actions' }, download, status),
      h('div', { class: 'checks' }, h('label', {}, stored, 'I have stored the service key safely')),
      h('div', { class: 'actions' }, close));
    openConfirmed(dialog, stored, close, () => {
      text = '';
      resolve();
    });
    download.focus();
  });
}
