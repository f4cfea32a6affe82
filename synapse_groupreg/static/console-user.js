// One user as the governors see them: identity level (the masked identity
// too, for identity officers, on request: each look is an audited identity
// access), credit and its history (D1), sanctions (D3), complaints about
// them (E1) and the blacklist entries that apply to them (D4).

import { admin, seg } from "./console-api.js";
import { caseLink, caseStatus } from "./console-complaints.js";
import { t } from "./console-i18n.js";
import { requestForm } from "./console-reveals.js";
import { badge, busy, el, errorBox, facts, field, fill, heading, loading, orDash, table, term, when } from "./console-ui.js";

export function userLink(userId) {
  return el("a", { href: `#/users/${encodeURIComponent(userId)}`, text: userId });
}

export async function showUsers(root) {
  const user = el("input", { type: "search", id: "user-search", name: "user_id", "data-field": "user_id", placeholder: "@user:server", autocomplete: "off" });
  const form = el("form", { class: "filters", role: "search", id: "user-form" }, field(t("user.id"), user, t("user.id_hint")), el("button", { type: "submit", text: t("search") }), el("div", { class: "form-message" }));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const id = user.value.trim();
    if (id) location.hash = `#/users/${encodeURIComponent(id)}`;
  });
  root.replaceChildren(heading(t("users.title")), el("p", { class: "intro", text: t("users.intro") }), form);
  user.focus();
}

export async function showUser(root, userId, roles) {
  root.replaceChildren(heading(t("user.title", { id: userId })), loading());
  let overview;
  let credit;
  let sanctions;
  let cases;
  try {
    [overview, credit, sanctions, cases] = await Promise.all([
      admin("GET", `/users/${seg(userId)}`),
      admin("GET", `/users/${seg(userId)}/credit`, { query: { limit: 50 } }),
      admin("GET", `/users/${seg(userId)}/sanctions`, { query: { limit: 100 } }),
      admin("GET", "/complaints", { query: { target: userId, limit: 100 } }).catch(() => ({ cases: [] })),
    ]);
  } catch (e) {
    root.replaceChildren(heading(t("user.title", { id: userId })), errorBox(e));
    return;
  }
  const officer = roles.includes("owner") || roles.includes("identity_officer");
  fill(root,
    el("p", {}, el("a", { href: "#/users", text: t("user.back") })),
    heading(t("user.title", { id: userId })),
    facts([
      [t("user.id"), el("code", { id: "user-detail-id", text: userId })],
      [t("user.account"), overview.exists ? t("user.exists") : t("user.missing")],
      [t("user.level"), el("span", { id: "user-level" }, badge(overview.level === "id" ? "ok" : "open", term("level", overview.level)))],
      [t("user.credit"), el("span", { id: "user-credit" }, `${credit.score} · ${term("band", credit.band)}`)],
    ]),
    officer && overview.real_name ? identitySection(userId) : null,
    heading(t("user.credit_history"), 3),
    table(t("user.credit_history"), [t("user.when"), t("user.change"), t("user.score_after"), t("user.reason")], credit.history.map((h) => [when(h.ts), signed(h.delta), String(h.score_after), orDash(h.reason)]), t("user.no_history")),
    heading(t("user.sanctions"), 3),
    table(t("user.sanctions"), [t("sanction.id"), t("sanction.action"), t("sanction.status"), t("sanction.reason"), t("sanction.created"), t("sanction.expires")], sanctions.sanctions.map((s) => [s.sanction_id, term("action", s.action), term("sanction_status", s.status), s.reason, when(s.created_ts), when(s.expires_ts)]), t("user.no_sanctions")),
    heading(t("user.complaints"), 3),
    table(t("user.complaints"), [t("complaints.case"), t("complaints.status"), t("complaints.category"), t("complaints.reporters")], cases.cases.map((c) => [caseLink(c.case_id), caseStatus(c.status), term("category", c.category), String(c.reporters)]), t("user.no_complaints")),
    heading(t("user.blacklist"), 3),
    table(t("user.blacklist"), [t("lists.entry"), t("lists.kind"), t("lists.status"), t("lists.reason"), t("lists.expires")], overview.blacklist.map((b) => [b.entry_id, term("blacklist_kind", b.kind), term("entry_status", b.status), b.reason, when(b.expires_ts)]), t("user.no_blacklist")),
  );
}

function signed(delta) {
  return delta > 0 ? `+${delta}` : String(delta);
}

// The masked identity is fetched only when asked for: each look is an
// identity access in the audit log (A6).
function identitySection(userId) {
  const slot = el("div", { id: "user-identity" });
  const form = el("form", { class: "row-form", id: "identity-show" }, el("button", { type: "submit", text: t("user.show_identity") }), el("div", { class: "form-message" }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const view = await busy(form, () => admin("GET", `/identities/${seg(userId)}`));
    if (!view) return;
    form.remove();
    slot.append(
      facts([
        [t("identities.document_type"), term("document", view.document_type)],
        [t("identities.masked_name"), orDash(view.masked_name)],
        [t("identities.masked_number"), view.masked_number ? el("code", { text: view.masked_number }) : "—"],
        [t("user.verified"), `${when(view.verified_ts)} · ${orDash(view.method)}`],
      ]),
      requestForm(null, userId),
    );
  });
  return el("section", { class: "panel" }, el("h3", { text: t("user.identity") }), el("p", { class: "hint", text: t("user.identity_hint") }), form, slot);
}
