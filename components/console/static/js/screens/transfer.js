// Export and import: download the declarative document (digests only, never
// secrets); upload one, see the dry-run plan, then apply it.

import { api } from '../api.js';
import { can } from '../session.js';
import { h, fill, errorBox, field, announce } from '../ui.js';

function plan(result) {
  return [
    h('p', { text: `${result.changes.length} change(s), ${result.unchanged} unchanged.` }),
    h('ul', { class: 'diff', 'data-testid': 'import-plan' }, result.changes.map((c) =>
      h('li', { class: c.action, text: `${c.action} ${c.kind} ${c.name}` }))),
  ];
}

export async function render(main) {
  const exportStatus = h('div', { 'aria-live': 'polite' });
  const download = h('button', { type: 'button', class: 'primary', text: 'Download export' });
  download.addEventListener('click', async () => {
    download.disabled = true;
    fill(exportStatus, h('p', { class: 'loading', role: 'status', text: 'Exporting…' }));
    try {
      const doc = await api('GET', '/export');
      const blob = new Blob([JSON.stringify(doc, null, 2)], { type: 'application/json' });
      const url = URL.createObjectURL(blob);
      const a = h('a', { href: url, download: `flowgate-export-${new Date().toISOString().slice(0, 10)}.json` });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
      fill(exportStatus, h('p', { class: 'ok', role: 'status', text: `Exported ${doc.accounts.length} account(s), ${doc.groups.length} group(s), ${doc.roles.length} role(s).` }));
    } catch (err) {
      fill(exportStatus, errorBox(err));
    } finally {
      download.disabled = false;
    }
  });

  const file = h('input', { type: 'file', name: 'document', accept: 'application/json,.json' });
  const status = h('div', { 'aria-live': 'polite' });
  const result = h('div');
  const apply = h('button', { type: 'button', class: 'danger', text: 'Apply import', hidden: true });
  let text = null;
  const progress = (label) => h('div', { role: 'status' }, h('label', { for: 'import-progress', text: label }), h('progress', { id: 'import-progress' }));
  const check = h('button', { type: 'button', class: 'primary', text: 'Dry run' });
  check.addEventListener('click', async () => {
    apply.hidden = true;
    result.replaceChildren();
    if (!file.files[0]) { fill(status, errorBox('Choose a file first.')); return; }
    check.disabled = true;
    fill(status, progress('Checking the document (dry run)…'));
    try {
      text = await file.files[0].text();
      const r = await api('POST', '/import?dry_run=true', text);
      fill(status, h('p', { class: 'ok', role: 'status', text: 'Dry run: nothing was written.' }));
      fill(result, h('h2', { text: 'What applying would change' }), plan(r));
      apply.hidden = !can('config:write') || r.changes.length === 0;
    } catch (err) {
      fill(status, errorBox(err));
    } finally {
      check.disabled = false;
    }
  });
  apply.addEventListener('click', async () => {
    apply.disabled = true;
    check.disabled = true;
    fill(status, progress('Applying the import…'));
    try {
      const r = await api('POST', '/import', text);
      fill(status, h('p', { class: 'ok', role: 'status', text: 'Import applied.' }));
      fill(result, h('h2', { text: 'Applied' }), plan(r));
      apply.hidden = true;
      announce('Import applied.');
    } catch (err) {
      fill(status, errorBox(err));
    } finally {
      apply.disabled = false;
      check.disabled = false;
    }
  });

  fill(main,
    h('h1', { text: 'Export and import' }),
    h('section', { 'aria-labelledby': 'export-title' },
      h('h2', { id: 'export-title', text: 'Export' }),
      h('p', { text: 'Roles, groups, accounts and grants as one JSON document. Credentials appear only as keyed digests: safe to commit, useless without the pepper.' }),
      download, exportStatus),
    h('section', { 'aria-labelledby': 'import-title' },
      h('h2', { id: 'import-title', text: 'Import' }),
      h('p', { text: 'Creates or updates what the document names; deletes nothing. A dry run shows the changes first.' }),
      field('Export document (JSON)', file),
      h('div', { class: 'actions' }, check, apply),
      status, result));
}
