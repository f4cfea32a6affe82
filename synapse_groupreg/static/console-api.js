// The console's only way to the server: Synapse's own sign-in and sign-out
// (Matrix client API) and the module's admin API, same origin. The access
// token lives in sessionStorage: gone when the tab closes, never in a cookie.

const SESSION_KEY = "groupreg.console.session";
const LOGIN = "/_matrix/client/v3/login";
const LOGOUT = "/_matrix/client/v3/logout";
export const ADMIN = "/_synapse/client/groupreg/admin/v1";

// An answer that is not 2xx, with what the server said about it: the
// message, the Matrix errcode, the module's reason and the field at fault.
export class ApiError extends Error {
  constructor(status, body) {
    const message = body && typeof body.error === "string" ? body.error : `HTTP ${status}`;
    super(message);
    this.status = status;
    this.errcode = body?.errcode ?? null;
    this.reason = body?.["org.groupreg.reason"] ?? null;
    this.field = body?.field ?? null;
  }
}

let unauthorised = () => {};

// Called when the server no longer knows the token (401): the view signs out.
export function onUnauthorised(handler) {
  unauthorised = handler;
}

export function session() {
  try {
    const stored = JSON.parse(sessionStorage.getItem(SESSION_KEY) ?? "null");
    return stored && typeof stored.access_token === "string" ? stored : null;
  } catch {
    return null;
  }
}

function forget() {
  sessionStorage.removeItem(SESSION_KEY);
}

async function call(method, url, body, token, raw = false) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
      cache: "no-store",
    });
  } catch (e) {
    throw new ApiError(0, { errcode: "NETWORK", error: String(e?.message ?? e) });
  }
  const text = await response.text();
  if (raw && response.ok) return text;
  let answer = {};
  if (text) {
    try {
      answer = JSON.parse(text);
    } catch {
      answer = { error: text.slice(0, 300) };
    }
  }
  if (!response.ok) throw new ApiError(response.status, answer);
  return answer;
}

function keep(answer) {
  const stored = { access_token: answer.access_token, user_id: answer.user_id };
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(stored));
  return stored;
}

// Sign in with a user name (or full Matrix id) and password, as Element does.
export async function signIn(user, password) {
  return keep(
    await call("POST", LOGIN, {
      type: "m.login.password",
      identifier: { type: "m.id.user", user },
      password,
      initial_device_display_name: "groupreg console",
    }),
  );
}

// How this server lets people sign in (Synapse's GET /login): whether a
// password is accepted, and the single sign-on providers it offers.
export async function loginFlows() {
  const answer = await call("GET", LOGIN);
  const flows = Array.isArray(answer.flows) ? answer.flows : [];
  const sso = flows.find((f) => f.type === "m.login.sso");
  return {
    password: flows.some((f) => f.type === "m.login.password"),
    sso: Boolean(sso),
    providers: Array.isArray(sso?.identity_providers) ? sso.identity_providers : [],
  };
}

// Where to send the browser for single sign-on: Synapse's SSO redirect
// with this page as the target; Synapse sends it back with ?loginToken=.
export function ssoUrl(providerId) {
  const target = `${location.origin}${location.pathname}`;
  const base = providerId ? `${LOGIN}/sso/redirect/${encodeURIComponent(providerId)}` : `${LOGIN}/sso/redirect`;
  return `${base}?redirectUrl=${encodeURIComponent(target)}`;
}

// The short-lived token Synapse's SSO put in the URL, exchanged once for a
// session (m.login.token) and removed from the address bar and history.
export async function signInWithLoginToken(token) {
  return keep(
    await call("POST", LOGIN, {
      type: "m.login.token",
      token,
      initial_device_display_name: "groupreg console",
    }),
  );
}

// End the session on the server too; the token is forgotten either way.
export async function signOut() {
  const current = session();
  forget();
  if (!current) return;
  try {
    await call("POST", LOGOUT, {}, current.access_token);
  } catch {
    // A token the server already dropped is as good as logged out.
  }
}

function url(path, query) {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value !== null && value !== undefined && value !== "") params.set(name, String(value));
  }
  const search = params.toString();
  return `${ADMIN}${path}${search ? `?${search}` : ""}`;
}

// One admin API call: `path` below /admin/v1, its ids already encoded (see
// `seg`); `raw` answers the body as text (the JSONL export).
export async function admin(method, path, { query, body, raw } = {}) {
  const current = session();
  try {
    return await call(method, url(path, query), body, current?.access_token, raw);
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      forget();
      unauthorised(e);
    }
    throw e;
  }
}

// A path segment: room, user, event and case ids hold ':' '!' '@' '$'.
export function seg(id) {
  return encodeURIComponent(id);
}
