// Signing in (G2): with a password where Synapse accepts one, and with
// single sign-on where Synapse offers it (its SSO redirect, back here with
// a login token that becomes the session); either way the access token
// stays in this tab's sessionStorage only.

import { loginFlows, signIn, signInWithLoginToken, ssoUrl } from "./console-api.js";
import { t } from "./console-i18n.js";
import { busy, el, errorBox, field, formError } from "./console-ui.js";

// The login token Synapse appended after SSO, taken out of the address bar
// (and the history) before anything else runs.
export function takeLoginToken() {
  const url = new URL(location.href);
  const token = url.searchParams.get("loginToken");
  if (!token) return null;
  url.searchParams.delete("loginToken");
  history.replaceState(null, "", `${url.pathname}${url.search}${url.hash}`);
  return token;
}

export async function completeSso(token) {
  await signInWithLoginToken(token);
}

// The sign-in panel; `done()` runs once a session exists.
export async function showSignIn(app, done, message) {
  const form = el("form", { id: "sign-in", class: "panel narrow" }, el("h2", { text: t("signin.title") }), el("p", { class: "intro", text: t("signin.intro") }));
  const slot = el("div", { class: "form-message" }, message ?? null);
  app.replaceChildren(form);
  let flows;
  try {
    flows = await loginFlows();
  } catch (e) {
    form.append(errorBox(e), slot);
    return;
  }
  if (flows.sso) form.append(ssoChoices(flows.providers));
  if (flows.password) {
    if (flows.sso) form.append(el("p", { class: "or", text: t("signin.or_password") }));
    const user = el("input", { type: "text", id: "sign-in-user", name: "user", autocomplete: "username", "data-field": "user" });
    const password = el("input", { type: "password", id: "sign-in-password", name: "password", autocomplete: "current-password", "data-field": "password" });
    form.append(
      field(t("signin.user"), user, t("signin.user_hint")),
      field(t("signin.password"), password),
      el("button", { type: "submit", id: "sign-in-submit", text: t("signin.submit") }),
    );
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      await busy(form, async () => {
        await signIn(user.value.trim(), password.value);
        password.value = "";
        await done();
      });
    });
    user.focus();
  }
  if (!flows.password && !flows.sso) form.append(el("p", { class: "error-message", text: t("signin.no_flow") }));
  form.append(slot);
}

function ssoChoices(providers) {
  const list = providers.length ? providers : [{ id: null, name: t("signin.sso") }];
  return el(
    "div",
    { class: "sso", id: "sign-in-sso" },
    list.map((p) =>
      el("a", {
        class: "button sso-button",
        href: ssoUrl(p.id),
        "data-idp": p.id ?? "",
        text: t("signin.sso_with", { name: p.name ?? p.id }),
      }),
    ),
  );
}

export function signInError(app, error) {
  const form = app.querySelector("#sign-in");
  if (form) formError(form, error);
}
