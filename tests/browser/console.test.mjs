// End-to-end test of the flowgate console in Debian's Chromium, driven by
// playwright-core. Started by tests/console.rs with the app already running:
//
//   FLOWGATE_URL          base URL of the app (http://127.0.0.1:PORT)
//   FLOWGATE_ADMIN_TOKEN  the bootstrap admin token
//   FLOWGATE_PROXY_TOKEN  the trusted proxy's token (mTLS at /authorize)
//   FLOWGATE_ISSUER       the `issuer` variable (audience of assertions)
//   FLOWGATE_CERT{1,2}_PEM / _DER  two client certificates (PEM file path, base64 DER)
//   FLOWGATE_OIDC_ISSUER  origin of the test's OpenID Connect issuer
//   FLOWGATE_OIDC_TOKEN   a token of that issuer: sub console-ci, aud flowgate-console
//   FLOWGATE_ARTIFACTS    where screenshots and the browser log go (target/...)
//   FLOWGATE_SCREENSHOTS  optional: also write the README's screenshots here
//
// Every step drives the UI as a user would; the secrets shown on the page are
// read back and used against /authorize and /oauth2/token from here. Exits
// non-zero on the first failure, after saving a screenshot and the browser's
// console log under FLOWGATE_ARTIFACTS.

import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const env = (name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (tests/console.rs sets it)`);
  return value;
};
const BASE = env('FLOWGATE_URL');
const ADMIN = env('FLOWGATE_ADMIN_TOKEN');
const PROXY = env('FLOWGATE_PROXY_TOKEN');
const ISSUER = env('FLOWGATE_ISSUER');
const CERTS = [1, 2].map((n) => ({ pem: env(`FLOWGATE_CERT${n}_PEM`), der: env(`FLOWGATE_CERT${n}_DER`) }));
const OIDC_ISSUER = env('FLOWGATE_OIDC_ISSUER');
const OIDC_TOKEN = env('FLOWGATE_OIDC_TOKEN');
const OUT = env('FLOWGATE_ARTIFACTS');
const SHOTS = process.env.FLOWGATE_SCREENSHOTS || '';
const RUN = crypto.randomBytes(3).toString('hex');
// The screenshots the README shows (the others stay under FLOWGATE_ARTIFACTS).
const README_SHOTS = ['accounts', 'account-detail', 'secret-once', 'flow-access', 'import-dry-run', 'narrow-400px'];

fs.mkdirSync(OUT, { recursive: true });
const log = [];
const problems = [];
let step = 'start';

// --- HTTP from the test itself (what a client of the secret would do) -------

async function authorize(headers, uri = '/flows/orders/1') {
  const r = await fetch(`${BASE}/authorize`, {
    headers: { 'X-Forwarded-Method': 'GET', 'X-Forwarded-Uri': uri, ...headers },
  });
  return r.status;
}

async function adminApi(method, apiPath, body, credential = ADMIN) {
  const r = await fetch(`${BASE}/admin/v1${apiPath}`, {
    method,
    headers: { Authorization: `Bearer ${credential}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : null };
}

