// Account detail: status and the kill switch, reset with grace, key and
// certificate rotation, API tokens, grants (direct and through groups),
// roles and groups, last use, usage figures, the account's audit trail, and
// delete (with the 409 list of flows and a forced delete that names them).

import { api, enc, query } from '../api.js';
import { can } from '../session.js';
import {
  h, fill, time, badge, badges, table, link, loading, errorBox, field, checks,
  checkedValues, showError, clearErrors, confirmDialog, actionButton, announce,
} from '../ui.js';
import { showSecret } from '../secret.js';
import { generateFields, generateBody, offerServiceKey } from '../service-key.js';
import { pemField } from './account-new.js';

const WITH_SECRET = ['api_key', 'basic', 'client_secret'];

function scopeText(scope) {
  return [scope.level, scope.project, scope.environment].filter(Boolean).join(' / ');
}

function facts(pairs) {
  return h('dl', { class: 'facts' }, pairs.filter(Boolean).map(([k, v]) => [h('dt', { text: k }), h('dd', {}, v)]));
}

function section(title, ...content) {
  const id = `s-${title.toLowerCase().replace(/[^a-z]+/g, '-')}`;
  return h('section', { 'aria-labelledby': id }, h('h2', { id, text: title }), ...content);
}

export async function render(main, id) {
  const path = `/accounts/${enc(id)}`;
  const [account, grants, roles, groups] = await Promise.all([
    api('GET', path),
    api('GET', `${path}/flows`),
    can('roles:read') ? api('GET', '/roles') : { items: [] },
    can('groups:read') ? api('GET', '/groups') : { items: [] },
  ]);
  const write = can('accounts:write');
  const status = h('div', { 'aria-live': 'polite' });
  const reload = async (message) => {
    await render(main, id);
    if (message) {
      const note = main.querySelector('[data-role="status"]');
      if (note) fill(note, h('p', { class: 'ok', role: 'status', text: message }));
      announce(message);
    }
  };

  // Lifecycle actions.
  const actions = h('div', { class: 'actions' });
  if (write) {
    if (account.status === 'active') {
      actions.append(actionButton('Disable', async () => {
        const ok = await confirmDialog({
          title: `Disable ${account.name}?`,
          body: h('p', { text: 'The kill switch: every credential of this account (keys, passwords, client secrets, ' +
            'certificates and API tokens) stops working on the next request, at every host. Access tokens it already ' +
            'holds stop when they expire (minutes). You can enable it again.' }),
          confirm: 'Disable account', danger: true,
        });
        if (!ok) return;
        await api('POST', `${path}/disable`);
        await reload(`${account.name} is disabled.`);
      }, { cls: 'danger', where: status }));
    } else {
      actions.append(actionButton('Enable', async () => {
        const ok = await confirmDialog({
          title: `Enable ${account.name}?`,
          body: h('p', { text: 'Its credentials work again at once.' }),
          confirm: 'Enable account',
        });
        if (!ok) return;
        await api('POST', `${path}/enable`);
        await reload(`${account.name} is enabled.`);
      }, { cls: 'primary', where: status }));
    }
    if (WITH_SECRET.includes(account.credential_type)) {
      actions.append(actionButton('Reset credential', async () => {
        const grace = h('input', { type: 'number', name: 'grace_seconds', min: 0, max: 2592000, value: '0', inputmode: 'numeric' });
        const ok = await confirmDialog({
          title: `Reset the credential of ${account.name}?`,
          body: [
            h('p', { text: 'A new secret is generated and shown once. During the grace period the previous one still works, so clients can move over; with 0 it stops at once.' }),
            field('Grace period (seconds, 0 to 2592000)', grace),
          ],
          confirm: 'Reset credential', danger: true,
        });
        if (!ok) return;
        const seconds = Number(grace.value || 0);
        const result = await api('POST', `${path}/reset-credential`, seconds > 0 ? { grace_seconds: seconds } : {});
        const details = [['Account', result.name]];
        if (result.client_id) details.push(['client_id', result.client_id]);
        await showSecret({ title: `New secret of ${result.name}`, secret: result.secret, details });
        await reload('Credential reset.');
      }, { where: status }));
    }
    actions.append(actionButton('Delete', async () => {
      const ok = await confirmDialog({
        title: `Delete ${account.name}?`,
        body: h('p', { text: 'The account and all its credentials are deleted. This cannot be undone.' }),
        confirm: 'Delete account', danger: true,
      });
      if (!ok) return;
      try {
        await api('DELETE', path);
      } catch (err) {
        if (err.status !== 409 || !err.body.flows) throw err;
        const forced = await confirmDialog({
          title: `${account.name} still has access to flows`,
          body: [
            h('p', { text: 'It may still invoke these enabled flows:' }),
            h('ul', { 'data-testid': 'delete-flows' }, err.body.flows.map((f) => h('li', {}, h('code', { text: f })))),
            h('p', { text: `Delete anyway revokes these grants (${err.body.flows.join(', ')}) and deletes the account.` }),
          ],
          confirm: `Revoke ${err.body.flows.length} grant(s) and delete`, danger: true, requireText: account.name,
        });
        if (!forced) return;
        await api('DELETE', `${path}?force=true`);
      }
      announce(`${account.name} deleted.`);
      location.hash = '#/accounts';
    }, { cls: 'danger', where: status }));
  }

  const content = [
    h('h1', {}, account.name, ' ', badge(account.status, account.status)),
    h('div', { 'data-role': 'status' }),
    facts([
      ['Id', h('code', { text: account.id })],
      ['Credential type', account.credential_type],
      account.client_id ? ['client_id', h('code', { text: account.client_id })] : null,
      ['Description', account.description || '—'],
      ['Scope', scopeText(account.scope)],
      ['Roles', badges(account.roles)],
      ['Groups', badges(account.groups)],
      ['Created', time(account.created_at)],
      ['Updated', time(account.updated_at)],
      ['Last used', time(account.last_used_at)],
      account.previous_secret_expires_at ? ['Previous secret works until', time(account.previous_secret_expires_at)] : null,
      // Usage controls (docs/usage.md); edited through the API or the CLI.
      account.credential_expires_at ? ['Credential expires', time(account.credential_expires_at)] : null,
      account.limits ? ['Rate limits', account.limits.map((l) => `${l.name}: ${l.limit} per ${l.window}`).join(', ')] : null,
      account.quota ? ['Quota', `${account.quota.limit}${account.quota.refill ? ` (refilled ${account.quota.refill})` : ''}`] : null,
      account.allowed_ips ? ['Allowed IPs', account.allowed_ips.join(', ')] : null,
      account.metadata ? ['Metadata', h('code', { text: JSON.stringify(account.metadata) })] : null,
    ]),
    actions, status,
  ];

  // Description, roles and groups.
  if (write) {
    const form = h('form', { 'aria-label': 'Edit account' },
      field('Description', h('textarea', { name: 'description', maxlength: 1024, value: account.description })),
      can('roles:write') ? checks('Roles', 'roles', roles.items.map((r) => r.name), account.roles) : null,
      can('groups:read') ? checks('Groups', 'groups', groups.items.map((g) => g.name), account.groups) : null,
      h('button', { type: 'submit', text: 'Save changes' }));
    const formStatus = h('div', { 'aria-live': 'polite' });
    form.append(formStatus);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      clearErrors(form);
      const body = { description: form.elements.description.value };
      if (can('roles:write')) body.roles = checkedValues(form, 'roles');
      if (can('groups:read')) body.groups = checkedValues(form, 'groups');
      try {
        await api('PATCH', path, body);
        await reload('Saved.');
      } catch (err) {
        showError(form, err, formStatus);
      }
    });
    content.push(section('Edit', form));
  }

  // Rotation of keys and certificates.
  if (account.credential_type === 'private_key_jwt' || account.credential_type === 'mtls') {
    const isKey = account.credential_type === 'private_key_jwt';
    const items = isKey ? account.public_keys || [] : account.certificates || [];
    const rows = items.map((item) => {
      const name = isKey ? item.kid : item.thumbprint;
      const cells = isKey
        ? [h('code', { text: item.kid }), item.alg, time(item.added_at)]
        : [h('code', { text: item.thumbprint }), item.subject, time(item.not_after), time(item.added_at)];
      if (write) {
        cells.push(actionButton('Retire', async () => {
          const ok = await confirmDialog({
            title: `Retire ${isKey ? 'key' : 'certificate'} ${name}?`,
            body: h('p', { text: 'Clients still using it are refused from the next request on.' }),
            confirm: 'Retire', danger: true,
          });
          if (!ok) return;
          await api('DELETE', `${path}/${isKey ? 'keys' : 'certificates'}/${enc(name)}`);
          await reload('Retired.');
        }, { where: status }));
      }
      return cells;
    });
    const headers = isKey ? ['Key id', 'Algorithm', 'Added'] : ['Thumbprint', 'Subject', 'Valid until', 'Added'];
    if (write) headers.push('');
    const parts = [table(isKey ? 'Public keys' : 'Certificates', headers, rows)];
    if (write) {
      const upload = h('div', {},
        isKey ? pemField('public_key', 'New public key (PEM or JWK)') : pemField('certificate', 'New certificate (PEM)'),
        isKey ? field('Key id (kid)', h('input', { name: 'key_id', autocomplete: 'off' })) : null);
      const generate = generateFields({ certificate: !isKey, onToggle: (on) => { upload.hidden = on; } });
      const add = h('form', { 'aria-label': isKey ? 'Add a public key' : 'Add a certificate' },
        generate.element, upload,
        h('button', { type: 'submit', text: isKey ? 'Add key' : 'Add certificate' }));
      const addStatus = h('div', { 'aria-live': 'polite' });
      add.append(addStatus);
      add.addEventListener('submit', async (event) => {
        event.preventDefault();
        let body = isKey
          ? { public_key: add.elements.public_key.value.trim(), key_id: add.elements.key_id.value.trim() }
          : { certificate: add.elements.certificate.value.trim() };
        if (generate.checked()) body = { generate: generateBody(add) };
        try {
          const added = await api('POST', `${path}/${isKey ? 'keys' : 'certificates'}`, body);
          if (added.service_key) {
            await offerServiceKey({ title: `New service key of ${added.name}`, serviceKey: added.service_key, account: added.name });
          }
          await reload(isKey ? 'Key added.' : 'Certificate added.');
        } catch (err) {
          showError(add, err, addStatus);
        }
      });
      parts.push(h('p', { class: 'hint', text: 'Rotation without downtime: add the new one, move the client over, then retire the old one.' }), add);
    }
    content.push(section(isKey ? 'Public keys' : 'Certificates', ...parts));
  }

  // API tokens.
  if (account.credential_type !== 'poller') {
    const rows = account.tokens.map((t) => {
      const cells = [t.name, h('code', { text: t.id }), time(t.created_at), t.expires_at ? time(t.expires_at) : 'never', time(t.last_used_at)];
      if (write) {
        cells.push(actionButton('Revoke', async () => {
          const ok = await confirmDialog({ title: `Revoke token ${t.name}?`, body: h('p', { text: 'It stops working at once.' }), confirm: 'Revoke', danger: true });
          if (!ok) return;
          await api('DELETE', `${path}/tokens/${enc(t.id)}`);
          await reload('Token revoked.');
        }, { where: status }));
      }
      return cells;
    });
    const headers = ['Name', 'Id', 'Created', 'Expires', 'Last used'];
    if (write) headers.push('');
    const parts = [table('API tokens', headers, rows, 'No API tokens.')];
    if (write) {
      const add = h('form', { class: 'row', 'aria-label': 'Create an API token' },
        field('Token name', h('input', { name: 'name', autocomplete: 'off' })),
        field('Expires in (days, empty: never)', h('input', { type: 'number', name: 'expires_in', min: 1, inputmode: 'numeric' })),
        h('button', { type: 'submit', text: 'Create token' }));
      const addStatus = h('div', { 'aria-live': 'polite' });
      add.addEventListener('submit', async (event) => {
        event.preventDefault();
        const body = { name: add.elements.name.value.trim() };
        const days = Number(add.elements.expires_in.value);
        if (days > 0) body.expires_in = Math.round(days * 86400);
        try {
          const created = await api('POST', `${path}/tokens`, body);
          await showSecret({ title: `API token ${created.name}`, secret: created.token, details: [['Account', account.name]] });
          await reload('Token created.');
        } catch (err) {
          showError(add, err, addStatus);
        }
      });
      parts.push(add, addStatus);
    }
    content.push(section('API tokens', ...parts));
  }

  // Grants.
  content.push(section('Flows it may invoke',
    table('Flows', ['Flow', 'How'], [
      ...grants.direct.map((f) => [link(`/flows/${f}`, f), 'granted directly']),
      ...grants.groups.flatMap((g) => g.flows.map((f) => [link(`/flows/${f}`, f), `through group ${g.group}`])),
    ], 'No flows.'),
    h('p', { class: 'hint', text: 'Grants are managed on each flow\'s access tab.' })));

  // Usage figures (docs/usage.md): the last 24 hours, hour by hour.
  const usage = h('div', { 'data-testid': 'usage' });
  content.push(section('Usage, last 24 hours', usage));
  if (!account.recorded) {
    fill(usage, h('p', { class: 'hint', text: 'Not counted: usage figures are kept for accounts with a rate ' +
      'limit, a quota or record_usage.' }));
  } else {
    fill(usage, loading('Loading usage figures…'));
    const classes = ['allowed', 'unauthenticated', 'forbidden', 'rate_limited', 'quota_exhausted'];
    const headers = ['Hour', 'Allowed', 'Unauthenticated (401)', 'Forbidden (403)', 'Rate limited (429)',
      'Quota exhausted (429)'];
    api('GET', `${path}/usage`)
      .then((f) => fill(usage, table('Usage by hour', headers, [
        ...f.hours.map((hour) => [time(hour.start), ...classes.map((c) => String(hour[c]))]),
        ['Total', ...classes.map((c) => String(f.totals[c]))],
      ]), h('p', { class: 'hint', text: `Kept ${f.retention_days} days; refusals are counted where the ` +
        'account is known.' })))
      .catch((err) => fill(usage, errorBox(err)));
  }

  // Audit trail.
  if (can('audit:read')) {
    const trail = h('div', {}, loading('Loading the audit trail…'));
    content.push(section('Audit trail', trail, link('/audit', 'Whole audit log')));
    api('GET', `/audit${query({ target: `account:${account.id}`, limit: 20 })}`)
      .then((page) => fill(trail, table('Audit trail', ['When', 'Actor', 'Action', 'Target', 'Outcome'],
        page.items.map((e) => [time(e.time), e.actor, e.action, e.target, e.outcome]), 'No entries.')))
      .catch((err) => fill(trail, errorBox(err)));
  }

  fill(main, content);
}
