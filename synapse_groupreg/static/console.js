// The console's entry (G2): sign-in (password or single sign-on), the
// caller's module roles (G7) and the views they allow, navigation by URL
// fragment, and the language switch (G3).

import { admin, ApiError, onUnauthorised, session, signOut } from "./console-api.js";
import { showAdoption } from "./console-adoption.js";
import { showAudit } from "./console-audit.js";
import { showCase } from "./console-case.js";
import { showQueue } from "./console-complaints.js";
import { language, setLanguage, t } from "./console-i18n.js";
import { showPending } from "./console-identities.js";
import { showLists } from "./console-lists.js";
import { showReveals } from "./console-reveals.js";
import { showRoom } from "./console-room.js";
import { showRegistry } from "./console-rooms.js";
import { completeSso, showSignIn, signInError, takeLoginToken } from "./console-signin.js";
import { showUser, showUsers } from "./console-user.js";
import { el, errorBox } from "./console-ui.js";

const app = document.getElementById("app");
const nav = document.getElementById("views");
const who = document.getElementById("signed-in-as");
const signOutButton = document.getElementById("sign-out");
const switcher = document.getElementById("language-switch");

// Each view, the module role it needs (owner holds them all), its routes.
const VIEWS = [
  { view: "complaints", role: "moderator", routes: [[/^#\/complaints\/([^/]+)$/, (r, m) => showCase(r, decodeURIComponent(m[1]))], [/^#\/complaints$/, (r) => showQueue(r)]] },
  { view: "identities", role: "identity_officer", routes: [[/^#\/identities$/, (r) => showPending(r)]] },
  { view: "reveals", role: "identity_officer", routes: [[/^#\/reveals$/, (r) => showReveals(r, roles)]] },
  { view: "rooms", role: "moderator", routes: [[/^#\/rooms\/([^/]+)$/, (r, m) => showRoom(r, decodeURIComponent(m[1]))], [/^#\/rooms$/, (r) => showRegistry(r)]] },
  { view: "users", role: "moderator", routes: [[/^#\/users\/([^/]+)$/, (r, m) => showUser(r, decodeURIComponent(m[1]), roles)], [/^#\/users$/, (r) => showUsers(r)]] },
  { view: "lists", role: "moderator", routes: [[/^#\/lists$/, (r) => showLists(r)]] },
  { view: "audit", role: "auditor", routes: [[/^#\/audit$/, (r) => showAudit(r, roles)]] },
  { view: "adoption", role: "auditor", routes: [[/^#\/adoption$/, (r) => showAdoption(r)]] },
];

// The signed-in person's roles, from GET /admin/v1/me.
let roles = [];

function holds(role) {
  return roles.includes("owner") || roles.includes(role);
}

function allowed() {
  return VIEWS.filter((v) => holds(v.role));
}

function label() {
  document.documentElement.lang = language();
  document.title = t("app.title");
  document.getElementById("title").textContent = t("app.title");
  document.getElementById("language-label").textContent = t("app.language");
  nav.setAttribute("aria-label", t("nav.label"));
  nav.replaceChildren(...allowed().map((v) => el("a", { href: `#/${v.view}`, id: `nav-${v.view}`, "data-view": v.view, text: t(`nav.${v.view}`) })));
  signOutButton.textContent = t("app.sign_out");
  switcher.value = language();
  const current = session();
  const named = roles.map((r) => t(`roles.${r}`)).join(t("roles.separator"));
  who.textContent = current ? t("app.signed_in_as", { user: current.user_id }) + (named ? ` · ${named}` : "") : "";
}

// Each view draws into a fresh section: an answer that arrives after the
// person has moved on lands in a section no longer on the page.
async function route() {
  if (!session()) return signInPage();
  const views = allowed();
  const hash = location.hash || `#/${views[0].view}`;
  for (const link of nav.querySelectorAll("a")) {
    if (hash.startsWith(`#/${link.dataset.view}`)) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  const root = el("section", { class: "view", "aria-live": "polite" });
  app.replaceChildren(root);
  for (const { routes } of views) {
    for (const [pattern, show] of routes) {
      const match = hash.match(pattern);
      if (match) return show(root, match);
    }
  }
  location.hash = `#/${views[0].view}`;
}

function signedIn(on) {
  nav.hidden = !on;
  signOutButton.hidden = !on;
  if (!on) roles = [];
  label();
}

function signInPage(message) {
  signedIn(false);
  return showSignIn(app, enter, message);
}

// After any sign-in: ask which roles this person holds. Nobody without one
// stays signed in here (their new session is ended at once).
async function enter() {
  let me;
  try {
    me = await admin("GET", "/me");
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return;
    throw e;
  }
  if (!me.roles.length) {
    const user = session()?.user_id ?? me.user_id;
    await signOut();
    await signInPage(noRole(user, me.roles_configured));
    return;
  }
  roles = me.roles;
  signedIn(true);
  await route();
}

function noRole(user, configured) {
  const text = configured ? t("signin.no_role", { user }) : t("signin.not_admin", { user });
  return el("p", { id: "not-admin", class: "error-message", role: "alert", text });
}

signOutButton.addEventListener("click", async () => {
  await signOut();
  location.hash = "";
  signInPage(el("p", { class: "success", role: "status", text: t("signin.signed_out") }));
});

switcher.addEventListener("change", () => {
  setLanguage(switcher.value);
  label();
  if (session() && roles.length) route();
  else signInPage();
});

onUnauthorised((e) => signInPage(errorBox(new ApiError(e.status, { errcode: e.errcode, error: t("signin.expired") }))));
window.addEventListener("hashchange", () => {
  if (session() && roles.length) route();
});

async function start() {
  label();
  const token = takeLoginToken();
  if (token) {
    try {
      await completeSso(token);
    } catch (e) {
      await signInPage();
      signInError(app, e);
      return;
    }
  }
  if (!session()) return signInPage();
  try {
    await enter();
  } catch (e) {
    app.replaceChildren(errorBox(e));
  }
}

start();