async function accessToken(form, headers = {}) {
  const r = await fetch(`${BASE}/oauth2/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
  });
  const json = await r.json();
  assert.equal(r.status, 200, `token endpoint: ${JSON.stringify(json)}`);
  return json.access_token;
}

function b64url(data) {
  return Buffer.from(data).toString('base64url');
}

function signedAssertion(clientId, privateKey, kid) {
  const now = Math.floor(Date.now() / 1000);
  const header = b64url(JSON.stringify({ alg: 'EdDSA', typ: 'JWT', kid }));
  const claims = b64url(JSON.stringify({
    iss: clientId, sub: clientId, aud: `${ISSUER}/oauth2/token`, jti: crypto.randomUUID(), iat: now, exp: now + 60,
  }));
  const signature = crypto.sign(null, Buffer.from(`${header}.${claims}`), privateKey);
  return `${header}.${claims}.${b64url(signature)}`;
}

// --- Page helpers -----------------------------------------------------------

async function shot(page, name, options = {}) {
  const file = path.join(OUT, `${name}.png`);
  await page.screenshot({ path: file, maskColor: '#8c959f', ...options });
  if (SHOTS && README_SHOTS.includes(name)) {
    fs.mkdirSync(SHOTS, { recursive: true });
    fs.copyFileSync(file, path.join(SHOTS, `console-${name}.png`));
  }
}

async function go(page, hash, heading) {
  await page.goto(`${BASE}/console/#${hash}`);
  await page.getByRole('heading', { level: 1, name: heading }).waitFor();
}

/** Reads the secret from the shown-once dialog, checks the dialog's rules,
 *  closes it and checks the secret is gone from the page. */
async function takeSecret(page, screenshot) {
  const value = page.locator('#secret-value');
  await value.waitFor();
  const secret = (await value.textContent()).trim();
  assert.ok(secret.length > 20, 'a secret is shown');
  const close = page.getByRole('button', { name: 'Close', exact: true });
  assert.ok(await close.isDisabled(), 'Close is disabled before the confirmation');
  await page.keyboard.press('Escape');
  assert.ok(await value.isVisible(), 'Escape does not close the dialog before the confirmation');
  await page.getByText('You will not see this again.').waitFor();
  if (screenshot) await shot(page, screenshot, { mask: [value] });
  await page.getByLabel('I have stored this secret safely').check();
  await close.click();
  await value.waitFor({ state: 'detached' });
  assert.ok(!(await page.content()).includes(secret), 'the secret is gone from the page');
  return secret;
}

async function createAccount(page, { name, type, flows = [], fill = async () => {} }) {
  await go(page, '/accounts/new', 'Create account');
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel('Credential type').selectOption(type);
  await fill();
  for (const flow of flows) await page.getByRole('checkbox', { name: flow, exact: true }).check();
  await page.getByRole('button', { name: 'Create account' }).click();
}

async function accountIdFromUrl(page, name) {
  await page.getByRole('heading', { level: 1, name: new RegExp(`^${name}`) }).waitFor();
  const match = page.url().match(/#\/accounts\/([a-z2-7]{16})$/);
  assert.ok(match, `account page URL: ${page.url()}`);
  return match[1];
}

async function confirm(page, button) {
  const dialog = page.getByRole('dialog');
  await dialog.waitFor();
  const ok = dialog.getByRole('button', { name: button, exact: true });
  await ok.click();
  // Another dialog (the secret, the 409 list) may follow at once.
  await ok.waitFor({ state: 'detached' });
}

async function signIn(page, credential) {
  const input = page.getByLabel('Admin token, API key or API token');
  await input.waitFor();
  // Keyboard only: focus is already in the field; Enter submits.
  await page.keyboard.type(credential);
  await page.keyboard.press('Enter');
}

// --- The test ---------------------------------------------------------------

async function run(page, context) {
  step = 'console is served and asks to sign in';
  await page.goto(`${BASE}/console/`);
  await page.getByRole('heading', { name: 'Sign in to flowgate' }).waitFor();
  assert.equal(await page.evaluate(() => document.activeElement.id), 'credential', 'the credential field has focus');
  await shot(page, 'signin');

  step = 'a wrong credential is refused';
  await signIn(page, 'fgak_not-a-real-key');
  await page.getByText('That credential was refused.').waitFor();

  step = 'sign in with the admin token';
  await signIn(page, ADMIN);
  await page.getByRole('heading', { level: 1, name: 'Accounts' }).waitFor();
  await page.getByText('Signed in as bootstrap administrator').waitFor();
  const storage = await page.evaluate(() => ({
    session: Object.keys(sessionStorage), local: localStorage.length, cookie: document.cookie, url: location.href,
  }));
  assert.deepEqual(storage.session, ['flowgate.credential']);
  assert.equal(storage.local, 0, 'nothing in localStorage');
  assert.equal(storage.cookie, '', 'no cookie');
  assert.ok(!storage.url.includes(ADMIN), 'the credential is not in the URL');
  assert.equal((await context.cookies()).length, 0, 'no cookie at all');

  step = 'create an api_key account and use its key at /authorize';
  const keyName = `ui-key-${RUN}`;
  await createAccount(page, { name: keyName, type: 'api_key', flows: ['orders'] });
  const apiKey = await takeSecret(page, 'secret-once');
  const keyId = await accountIdFromUrl(page, keyName);
  assert.equal(await authorize({ 'X-API-Key': apiKey }), 200, 'the key from the page works');

  step = 'create a basic account and use its password';
  const basicName = `ui-basic-${RUN}`;
  await createAccount(page, { name: basicName, type: 'basic', flows: ['orders'] });
  const password = await takeSecret(page);
  await accountIdFromUrl(page, basicName);
  const basic = Buffer.from(`${basicName}:${password}`).toString('base64');
  assert.equal(await authorize({ Authorization: `Basic ${basic}` }), 200);

  step = 'create a client_secret account and get an access token';
  const clientName = `ui-client-${RUN}`;
  await createAccount(page, { name: clientName, type: 'client_secret', flows: ['orders'] });
  const clientSecret = await takeSecret(page);
  const clientId = await accountIdFromUrl(page, clientName);
  const basicClient = Buffer.from(`${clientId}:${clientSecret}`).toString('base64');
  const clientToken = await accessToken({ grant_type: 'client_credentials' }, { Authorization: `Basic ${basicClient}` });
  assert.equal(await authorize({ Authorization: `Bearer ${clientToken}` }), 200);

  step = 'a bad public key is refused beside its field';
  const pkjName = `ui-pkj-${RUN}`;
  await createAccount(page, {
    name: pkjName, type: 'private_key_jwt', flows: ['orders'],
    fill: async () => {
      await page.getByLabel('Public key (PEM or JWK)').fill('not a key');
      await page.getByLabel('Key id (kid)').fill('k1');
    },
  });
  const keyError = page.locator('[data-field="public_key"] .field-error');
  await keyError.waitFor();
  assert.match(await keyError.textContent(), /public_key|key/i);
  assert.equal(await page.getByLabel('Public key (PEM or JWK)').getAttribute('aria-invalid'), 'true');
  await shot(page, 'field-error');

  step = 'create a private_key_jwt account with a generated public key';
  const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519');
  await page.getByLabel('Public key (PEM or JWK)').fill(publicKey.export({ type: 'spki', format: 'pem' }));
  await page.getByRole('button', { name: 'Create account' }).click();
  const pkjId = await accountIdFromUrl(page, pkjName);
  const pkjToken = await accessToken({
    grant_type: 'client_credentials', client_id: pkjId,
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: signedAssertion(pkjId, privateKey, 'k1'),
  });
  assert.equal(await authorize({ Authorization: `Bearer ${pkjToken}` }), 200);

  step = 'create an mtls account from an uploaded certificate file';
  const mtlsName = `ui-mtls-${RUN}`;
  await createAccount(page, {
    name: mtlsName, type: 'mtls', flows: ['orders'],
    fill: async () => { await page.getByLabel('…or upload a file').setInputFiles(CERTS[0].pem); },
  });
  await accountIdFromUrl(page, mtlsName);
  const withCert = (n) => ({ 'Client-Cert': `:${CERTS[n].der}:`, 'X-Flowgate-Proxy-Token': PROXY });
  assert.equal(await authorize(withCert(0)), 200, 'first certificate works');
  assert.equal(await authorize(withCert(1)), 401, 'second certificate not yet registered');

  step = 'rotate the certificate: add the new one, retire the old one';
  await page.getByLabel('New certificate (PEM)').fill(fs.readFileSync(CERTS[1].pem, 'utf8'));
  await page.getByRole('button', { name: 'Add certificate' }).click();
  const thumbprintOf = (n) => crypto.createHash('sha256').update(Buffer.from(CERTS[n].der, 'base64')).digest('base64url');
  const certs = page.getByRole('region', { name: 'Certificates' });
  await certs.getByRole('row').filter({ hasText: thumbprintOf(1) }).waitFor();
  assert.equal(await authorize(withCert(1)), 200, 'new certificate works during the rotation');
  assert.equal(await authorize(withCert(0)), 200, 'old certificate still works during the rotation');
  const thumbprint = thumbprintOf(0);
  await certs.getByRole('row').filter({ hasText: thumbprint }).getByRole('button', { name: 'Retire' }).click();
  await confirm(page, 'Retire');
  await certs.getByRole('row').filter({ hasText: thumbprint }).waitFor({ state: 'detached' });
  assert.equal(await authorize(withCert(0)), 401, 'retired certificate is refused');
  assert.equal(await authorize(withCert(1)), 200, 'new certificate works');

  step = 'issue17: generate an mtls credential; the service key is offered once as a JSON download';
  const genName = `ui-gen-${RUN}`;
  await createAccount(page, {
    name: genName, type: 'mtls', flows: ['orders'],
    fill: async () => {
      await page.getByLabel('Let flowgate make the key and a certificate signed by its CA').check();
      assert.ok(await page.getByLabel('Client certificate (PEM)').isHidden(), 'generate hides the upload');
    },
  });
  const keyDialog = page.getByRole('dialog', { name: `Service key of ${genName}` });
  await keyDialog.waitFor();
  await keyDialog.getByText('One download only.').waitFor();
  await keyDialog.getByText(`CN=${genName},O=flowgate`).waitFor();
  const [keyDownload] = await Promise.all([
    page.waitForEvent('download'),
    keyDialog.getByTestId('service-key-download').click(),
  ]);
  assert.equal(keyDownload.suggestedFilename(), `${genName}-service-key.json`);
  const serviceKey = JSON.parse(fs.readFileSync(await keyDownload.path(), 'utf8'));
  for (const name of ['clientid', 'certificate', 'key', 'certificatedetails']) {
    assert.ok(serviceKey[name], `the service key has ${name}`);
  }
  assert.match(serviceKey.certificate, /^-----BEGIN CERTIFICATE-----\n/);
  assert.match(serviceKey.key, /^-----BEGIN PRIVATE KEY-----\n/);
  assert.equal(serviceKey.certificatedetails.subjectdn, `CN=${genName},O=flowgate`);
  await keyDialog.getByText('It cannot be downloaded again.').waitFor();
  assert.ok(await keyDialog.getByTestId('service-key-download').isDisabled(), 'one download only');
  // The lines of the key and of the client certificate, never rendered.
  const keyLines = [serviceKey.key, serviceKey.certificate.split('-----END CERTIFICATE-----')[0]]
    .flatMap((pem) => pem.split('\n')).filter((line) => line.length > 20 && !line.startsWith('-----'));
  assert.ok(keyLines.length > 1, 'key material to look for');
  const shown = async () => { const html = await page.content(); return keyLines.filter((line) => html.includes(line)); };
  assert.deepEqual(await shown(), [], 'the private key and certificate are not rendered in the dialog');
  await page.getByLabel('I have stored the service key safely').check();
  await keyDialog.getByRole('button', { name: 'Close', exact: true }).click();
  await keyDialog.waitFor({ state: 'detached' });
  const genId = await accountIdFromUrl(page, genName);
  assert.equal(serviceKey.clientid, genId, 'clientid is the account id');
  const genDer = serviceKey.certificate.split('-----END CERTIFICATE-----')[0]
    .replace('-----BEGIN CERTIFICATE-----', '').replace(/\s+/g, '');
  assert.equal(await authorize({ 'Client-Cert': `:${genDer}:`, 'X-Flowgate-Proxy-Token': PROXY }), 200,
    'the downloaded certificate works');

  step = 'issue17: away and back, the service key is nowhere on the page';
  await go(page, '/accounts', 'Accounts');
  await go(page, `/accounts/${genId}`, new RegExp(`^${genName}`));
  await page.getByRole('region', { name: 'Certificates' }).getByRole('row').nth(1).waitFor();
  assert.deepEqual(await shown(), [], 'no line of the service key on the account page');
  assert.equal(await page.getByTestId('service-key-download').count(), 0, 'no download offered again');
  assert.equal(await page.getByRole('dialog').count(), 0, 'no service-key dialog');

  step = 'create an oidc account (issuer checked before saving) and use a token of the issuer';
  const oidcName = `ui-oidc-${RUN}`;
  await createAccount(page, {
    name: oidcName, type: 'oidc', flows: ['orders'],
    fill: async () => {
      await page.getByLabel('Issuer').fill(OIDC_ISSUER);
      await page.getByLabel('Audience').fill('flowgate-console');
      await page.getByLabel('Claims rule (JSON)').fill('{"sub": "console-*"}');
    },
  });
  await accountIdFromUrl(page, oidcName);
  assert.equal(await authorize({ Authorization: `Bearer ${OIDC_TOKEN}` }), 200, 'the issuer\'s token is accepted');

  step = 'reset the api key with a grace period';
  await go(page, `/accounts/${keyId}`, new RegExp(`^${keyName}`));
  await page.getByRole('button', { name: 'Reset credential' }).click();
  await page.getByLabel('Grace period (seconds, 0 to 2592000)').fill('3600');
  await confirm(page, 'Reset credential');
  const newKey = await takeSecret(page);
  assert.notEqual(newKey, apiKey);
  await page.getByText('Previous secret works until').waitFor();
  assert.equal(await authorize({ 'X-API-Key': newKey }), 200, 'new key works');
  assert.equal(await authorize({ 'X-API-Key': apiKey }), 200, 'old key works during the grace period');
  const utc = await page.locator('time').first().getAttribute('title');
  assert.match(utc, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/, 'times carry UTC on hover');
  await shot(page, 'account-detail', { fullPage: true });

  step = 'usage figures of a recorded account (issue 15)';
  assert.equal((await adminApi('PATCH', `/accounts/${keyId}`, { record_usage: true })).status, 200);
  assert.equal(await authorize({ 'X-API-Key': newKey }), 200, 'one counted request');
  // Already on this hash: reload so the screen reads the account again.
  await page.reload();
  await page.getByRole('heading', { level: 1, name: new RegExp(`^${keyName}`) }).waitFor();
  const totals = page.getByTestId('usage').locator('tr', { hasText: 'Total' });
  await totals.waitFor();
  assert.deepEqual(await totals.locator('td, th').allTextContents(), ['Total', '1', '0', '0', '0', '0']);

  step = 'disable (kill switch) and enable';
  await page.getByRole('button', { name: 'Disable', exact: true }).click();
  await confirm(page, 'Disable account');
  await page.getByRole('button', { name: 'Enable', exact: true }).waitFor();
  assert.equal(await authorize({ 'X-API-Key': newKey }), 401, 'disabled: refused');
  await page.getByRole('button', { name: 'Enable', exact: true }).click();
  await confirm(page, 'Enable account');
  await page.getByRole('button', { name: 'Disable', exact: true }).waitFor();
  assert.equal(await authorize({ 'X-API-Key': newKey }), 200, 'enabled again');

  step = 'create an API token and use it';
  await page.getByLabel('Token name').fill('ci');
  await page.getByLabel('Expires in (days, empty: never)').fill('1');
  await page.getByRole('button', { name: 'Create token' }).click();
  const apiToken = await takeSecret(page);
  assert.equal(await authorize({ Authorization: `Bearer ${apiToken}` }), 200);

  step = 'grant through the flow access tab, then remove';
  const reports = '/flows/reports/1';
  assert.equal(await authorize({ 'X-API-Key': newKey }, reports), 403, 'not granted yet');
  await go(page, '/flows', 'Flows');
  await page.getByRole('link', { name: 'reports', exact: true }).click();
  await page.getByRole('heading', { level: 1, name: 'Flow reports' }).waitFor();
  await page.getByLabel('Account name or id').fill(keyName);
  await page.getByRole('button', { name: 'Grant account' }).click();
  await page.getByRole('row').filter({ hasText: keyName }).waitFor();
  assert.equal(await authorize({ 'X-API-Key': newKey }, reports), 200, 'granted on the access tab');
  await shot(page, 'flow-access');
  await page.getByRole('row').filter({ hasText: keyName }).getByRole('button', { name: 'Remove' }).click();
  await confirm(page, 'Remove access');
  await page.getByRole('row').filter({ hasText: keyName }).waitFor({ state: 'detached' });
  assert.equal(await authorize({ 'X-API-Key': newKey }, reports), 403, 'removed on the access tab');

  step = 'groups: create one, add a member';
  const groupName = `ui-team-${RUN}`;
  await go(page, '/groups', 'Groups');
  await page.getByLabel('Name', { exact: true }).fill(groupName);
  await page.getByLabel('Description', { exact: true }).fill('made by the console test');
  await page.getByRole('button', { name: 'Create group' }).click();
  const card = page.locator(`[data-group="${groupName}"]`);
  await card.waitFor();
  await card.getByLabel('Account name or id').fill(basicName);
  await card.getByRole('button', { name: 'Add member' }).click();
  await card.getByRole("link", { name: /^[a-z2-7]{16}$/ }).waitFor();

  step = 'delete through the 409 path, naming the flows';
  await go(page, `/accounts/${keyId}`, new RegExp(`^${keyName}`));
  await page.getByRole('button', { name: 'Delete', exact: true }).click();
  await confirm(page, 'Delete account');
  const refused = page.getByRole('dialog');
  await refused.getByTestId('delete-flows').waitFor();
  assert.equal((await refused.getByTestId('delete-flows').textContent()).trim(), 'orders');
  const force = refused.getByRole('button', { name: /Revoke 1 grant\(s\) and delete/ });
  assert.ok(await force.isDisabled(), 'the forced delete needs the name typed');
  await shot(page, 'delete-409');
  await refused.getByLabel(`Type ${keyName} to confirm`).fill(keyName);
  await force.click();
  await page.getByRole('heading', { level: 1, name: 'Accounts' }).waitFor();
  assert.equal((await adminApi('GET', `/accounts/${keyId}`)).status, 404, 'deleted');
  assert.equal(await authorize({ 'X-API-Key': newKey }), 401, 'its key is dead');

  step = 'accounts table: search and filters';
  await page.getByLabel('Name contains').fill(`ui-basic-${RUN}`);
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.getByRole('row').filter({ hasText: basicName }).waitFor();
  assert.equal(await page.locator('tbody tr').count(), 1, 'search finds one account');
  await page.getByLabel('Name contains').fill('');
  await page.getByLabel('Type', { exact: true }).selectOption('mtls');
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.getByRole('row').filter({ hasText: mtlsName }).waitFor();
  await page.getByRole('row').filter({ hasText: genName }).waitFor();
  assert.equal(await page.locator('tbody tr').count(), 2, 'type filter: the uploaded and the generated mtls account');
  await page.getByLabel('Type', { exact: true }).selectOption('');
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.getByRole('row').filter({ hasText: basicName }).waitFor();
  await shot(page, 'accounts');

  step = 'audit log: filtered by target and by actor';
  await go(page, '/audit', 'Audit log');
  await page.getByLabel('Target starts with').fill(`account:${keyId}`);
  await page.getByRole('button', { name: 'Apply' }).click();
  for (const action of ['account.delete', 'account.disable', 'account.enable', 'credential.reset', 'account.create']) {
    await page.getByRole('cell', { name: action, exact: true }).first().waitFor();
  }
  await shot(page, 'audit');
  await page.getByLabel('Target starts with').fill('');
  await page.getByLabel('Actor').fill('nobody-acted');
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.getByText('No entries.').waitFor();

  step = 'export download, import with a dry run, then apply';
  await go(page, '/transfer', 'Export and import');
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download export' }).click(),
  ]);
  const exported = JSON.parse(fs.readFileSync(await download.path(), 'utf8'));
  assert.equal(exported.format, 'flowgate/v1');
  const importedGroup = `imported-${RUN}`;
  exported.groups.push({ name: importedGroup, description: 'from an import', grants: [] });
  const importFile = path.join(OUT, 'import.json');
  fs.writeFileSync(importFile, JSON.stringify(exported));
  await page.getByLabel('Export document (JSON)').setInputFiles(importFile);
  await page.getByRole('button', { name: 'Dry run' }).click();
  await page.getByTestId('import-plan').waitFor();
  assert.equal((await page.getByTestId('import-plan').textContent()).trim(), `create group ${importedGroup}`);
  assert.equal((await adminApi('GET', `/groups/${importedGroup}`)).status, 404, 'a dry run writes nothing');
  await shot(page, 'import-dry-run');
  await page.getByRole('button', { name: 'Apply import' }).click();
  await page.locator('main').getByText('Import applied.', { exact: true }).waitFor();
  assert.equal((await adminApi('GET', `/groups/${importedGroup}`)).status, 200, 'applied');

  step = 'roles: create a custom role';
  await go(page, '/roles', 'Roles');
  await page.getByLabel('Name', { exact: true }).fill(`ui-reader-${RUN}`);
  await page.getByRole('checkbox', { name: 'accounts:read' }).check();
  await page.getByRole('button', { name: 'Create role' }).click();
  await page.getByRole('row').filter({ hasText: `ui-reader-${RUN}` }).waitFor();

  step = 'hostile text is shown as text and never runs';
  const payloads = [
    '<img src=x onerror="window.__xss=(window.__xss||0)+1">',
    '<script>window.__xss=(window.__xss||0)+1</script>',
    '"><svg onload="window.__xss=(window.__xss||0)+1">',
    '<a href="javascript:window.__xss=1">click</a><style>body{display:none}</style>',
  ];
  const hostile = payloads.join(' ');
  const xssAccount = await adminApi('POST', '/accounts', {
    name: `ui-xss-${RUN}`, credential_type: 'poller', description: hostile,
  });
  assert.equal(xssAccount.status, 201);
  assert.equal((await adminApi('POST', '/groups', { name: `xss-${RUN}`, description: hostile })).status, 201);
  assert.equal((await adminApi('POST', '/roles', { name: `xss-${RUN}`, description: hostile, permissions: ['audit:read'] })).status, 201);
  // A hostile value in a filter travels as text too.
  await go(page, '/audit', 'Audit log');
  await page.getByLabel('Target starts with').fill(payloads[0]);
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.getByText('No entries.').waitFor();
  for (const [hash, heading] of [[`/accounts/${xssAccount.json.id}`, `ui-xss-${RUN}`], ['/groups', 'Groups'], ['/roles', 'Roles']]) {
    await go(page, hash, new RegExp(`^${heading}`));
    await page.getByText(payloads[0], { exact: false }).first().waitFor();
  }
  await page.getByRole('link', { name: 'Accounts', exact: true }).click();
  await page.getByRole('heading', { level: 1, name: 'Accounts' }).waitFor();
  const xss = await page.evaluate(() => ({
    ran: window.__xss,
    injected: document.querySelectorAll('img[src="x"], svg[onload], main script, main style, a[href^="javascript:"]').length,
  }));
  assert.equal(xss.ran, undefined, 'no payload ran');
  assert.equal(xss.injected, 0, 'no payload became an element');

  step = 'readable at 400 px';
  await page.setViewportSize({ width: 400, height: 800 });
  await go(page, '/accounts', 'Accounts');
  await page.getByRole('row').filter({ hasText: basicName }).waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(overflow <= 400, `the page fits 400 px (scrollWidth ${overflow}); wide tables scroll inside their box`);
  await shot(page, 'narrow-400px', { fullPage: true });
  await page.setViewportSize({ width: 1280, height: 900 });

  step = 'sign out forgets the credential';
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'Sign in to flowgate' }).waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.length), 0, 'sessionStorage is empty after sign-out');
  await page.reload();
  await page.getByRole('heading', { name: 'Sign in to flowgate' }).waitFor();

  step = 'an account without a management role cannot use the console';
  const plain = await adminApi('POST', '/accounts', { name: `ui-plain-${RUN}`, credential_type: 'api_key' });
  assert.equal(plain.status, 201);
  await signIn(page, plain.json.secret);
  await page.getByText('holds no management role').waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.length), 0, 'its key is not kept');

  step = 'an auditor signs in with its API key and sees everything read-only';
  const auditor = await adminApi('POST', '/accounts', { name: `ui-auditor-${RUN}`, credential_type: 'api_key', roles: ['auditor'] });
  assert.equal(auditor.status, 201);
  await signIn(page, auditor.json.secret);
  await page.getByRole('heading', { level: 1, name: 'Accounts' }).waitFor();
  await page.getByText('read-only', { exact: true }).waitFor();
  assert.equal(await page.getByRole('link', { name: 'Create account' }).count(), 0, 'no create for an auditor');
  for (const label of ['Accounts', 'Flows', 'Groups', 'Roles', 'Audit log', 'Export / import']) {
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: label, exact: true }).waitFor();
  }
  await go(page, `/accounts/${pkjId}`, new RegExp(`^${pkjName}`));
  for (const action of ['Disable', 'Delete', 'Reset credential', 'Save changes', 'Add key']) {
    assert.equal(await page.getByRole('button', { name: action, exact: true }).count(), 0, `no ${action} for an auditor`);
  }
  await page.getByRole('heading', { name: 'Audit trail' }).waitFor();
  await go(page, '/flows/orders', 'Flow orders');
  assert.equal(await page.getByRole('button', { name: 'Grant account' }).count(), 0, 'no grant for an auditor');
  await page.goto(`${BASE}/console/#/accounts/new`);
  await page.getByRole('heading', { level: 1, name: 'Not allowed' }).waitFor();
  exported.groups.push({ name: `audited-${RUN}`, grants: [] });
  fs.writeFileSync(importFile, JSON.stringify(exported));
  await go(page, '/transfer', 'Export and import');
  await page.getByLabel('Export document (JSON)').setInputFiles(importFile);
  await page.getByRole('button', { name: 'Dry run' }).click();
  await page.getByTestId('import-plan').waitFor();
  assert.match(await page.getByTestId('import-plan').textContent(), new RegExp(`create group audited-${RUN}`));
  assert.equal(await page.locator('button', { hasText: 'Apply import' }).count(), 1);
  assert.ok(await page.locator('button', { hasText: 'Apply import' }).isHidden(), 'an auditor may dry-run but not apply');
}

