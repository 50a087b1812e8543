// Create account: the fields of the chosen credential type, flows, roles,
// groups and scope. The API verifies before it saves; its errors are shown
// beside the field they name. The secret, if any, is shown once.

import { api } from '../api.js';
import { can } from '../session.js';
import { h, fill, field, checks, checkedValues, showError, clearErrors } from '../ui.js';
import { showSecret } from '../secret.js';
import { generateFields, generateBody, offerServiceKey } from '../service-key.js';

const TYPES = [
  ['api_key', 'API key (X-API-Key or Bearer)'],
  ['basic', 'Basic (name and generated password)'],
  ['client_secret', 'OAuth client secret'],
  ['private_key_jwt', 'OAuth private_key_jwt (public key)'],
  ['mtls', 'Client certificate (mTLS)'],
  ['oidc', 'External OIDC tokens'],
  ['poller', 'Poller (no credential)'],
];

/** A PEM textarea with a file picker that fills it. */
export function pemField(name, label, hint) {
  const area = h('textarea', { name, spellcheck: 'false', placeholder: '-----BEGIN ...-----' });
  const picker = h('input', { type: 'file', name: `${name}-file`, accept: '.pem,.crt,.cer,.pub,.key,.json,text/plain' });
  picker.addEventListener('change', async () => {
    const file = picker.files[0];
    if (file) area.value = await file.text();
  });
  const wrap = field(label, area, hint);
  wrap.append(h('label', { for: `${name}-file-input`, text: `…or upload a file` }));
  picker.id = `${name}-file-input`;
  wrap.append(picker);
  return wrap;
}

/** The fields each credential type adds to the form; `mtls` and
 *  `private_key_jwt` also offer "generate", which hides the upload. */
function typeFields(type) {
  if (type === 'mtls' || type === 'private_key_jwt') {
    const upload = h('div', {}, uploadFields(type));
    const generate = generateFields({ certificate: type === 'mtls', onToggle: (on) => { upload.hidden = on; } });
    return [generate.element, upload];
  }
  return uploadFields(type);
}

function uploadFields(type) {
  switch (type) {
    case 'private_key_jwt':
      return [
        pemField('public_key', 'Public key (PEM or JWK)', 'Ed25519, P-256 or RSA (2048+ bits). The private key stays with the client.'),
        field('Key id (kid)', h('input', { name: 'key_id', required: true, autocomplete: 'off' })),
      ];
    case 'mtls':
      return [pemField('certificate', 'Client certificate (PEM)', 'Checked before it is saved: expired or unparsable certificates are refused.')];
    case 'oidc':
      return [
        field('Issuer', h('input', { name: 'issuer', type: 'url', required: true, autocomplete: 'off' }), 'Its discovery document and JWKS are fetched and checked before saving.'),
        field('Audience', h('input', { name: 'audience', required: true, autocomplete: 'off' })),
        field('Claims rule (JSON)', h('textarea', { name: 'claims_match', spellcheck: 'false', placeholder: '{"sub": "ci-*"}' }),
          'Every claim must match one of its patterns; * matches any run of characters.'),
      ];
    default:
      return [];
  }
}

export async function render(main) {
  const [flows, roles, groups] = await Promise.all([
    api('GET', '/flows'),
    can('roles:read') ? api('GET', '/roles') : { items: [] },
    can('groups:read') ? api('GET', '/groups') : { items: [] },
  ]);
  const type = h('select', { name: 'credential_type' }, TYPES.map(([v, t]) => h('option', { value: v, text: t })));
  const extra = h('div');
  const level = h('select', { name: 'scope-level' }, ['platform', 'project', 'environment'].map((l) => h('option', { value: l, text: l })));
  const project = field('Project', h('input', { name: 'scope-project', autocomplete: 'off' }));
  const environment = field('Environment', h('input', { name: 'scope-environment', autocomplete: 'off' }));
  const status = h('div', { 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit', class: 'primary', text: 'Create account' });
  const form = h('form', { 'aria-labelledby': 'new-title', novalidate: true },
    h('h1', { id: 'new-title', text: 'Create account' }),
    field('Name', h('input', { name: 'name', required: true, autocomplete: 'off', pattern: '[A-Za-z0-9._-]{1,64}' }),
      'Letters, digits, . _ and -, up to 64. The Basic username.'),
    field('Description', h('textarea', { name: 'description', maxlength: 1024 })),
    field('Credential type', type),
    extra,
    h('fieldset', { 'data-field': 'scope' }, h('legend', { text: 'Scope' }),
      field('Level', level), project, environment),
    checks('Flows to grant', 'flows', flows.items.map((f) => f.id)),
    can('roles:write') ? checks('Roles (management permissions)', 'roles', roles.items.map((r) => r.name)) : null,
    groups.items.length ? checks('Groups', 'groups', groups.items.map((g) => g.name)) : null,
    status,
    h('div', { class: 'actions' }, submit, h('a', { class: 'button', href: '#/accounts', text: 'Cancel' })));

  const showType = () => fill(extra, typeFields(type.value));
  const showScope = () => {
    project.hidden = level.value === 'platform';
    environment.hidden = level.value !== 'environment';
  };
  type.addEventListener('change', showType);
  level.addEventListener('change', showScope);
  showType();
  showScope();

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    const data = new FormData(form);
    const body = {
      name: data.get('name').trim(),
      credential_type: type.value,
      flows: checkedValues(form, 'flows'),
      groups: checkedValues(form, 'groups'),
    };
    const description = data.get('description');
    if (description) body.description = description;
    if (can('roles:write')) body.roles = checkedValues(form, 'roles');
    if (level.value !== 'platform') {
      body.scope = { level: level.value, project: data.get('scope-project').trim() };
      if (level.value === 'environment') body.scope.environment = data.get('scope-environment').trim();
    }
    const generating = data.has('generate');
    if (generating) body.generate = generateBody(form);
    for (const name of ['public_key', 'key_id', 'certificate', 'issuer', 'audience']) {
      if (data.has(name) && !generating) body[name] = data.get(name).trim();
    }
    if (data.has('claims_match')) {
      try {
        body.claims_match = JSON.parse(data.get('claims_match'));
      } catch {
        showError(form, { message: 'not valid JSON: an object of claim → pattern(s)', body: { field: 'claims_match' } }, status);
        return;
      }
    }
    submit.disabled = true;
    fill(status, h('p', { class: 'loading', role: 'status', text: 'Creating…' }));
    try {
      const created = await api('POST', '/accounts', body);
      status.replaceChildren();
      if (created.service_key) {
        await offerServiceKey({ title: `Service key of ${created.name}`, serviceKey: created.service_key, account: created.name });
      }
      if (created.secret) {
        const details = [['Account', created.name], ['Account id', created.id]];
        if (created.client_id) details.push(['client_id', created.client_id]);
        if (created.credential_type === 'basic') details.push(['Username', created.name]);
        await showSecret({ title: `Secret of ${created.name}`, secret: created.secret, details });
      }
      location.hash = `#/accounts/${created.id}`;
    } catch (err) {
      showError(form, err, status);
    } finally {
      submit.disabled = false;
    }
  });
  fill(main, form);
}
