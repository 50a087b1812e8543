// Accounts: the table, with search, filters and paging (the API pages by id
// with a `next` cursor; the console keeps the cursors it has seen for "Previous").

import { api, query } from '../api.js';
import { can } from '../session.js';
import { h, fill, time, badge, badges, table, link, loading, errorBox, field, newPaging, pager, onFilter } from '../ui.js';

const TYPES = ['api_key', 'basic', 'client_secret', 'private_key_jwt', 'mtls', 'oidc', 'poller'];

function select(name, options, label) {
  return field(label, h('select', { name },
    h('option', { value: '', text: 'any' }),
    options.map((o) => h('option', { value: o, text: o }))));
}

function scopeText(scope) {
  if (!scope) return 'platform';
  return [scope.level, scope.project, scope.environment].filter(Boolean).join(' / ');
}

/** The nearest expiry the account carries: a certificate's end of validity,
 *  an API token's expiry, or the end of a reset's grace period. */
function expiry(account) {
  const times = [
    ...(account.certificates || []).map((c) => c.not_after),
    ...(account.tokens || []).map((t) => t.expires_at),
    account.previous_secret_expires_at,
  ].filter((t) => typeof t === 'number');
  return times.length ? time(Math.min(...times)) : h('span', { text: '—' });
}

export async function render(main) {
  const results = h('div', { 'aria-live': 'polite' });
  const groups = can('groups:read') ? (await api('GET', '/groups')).items.map((g) => g.name) : [];
  const form = h('form', { class: 'row filters', role: 'search', 'aria-label': 'Filter accounts' },
    field('Name contains', h('input', { type: 'search', name: 'name', autocomplete: 'off' })),
    select('credential_type', TYPES, 'Type'),
    select('status', ['active', 'disabled'], 'Status'),
    select('scope_level', ['platform', 'project', 'environment'], 'Scope'),
    groups.length ? select('group', groups, 'Group') : null,
    field('Unused for days', h('input', { type: 'number', name: 'unused_for_days', min: 1, max: 3650, inputmode: 'numeric' })),
    h('button', { type: 'submit', class: 'primary', text: 'Apply' }));
  const paging = newPaging();

  async function load() {
    fill(results, loading('Loading accounts…'));
    const filters = Object.fromEntries(new FormData(form));
    try {
      const data = await api('GET', `/accounts${query({ ...filters, limit: 20, after: paging.cursors[paging.page] })}`);
      const rows = data.items.map((a) => [
        link(`/accounts/${a.id}`, a.name),
        a.credential_type,
        scopeText(a.scope),
        badge(a.status, a.status),
        badges(a.groups),
        badges(a.roles),
        time(a.last_used_at),
        expiry(a),
      ]);
      fill(results,
        table('Accounts', ['Name', 'Type', 'Scope', 'Status', 'Groups', 'Roles', 'Last used', 'Expiry'], rows,
          'No accounts match.'),
        pager(paging, data.next, load));
    } catch (err) {
      fill(results, errorBox(err));
    }
  }

  onFilter(form, paging, load);
  fill(main,
    h('h1', { text: 'Accounts' }),
    can('accounts:write') ? h('div', { class: 'actions' }, h('a', { class: 'button primary', href: '#/accounts/new', text: 'Create account' })) : null,
    form, results);
  await load();
}