const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'flowgate-console-'));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: process.env.FLOWGATE_CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
  viewport: { width: 1280, height: 900 },
  acceptDownloads: true,
});
const page = context.pages()[0] || await context.newPage();
page.setDefaultTimeout(15000);
page.on('console', (m) => {
  log.push(`[${m.type()}] ${m.text()}`);
  if (/Content Security Policy|Refused to/i.test(m.text())) problems.push(`CSP: ${m.text()}`);
});
page.on('pageerror', (e) => { log.push(`[pageerror] ${e.message}`); problems.push(`page error: ${e.message}`); });
page.on('dialog', async (d) => { problems.push(`unexpected ${d.type()} dialog: ${d.message()}`); await d.dismiss(); });

let failed = null;
const started = Date.now();
try {
  await run(page, context);
  step = 'no page error, no CSP violation, no alert';
  assert.deepEqual(problems, []);
} catch (err) {
  failed = err;
}
if (failed) {
  try { await page.screenshot({ path: path.join(OUT, 'failure.png'), fullPage: true }); } catch { /* page gone */ }
}
fs.writeFileSync(path.join(OUT, 'browser-console.log'), `${log.join('\n')}\n`);
await context.close();
fs.rmSync(userDataDir, { recursive: true, force: true });
if (failed) {
  console.error(`FAILED at step "${step}": ${failed.stack || failed}`);
  console.error(`screenshot and browser log: ${OUT}/failure.png, ${OUT}/browser-console.log`);
  process.exit(1);
}
console.log(`console end-to-end test passed in ${((Date.now() - started) / 1000).toFixed(1)} s; artifacts in ${OUT}`);
