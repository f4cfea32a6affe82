// The console's entry (G2): sign-in, the admin check, navigation between
// the complaint queue (E2), identity review (A3) and the room registry
// (B4-B6), and the language switch (G3).

import { admin, ApiError, onUnauthorised, session, signIn, signOut } from "./console-api.js";
import { showCase } from "./console-case.js";
import { showQueue } from "./console-complaints.js";
import { language, setLanguage, t } from "./console-i18n.js";
import { showPending } from "./console-identities.js";
import { showRoom } from "./console-room.js";
import { showRegistry } from "./console-rooms.js";
import { busy, el, errorBox, field, formError } from "./console-ui.js";

const app = document.getElementById("app");
const nav = document.getElementById("views");
const who = document.getElementById("signed-in-as");
const signOutButton = document.getElementById("sign-out");
const switcher = document.getElementById("language-switch");

const ROUTES = [
  [/^#\/complaints\/([^/]+)$/, (root, m) => showCase(root, decodeURIComponent(m[1]))],
  [/^#\/complaints$/, (root) => showQueue(root)],
  [/^#\/identities$/, (root) => showPending(root)],
  [/^#\/rooms\/([^/]+)$/, (root, m) => showRoom(root, decodeURIComponent(m[1]))],
  [/^#\/rooms$/, (root) => showRegistry(root)],
];

// Static labels of the page frame, in the chosen language.
function label() {
  document.documentElement.lang = language();
  document.title = t("app.title");
  document.getElementById("title").textContent = t("app.title");
  document.getElementById("language-label").textContent = t("app.language");
  nav.setAttribute("aria-label", t("nav.label"));
  for (const link of nav.querySelectorAll("a")) link.textContent = t(`nav.${link.dataset.view}`);
  signOutButton.textContent = t("app.sign_out");
  switcher.value = language();
  const current = session();
  who.textContent = current ? t("app.signed_in_as", { user: current.user_id }) : "";
}

// Each view draws into a fresh section: an answer that arrives after the
// admin has moved on lands in a section no longer on the page.
async function route() {
  if (!session()) return showSignIn();
  const hash = location.hash || "#/complaints";
  for (const link of nav.querySelectorAll("a")) {
    const here = hash.startsWith(`#/${link.dataset.view}`);
    if (here) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  const root = el("section", { class: "view", "aria-live": "polite" });
  app.replaceChildren(root);
  for (const [pattern, show] of ROUTES) {
    const match = hash.match(pattern);
    if (match) return show(root, match);
  }
  location.hash = "#/complaints";
}

function signedIn(on) {
  nav.hidden = !on;
  signOutButton.hidden = !on;
  label();
}

function showSignIn(message) {
  signedIn(false);
  const user = el("input", { type: "text", id: "sign-in-user", name: "user", autocomplete: "username", "data-field": "user" });
  const password = el("input", { type: "password", id: "sign-in-password", name: "password", autocomplete: "current-password", "data-field": "password" });
  const form = el(
    "form",
    { id: "sign-in", class: "panel narrow" },
    el("h2", { text: t("signin.title") }),
    el("p", { class: "intro", text: t("signin.intro") }),
    field(t("signin.user"), user, t("signin.user_hint")),
    field(t("signin.password"), password),
    el("button", { type: "submit", id: "sign-in-submit", text: t("signin.submit") }),
    el("div", { class: "form-message" }, message ?? null),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    await busy(form, async () => {
      await signIn(user.value.trim(), password.value);
      const refusal = await adminRefusal();
      if (refusal?.status === 401) return;
      if (refusal) {
        // A non-admin gets nothing here: end the session they just opened.
        const name = session()?.user_id ?? user.value;
        await signOut();
        password.value = "";
        formError(form, refusal);
        form.querySelector(".form-message").prepend(notAdmin(name));
        return;
      }
      signedIn(true);
      await route();
    });
  });
  app.replaceChildren(form);
  user.focus();
}

function notAdmin(user) {
  return el("p", { id: "not-admin", class: "error-message", role: "alert", text: t("signin.not_admin", { user }) });
}

// The admin API answers 403 to anyone who is not a server admin; a cheap
// registry read asks the question without touching anything.
async function adminRefusal() {
  try {
    await admin("GET", "/rooms", { query: { limit: 1 } });
    return null;
  } catch (e) {
    if (e instanceof ApiError && (e.status === 401 || e.status === 403)) return e;
    return null; // Other faults show in the views, where they happen.
  }
}

signOutButton.addEventListener("click", async () => {
  await signOut();
  location.hash = "";
  showSignIn(el("p", { class: "success", role: "status", text: t("signin.signed_out") }));
});

switcher.addEventListener("change", () => {
  setLanguage(switcher.value);
  label();
  if (session()) route();
  else showSignIn();
});

onUnauthorised((e) => showSignIn(errorBox(new ApiError(e.status, { errcode: e.errcode, error: t("signin.expired") }))));
window.addEventListener("hashchange", () => route());

async function start() {
  label();
  if (!session()) return showSignIn();
  const user = session().user_id;
  const refusal = await adminRefusal();
  if (refusal?.status === 401) return undefined; // onUnauthorised showed the sign-in.
  if (refusal) {
    await signOut();
    return showSignIn(notAdmin(user));
  }
  signedIn(true);
  await route();
}

start();
