// The signed-in credential lives only in this tab's sessionStorage: never in
// a URL, a cookie or localStorage. Signing out forgets it.

const KEY = 'flowgate.credential';
let me = null;
let onSignOut = () => {};

export function credential() {
  return sessionStorage.getItem(KEY) || '';
}

export function remember(value) {
  sessionStorage.setItem(KEY, value);
}

export function setMe(value) {
  me = value;
}

/** Who is signed in (GET /admin/v1/me), or null. */
export function whoami() {
  return me;
}

/** Whether the signed-in caller holds `permission`. */
export function can(permission) {
  return !!me && me.permissions.includes(permission);
}

export function whenSignedOut(callback) {
  onSignOut = callback;
}

export function signOut(reason) {
  sessionStorage.removeItem(KEY);
  me = null;
  onSignOut(reason);
}
