// One flow and its access tab: the accounts and groups that may invoke it,
// add and remove.

import { api, enc, accountId } from '../api.js';
import { can } from '../session.js';
import { h, fill, table, link, badge, badges, field, confirmDialog, actionButton, showError, announce } from '../ui.js';

export async function render(main, id) {
  const [flow, access] = await Promise.all([
    api('GET', `/flows/${enc(id)}`),
    api('GET', `/flows/${enc(id)}/access`),
  ]);
  const groups = can('groups:read') ? (await api('GET', '/groups')).items.map((g) => g.name) : [];
  const write = can('grants:write');
  const status = h('div', { 'aria-live': 'polite' });
  const reload = async (message) => {
    await render(main, id);
    if (message) announce(message);
  };
  const remove = (what, name, url) => actionButton('Remove', async () => {
    const ok = await confirmDialog({
      title: `Remove ${what} ${name} from ${flow.id}?`,
      body: h('p', { text: `${what === 'group' ? 'Its members' : 'It'} may no longer invoke ${flow.id} from the next request on.` }),
      confirm: 'Remove access', danger: true,
    });
    if (!ok) return;
    await api('DELETE', url);
    await reload(`${name} removed from ${flow.id}.`);
  }, { where: status });

  const accountRows = access.accounts.map((a) => {
    const cells = [link(`/accounts/${a.id}`, a.name), a.credential_type, badge(a.status, a.status)];
    if (write) cells.push(remove('account', a.name, `/flows/${enc(flow.id)}/access/${enc(a.id)}`));
    return cells;
  });
  const groupRows = access.groups.map((g) => {
    const cells = [g];
    if (write) cells.push(remove('group', g, `/flows/${enc(flow.id)}/access/groups/${enc(g)}`));
    return cells;
  });

  const forms = [];
  if (write) {
    const accountForm = h('form', { class: 'row', 'aria-label': 'Grant an account' },
      field('Account name or id', h('input', { name: 'account', list: 'account-names', autocomplete: 'off' })),
      h('datalist', { id: 'account-names' }),
      h('button', { type: 'submit', class: 'primary', text: 'Grant account' }));
    const input = accountForm.elements.account;
    input.addEventListener('input', async () => {
      if (input.value.length < 2) return;
      try {
        const found = await api('GET', `/accounts?name=${enc(input.value)}&limit=10`);
        fill(accountForm.querySelector('datalist'), found.items.map((a) => h('option', { value: a.name, text: a.id })));
      } catch { /* suggestions only */ }
    });
    accountForm.addEventListener('submit', async (event) => {
      event.preventDefault();
      const text = input.value.trim();
      try {
        const id = await accountId(text);
        await api('PUT', `/flows/${enc(flow.id)}/access/${enc(id)}`);
        await reload(`${text} may now invoke ${flow.id}.`);
      } catch (err) {
        if (err.body && !err.body.field) err.body.field = 'account';
        showError(accountForm, err, status);
      }
    });
    forms.push(accountForm);
    if (groups.length) {
      const groupForm = h('form', { class: 'row', 'aria-label': 'Grant a group' },
        field('Group', h('select', { name: 'group' }, groups.map((g) => h('option', { value: g, text: g })))),
        h('button', { type: 'submit', text: 'Grant group' }));
      groupForm.addEventListener('submit', async (event) => {
        event.preventDefault();
        try {
          await api('PUT', `/flows/${enc(flow.id)}/access/groups/${enc(groupForm.elements.group.value)}`);
          await reload(`Group ${groupForm.elements.group.value} may now invoke ${flow.id}.`);
        } catch (err) {
          if (err.body && !err.body.field) err.body.field = 'group';
          showError(groupForm, err, status);
        }
      });
      forms.push(groupForm);
    }
  }

  const accountHeaders = ['Account', 'Type', 'Status'];
  const groupHeaders = ['Group'];
  if (write) { accountHeaders.push(''); groupHeaders.push(''); }
  fill(main,
    h('h1', {}, 'Flow ', h('code', { text: flow.id })),
    h('dl', { class: 'facts' },
      h('dt', { text: 'Path prefix' }), h('dd', {}, h('code', { text: flow.path_prefix })),
      h('dt', { text: 'Methods' }), h('dd', {}, badges(flow.methods)),
      h('dt', { text: 'Project / environment' }), h('dd', { text: `${flow.project} / ${flow.environment}` }),
      h('dt', { text: 'Upstream' }), h('dd', { text: flow.proxy ? 'set (proxy mode)' : 'none (forward-auth)' }),
      h('dt', { text: 'Description' }), h('dd', { text: flow.description || '—' })),
    h('section', { 'aria-labelledby': 'access-title' },
      h('h2', { id: 'access-title', text: 'Access' }),
      status,
      forms,
      h('h3', { text: 'Accounts granted directly' }),
      table('Accounts granted directly', accountHeaders, accountRows, 'No accounts.'),
      h('h3', { text: 'Groups granted (each member may invoke it)' }),
      table('Groups granted', groupHeaders, groupRows, 'No groups.')));
}
