// Groups: create, members (add, remove), delete. A group's flows are granted
// on each flow's access tab.

import { api, enc, accountId } from '../api.js';
import { can } from '../session.js';
import { h, fill, time, badges, link, field, showError, clearErrors, confirmDialog, actionButton, announce, table } from '../ui.js';

export async function render(main) {
  const groups = (await api('GET', '/groups')).items;
  const write = can('groups:write');
  const status = h('div', { 'aria-live': 'polite' });
  const reload = async (message) => { await render(main); if (message) announce(message); };

  const cards = groups.map((g) => {
    const members = g.members.map((m) => {
      const cells = [link(`/accounts/${m}`, m)];
      if (write) {
        cells.push(actionButton('Remove', async () => {
          const ok = await confirmDialog({ title: `Remove ${m} from ${g.name}?`, body: h('p', { text: 'It loses the flows granted to the group.' }), confirm: 'Remove member', danger: true });
          if (!ok) return;
          await api('DELETE', `/groups/${enc(g.name)}/members/${enc(m)}`);
          await reload('Member removed.');
        }, { where: status }));
      }
      return cells;
    });
    const parts = [
      h('h2', { text: g.name }),
      h('p', { text: g.description || '—' }),
      h('p', {}, h('strong', { text: 'Flows: ' }), badges(g.grants)),
      h('p', {}, h('strong', { text: 'Created: ' }), time(g.created_at)),
      table(`Members of ${g.name}`, write ? ['Member', ''] : ['Member'], members, 'No members.'),
    ];
    if (write) {
      const add = h('form', { class: 'row', 'aria-label': `Add a member to ${g.name}` },
        field('Account name or id', h('input', { name: 'account', id: `add-${g.name}`, autocomplete: 'off' })),
        h('button', { type: 'submit', text: 'Add member' }));
      const addStatus = h('div');
      add.addEventListener('submit', async (event) => {
        event.preventDefault();
        try {
          const id = await accountId(add.elements.account.value.trim());
          await api('PUT', `/groups/${enc(g.name)}/members/${enc(id)}`);
          await reload('Member added.');
        } catch (err) {
          if (err.body && !err.body.field) err.body.field = 'account';
          showError(add, err, addStatus);
        }
      });
      parts.push(add, addStatus, h('div', { class: 'actions' }, actionButton('Delete group', async () => {
        const ok = await confirmDialog({ title: `Delete group ${g.name}?`, body: h('p', { text: 'Only a group without members can be deleted.' }), confirm: 'Delete group', danger: true });
        if (!ok) return;
        await api('DELETE', `/groups/${enc(g.name)}`);
        await reload(`Group ${g.name} deleted.`);
      }, { cls: 'danger', where: status })));
    }
    return h('article', { class: 'card', 'data-group': g.name }, parts);
  });

  let create = null;
  if (write) {
    const createStatus = h('div', { 'aria-live': 'polite' });
    create = h('form', { 'aria-label': 'Create a group' },
      h('h2', { text: 'Create group' }),
      h('div', { class: 'row' },
        field('Name', h('input', { name: 'name', autocomplete: 'off' })),
        field('Description', h('input', { name: 'description', autocomplete: 'off' })),
        h('button', { type: 'submit', class: 'primary', text: 'Create group' })),
      createStatus);
    create.addEventListener('submit', async (event) => {
      event.preventDefault();
      clearErrors(create);
      const body = { name: create.elements.name.value.trim() };
      if (create.elements.description.value) body.description = create.elements.description.value;
      try {
        await api('POST', '/groups', body);
        await reload(`Group ${body.name} created.`);
      } catch (err) {
        showError(create, err, createStatus);
      }
    });
  }
  fill(main, h('h1', { text: 'Groups' }), status, create,
    groups.length ? h('div', { class: 'cards' }, cards) : h('p', { text: 'No groups yet.' }));
}
