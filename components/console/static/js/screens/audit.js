// The audit log: newest first, paged, filtered by target (prefix) and actor.

import { api, query } from '../api.js';
import { h, fill, time, table, loading, errorBox, field, newPaging, pager, onFilter } from '../ui.js';

export async function render(main) {
  const results = h('div', { 'aria-live': 'polite' });
  const form = h('form', { class: 'row filters', role: 'search', 'aria-label': 'Filter the audit log' },
    field('Target starts with', h('input', { name: 'target', autocomplete: 'off', placeholder: 'account:…' })),
    field('Actor', h('input', { name: 'actor', autocomplete: 'off', placeholder: 'bootstrap-admin or account:…' })),
    h('button', { type: 'submit', class: 'primary', text: 'Apply' }));
  const paging = newPaging();
  async function load() {
    fill(results, loading('Loading the audit log…'));
    const filters = Object.fromEntries(new FormData(form));
    try {
      const data = await api('GET', `/audit${query({ target: filters.target.trim(), actor: filters.actor.trim(), limit: 50, before: paging.cursors[paging.page] })}`);
      fill(results,
        table('Audit log', ['When', 'Actor', 'Action', 'Target', 'Outcome'],
          data.items.map((e) => [time(e.time), e.actor, e.action, e.target, e.outcome]), 'No entries.'),
        pager(paging, data.next, load, ['Newer', 'Older']));
    } catch (err) {
      fill(results, errorBox(err));
    }
  }
  onFilter(form, paging, load);
  fill(main, h('h1', { text: 'Audit log' }), form, results);
  await load();
}
