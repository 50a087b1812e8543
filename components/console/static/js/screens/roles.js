// Roles: the built-in admin and auditor, and custom roles (named sets of
// permissions): create and delete. The API has no route that edits a role's
// permissions; to change one, create a new role and move the accounts.

import { api, enc } from '../api.js';
import { can } from '../session.js';
import { h, fill, time, badges, badge, table, field, checks, checkedValues, showError, clearErrors, confirmDialog, actionButton, announce } from '../ui.js';

const PERMISSIONS = [
  'accounts:read', 'accounts:write', 'grants:write', 'groups:read', 'groups:write',
  'roles:read', 'roles:write', 'audit:read', 'config:read', 'config:write', 'maintenance:write',
];

export async function render(main) {
  const roles = (await api('GET', '/roles')).items;
  const write = can('roles:write');
  const status = h('div', { 'aria-live': 'polite' });
  const reload = async (message) => { await render(main); if (message) announce(message); };
  const rows = roles.map((r) => {
    const cells = [h('span', {}, r.name, r.built_in ? [' ', badge('built-in')] : null), r.description || '—', badges(r.permissions), time(r.created_at)];
    if (write) {
      cells.push(r.built_in ? '' : actionButton('Delete', async () => {
        const ok = await confirmDialog({ title: `Delete role ${r.name}?`, body: h('p', { text: 'Refused while an account holds it.' }), confirm: 'Delete role', danger: true });
        if (!ok) return;
        await api('DELETE', `/roles/${enc(r.name)}`);
        await reload(`Role ${r.name} deleted.`);
      }, { cls: 'danger', where: status }));
    }
    return cells;
  });
  const headers = ['Role', 'Description', 'Permissions', 'Created'];
  if (write) headers.push('');
  let create = null;
  if (write) {
    const createStatus = h('div', { 'aria-live': 'polite' });
    create = h('form', { 'aria-label': 'Create a role' },
      h('h2', { text: 'Create role' }),
      h('div', { class: 'row' },
        field('Name', h('input', { name: 'name', autocomplete: 'off' })),
        field('Description', h('input', { name: 'description', autocomplete: 'off' }))),
      checks('Permissions', 'permissions', PERMISSIONS),
      h('button', { type: 'submit', class: 'primary', text: 'Create role' }),
      createStatus);
    create.addEventListener('submit', async (event) => {
      event.preventDefault();
      clearErrors(create);
      const body = { name: create.elements.name.value.trim(), permissions: checkedValues(create, 'permissions') };
      if (create.elements.description.value) body.description = create.elements.description.value;
      try {
        await api('POST', '/roles', body);
        await reload(`Role ${body.name} created.`);
      } catch (err) {
        showError(create, err, createStatus);
      }
    });
  }
  fill(main, h('h1', { text: 'Roles' }), status,
    table('Roles', headers, rows),
    h('p', { class: 'hint', text: 'A role\'s permissions cannot be edited in place (the API has no such route): create a new role, move the accounts to it, then delete the old one.' }),
    create);
}
