// The one way the console talks to flowgate: the documented /admin/v1 API,
// same origin, with the signed-in credential as a bearer token.

import { credential, signOut } from './session.js';

export class ApiError extends Error {
  constructor(status, body) {
    const text = body && (body.message || body.error);
    super(text ? `${text} (HTTP ${status})` : `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
  }
}

/** Calls `method path` below /admin/v1 with a JSON body; resolves with the
 *  parsed response (null for 204), rejects with ApiError. A 401 ends the
 *  session: the credential is no longer valid. */
export async function api(method, path, body) {
  const headers = { Authorization: `Bearer ${credential()}` };
  const init = { method, headers, cache: 'no-store', credentials: 'omit', referrerPolicy: 'no-referrer' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(`/admin/v1${path}`, init);
  } catch (err) {
    throw new ApiError(0, { message: `network error: ${err.message}` });
  }
  const text = await response.text();
  let parsed = null;
  if (text) {
    try { parsed = JSON.parse(text); } catch { parsed = { message: text.slice(0, 200) }; }
  }
  if (response.status === 401) {
    signOut('Your credential was refused (expired, revoked or disabled). Sign in again.');
    throw new ApiError(401, parsed);
  }
  if (!response.ok) throw new ApiError(response.status, parsed);
  return parsed;
}

/** Encodes one path segment or query value. */
export const enc = encodeURIComponent;

/** A query string from an object, skipping empty values. */
export function query(params) {
  const parts = Object.entries(params)
    .filter(([, v]) => v !== undefined && v !== null && v !== '')
    .map(([k, v]) => `${enc(k)}=${enc(v)}`);
  return parts.length ? `?${parts.join('&')}` : '';
}

/** The id of the account named `text` (or `text` itself if it is an id);
 *  the error names the form field `account`. */
export async function accountId(text) {
  if (/^[a-z2-7]{16}$/.test(text)) return text;
  const found = await api('GET', `/accounts${query({ name: text, limit: 200 })}`);
  const exact = found.items.find((a) => a.name === text);
  if (!exact) throw Object.assign(new Error(`no account named ${text}`), { body: { field: 'account' } });
  return exact.id;
}
