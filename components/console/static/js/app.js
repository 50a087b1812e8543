// The console's entry: sign-in, navigation and the fragment router. Each
// screen is a module with `render(main, params)`.

import { api } from './api.js';
import { credential, remember, setMe, whoami, signOut, whenSignedOut, can } from './session.js';
import { h, fill, badge, announce, errorBox, loading } from './ui.js';

const SCREENS = [
  // [pattern, module, nav label, permission needed to see it]
  [/^accounts$/, 'accounts', 'Accounts', 'accounts:read'],
  [/^accounts\/new$/, 'account-new', null, 'accounts:write'],
  [/^accounts\/([a-z2-7]+)$/, 'account', null, 'accounts:read'],
  [/^flows$/, 'flows', 'Flows', 'accounts:read'],
  [/^flows\/([A-Za-z0-9_-]+)$/, 'flow', null, 'accounts:read'],
  [/^groups$/, 'groups', 'Groups', 'groups:read'],
  [/^roles$/, 'roles', 'Roles', 'roles:read'],
  [/^audit$/, 'audit', 'Audit log', 'audit:read'],
  [/^transfer$/, 'transfer', 'Export / import', 'config:read'],
];

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const who = document.getElementById('who');

function signInScreen(reason) {
  nav.hidden = true;
  who.hidden = true;
  nav.replaceChildren();
  who.replaceChildren();
  const input = h('input', {
    type: 'password', name: 'credential', id: 'credential', required: true,
    autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'credential-hint',
  });
  const status = h('div', { 'aria-live': 'polite' });
  const form = h('form', { class: 'signin', 'aria-labelledby': 'signin-title' },
    h('h1', { id: 'signin-title', text: 'Sign in to flowgate' }),
    reason ? h('p', { class: 'notice', role: 'alert', text: reason }) : null,
    h('div', { class: 'field' },
      h('label', { for: 'credential', text: 'Admin token, API key or API token' }),
      input,
      h('p', { class: 'hint', id: 'credential-hint', text:
        'The bootstrap admin token, or the API key or API token of an account holding a management role. ' +
        'It is kept in this tab only (sessionStorage) and forgotten when you sign out or close the tab.' })),
    h('button', { type: 'submit', class: 'primary', text: 'Sign in' }),
    status);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    fill(status, loading('Signing in…'));
    remember(input.value.trim());
    input.value = '';
    try {
      await start();
    } catch (err) {
      signOut();
      signInScreen(err.status === 401 ? 'That credential was refused.' : err.message);
    }
  });
  fill(main, form);
  input.focus();
}

function renderChrome() {
  const me = whoami();
  nav.replaceChildren(...SCREENS.filter(([, , label, perm]) => label && can(perm)).map(([pattern, , label]) =>
    h('a', { href: `#/${pattern.source.replace(/^\^|\$$/g, '')}`, text: label, 'data-screen': label })));
  nav.hidden = false;
  const name = me.bootstrap ? 'bootstrap administrator' : `${me.account ? me.account.name : me.actor}`;
  const writes = me.permissions.some((p) => !p.endsWith(':read'));
  fill(who,
    h('span', { text: `Signed in as ${name}` }),
    me.roles.map((r) => badge(r)),
    writes ? null : badge('read-only', 'readonly'),
    h('button', { type: 'button', text: 'Sign out', onclick: () => { signOut(); } }));
  who.hidden = false;
}

async function route() {
  if (!whoami()) return;
  const path = location.hash.replace(/^#\/?/, '') || 'accounts';
  for (const a of nav.querySelectorAll('a')) {
    const target = a.getAttribute('href').slice(2);
    if (path === target || path.startsWith(`${target}/`)) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const found = SCREENS.find(([pattern]) => pattern.test(path));
  if (!found) {
    fill(main, h('h1', { text: 'Not found' }), h('p', { text: 'No such page in the console.' }));
    return;
  }
  const [pattern, module, , permission] = found;
  if (!can(permission)) {
    fill(main, h('h1', { text: 'Not allowed' }),
      h('p', { text: `This page needs the permission ${permission}, which your roles do not grant.` }));
    return;
  }
  const params = path.match(pattern).slice(1).map(decodeURIComponent);
  fill(main, loading());
  try {
    const screen = await import(`./screens/${module}.js`);
    await screen.render(main, ...params);
  } catch (err) {
    if (err.status === 401) return;
    fill(main, h('h1', { text: 'Something went wrong' }), errorBox(err));
  }
  const heading = main.querySelector('h1');
  if (heading) {
    document.title = `${heading.textContent} · flowgate console`;
    announce(heading.textContent);
  }
}

async function start() {
  const me = await api('GET', '/me');
  if (me.permissions.length === 0) {
    signOut();
    signInScreen('This credential is valid but its account holds no management role, so there is nothing it may see here.');
    return;
  }
  setMe(me);
  renderChrome();
  if (!location.hash) location.replace('#/accounts');
  await route();
  main.focus();
}

whenSignedOut((reason) => signInScreen(reason));
window.addEventListener('hashchange', () => { route().then(() => main.focus()); });

if (credential()) {
  start().catch((err) => { signOut(); signInScreen(err.status === 401 ? undefined : err.message); });
} else {
  signInScreen();
}
