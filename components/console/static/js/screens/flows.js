// Flows: what policies/ declares, as the API lists it.

import { api } from '../api.js';
import { h, fill, table, link, badges } from '../ui.js';

export async function render(main) {
  const flows = await api('GET', '/flows');
  fill(main,
    h('h1', { text: 'Flows' }),
    h('p', { class: 'hint', text: 'Flows are declared in policies/ and deployed with the app; who may invoke them is managed here.' }),
    table('Flows', ['Flow', 'Path prefix', 'Methods', 'Project', 'Environment', 'Upstream', 'Description'],
      flows.items.map((f) => [
        link(`/flows/${f.id}`, f.id),
        h('code', { text: f.path_prefix }),
        badges(f.methods),
        f.project,
        f.environment,
        f.proxy ? 'set (proxy mode)' : 'none (forward-auth)',
        f.description || '—',
      ]), 'No flows in policies/.'));
}
