// Four-eyes identity reveal (A6, G7) for identity officers: ask for a
// person's plaintext identity with a reason; approve or refuse what other
// officers asked; read your own approved request, once. The plaintext is
// shown only in the answer to that one read and never kept by the page.

import { admin, seg, session } from "./console-api.js";
import { t } from "./console-i18n.js";
import { badge, busy, el, errorBox, facts, field, formSuccess, heading, loading, table, term, when } from "./console-ui.js";

export async function showReveals(root) {
  const waiting = el("div", { id: "reveals-waiting" }, loading());
  const mine = el("div", { id: "reveals-mine" }, loading());
  const lists = { waiting, mine };
  root.replaceChildren(
    heading(t("reveals.title")),
    el("p", { class: "intro", text: t("reveals.intro") }),
    requestForm(lists),
    heading(t("reveals.waiting"), 3),
    waiting,
    heading(t("reveals.mine"), 3),
    mine,
  );
  await reload(lists);
}

async function reload(lists) {
  await Promise.all([loadWaiting(lists), loadMine(lists)]);
}

export function requestForm(lists, userId = "") {
  const user = el("input", { type: "text", id: "reveal-user", name: "user_id", "data-field": "user_id", value: userId, placeholder: "@user:server" });
  const reason = el("textarea", { id: "reveal-reason", name: "reason", "data-field": "reason", rows: 2, maxlength: 1000 });
  const form = el(
    "form",
    { id: "reveal-form", class: "panel" },
    el("h3", { text: t("reveals.ask") }),
    field(t("reveals.user"), user),
    field(t("reveals.reason"), reason, t("reveals.reason_hint")),
    el("button", { type: "submit", id: "reveal-submit", text: t("reveals.submit") }),
    el("div", { class: "form-message" }),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const answer = await busy(form, () =>
      admin("POST", `/identities/${seg(user.value.trim())}/reveal`, { body: { reason: reason.value } }),
    );
    if (!answer) return;
    if (answer.document_number) {
      formSuccess(form, t("reveals.revealed_now"));
      form.querySelector(".form-message").append(plaintext(answer));
    } else {
      formSuccess(form, t("reveals.asked", { id: answer.request_id }));
    }
    reason.value = "";
    if (lists) await reload(lists);
  });
  return form;
}

function plaintext(identity) {
  return el(
    "div",
    { class: "plaintext", id: "reveal-plaintext", role: "status" },
    facts([
      [t("reveals.name"), identity.name],
      [t("identities.document_type"), term("document", identity.document_type)],
      [t("reveals.number"), el("code", { text: identity.document_number })],
    ]),
    el("button", { type: "button", text: t("reveals.hide"), onclick: (e) => e.target.closest(".plaintext").remove() }),
  );
}

function statusBadge(status) {
  const kind = { pending: "open", approved: "ok", read: "ok", refused: "warn", expired: "warn" }[status] ?? "open";
  return badge(kind, term("reveal_status", status));
}

async function loadWaiting(lists) {
  let answer;
  try {
    answer = await admin("GET", "/identities/reveals", { query: { status: "pending", limit: 100 } });
  } catch (e) {
    lists.waiting.replaceChildren(errorBox(e));
    return;
  }
  const me = session()?.user_id;
  const rows = answer.requests.filter((r) => r.requester !== me).map((r) => [String(r.request_id), r.user_id, r.requester, r.reason, when(r.created_ts), when(r.expires_ts), decide(r, lists)]);
  lists.waiting.replaceChildren(table(t("reveals.waiting"), ["#", t("reveals.user"), t("reveals.requester"), t("reveals.reason"), t("reveals.asked_at"), t("reveals.expires"), t("actions")], rows, t("reveals.none_waiting")));
}

function decide(request, lists) {
  const path = `/identities/reveals/${seg(String(request.request_id))}`;
  const approve = el("form", { class: "row-form", "data-request": request.request_id }, el("button", { type: "submit", class: "approve", text: t("reveals.approve") }), el("div", { class: "form-message" }));
  approve.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (await busy(approve, () => admin("POST", `${path}/approve`, { body: {} }))) await reload(lists);
  });
  const note = el("input", { type: "text", name: "reason", "data-field": "reason", id: `refuse-reason-${request.request_id}` });
  const refuse = el("form", { class: "row-form", "data-request": request.request_id }, field(t("reveals.refusal"), note), el("button", { type: "submit", class: "reject", text: t("reveals.refuse") }), el("div", { class: "form-message" }));
  refuse.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (await busy(refuse, () => admin("POST", `${path}/refuse`, { body: { reason: note.value } }))) await reload(lists);
  });
  return el("div", { class: "row-actions" }, approve, refuse);
}

async function loadMine(lists) {
  let answer;
  try {
    answer = await admin("GET", "/identities/reveals", { query: { mine: "true", limit: 50 } });
  } catch (e) {
    lists.mine.replaceChildren(errorBox(e));
    return;
  }
  const rows = answer.requests.map((r) => [String(r.request_id), r.user_id, r.reason, statusBadge(r.status), r.approvers.join(", ") || "—", when(r.expires_ts), r.status === "approved" ? readButton(r) : "—"]);
  lists.mine.replaceChildren(table(t("reveals.mine"), ["#", t("reveals.user"), t("reveals.reason"), t("reveals.status"), t("reveals.approvers"), t("reveals.expires"), t("actions")], rows, t("reveals.none_mine")));
}

// Reading is the one GET that answers the plaintext, once.
function readButton(request) {
  const form = el("form", { class: "row-form", "data-request": request.request_id }, el("button", { type: "submit", class: "read", text: t("reveals.read") }), el("div", { class: "form-message" }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const answer = await busy(form, () => admin("GET", `/identities/reveals/${seg(String(request.request_id))}`));
    if (!answer) return;
    form.querySelector("button").remove();
    if (answer.identity) form.querySelector(".form-message").append(plaintext(answer.identity));
    else formSuccess(form, term("reveal_status", answer.status));
  });
  return form;
}
