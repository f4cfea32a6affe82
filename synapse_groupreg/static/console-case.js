// One complaint case (E2, E3): its facts, reports and history; take it or
// give it to an admin; decide it with an outcome, a note for the reporters
// and optionally a sanction (D2, D3); close it once decided.

import { admin, seg } from "./console-api.js";
import { caseStatus, overdueFlag, target } from "./console-complaints.js";
import { t } from "./console-i18n.js";
import { roomLink } from "./console-rooms.js";
import { busy, el, errorBox, facts, field, heading, loading, orDash, select, table, term, when } from "./console-ui.js";

const OPEN = ["received", "triaged"];
const ROOM_ACTIONS = ["warn", "suspend_posting", "close"];
const USER_ACTIONS = ["lower_credit", "suspend_admin", "revoke_creation"];

export async function showCase(root, caseId, notice) {
  root.replaceChildren(heading(t("case.title", { id: caseId })), loading());
  let c;
  try {
    c = await admin("GET", `/complaints/${seg(caseId)}`);
  } catch (e) {
    root.replaceChildren(back(), heading(t("case.title", { id: caseId })), errorBox(e));
    return;
  }
  root.replaceChildren(
    back(),
    el("h2", {}, t("case.title", { id: c.case_id }), " ", caseStatus(c.status), " ", overdueFlag(c.overdue)),
  );
  if (notice) root.append(notice);
  root.append(caseFacts(c), heading(t("case.evidence"), 3), el("pre", { class: "evidence", text: JSON.stringify(c.evidence ?? {}, null, 2) }));
  root.append(heading(t("case.reports"), 3), reports(c.report_list ?? []));
  if (OPEN.includes(c.status)) root.append(assignForm(root, c), decisionForm(root, c));
  if (c.status === "decided") root.append(closeForm(root, c));
  root.append(heading(t("case.history"), 3), history(c.history ?? []));
}

function back() {
  return el("p", {}, el("a", { href: "#/complaints", text: t("case.back") }));
}

function caseFacts(c) {
  const group = c.group;
  return facts([
    [t("complaints.kind"), term("kind", c.kind)],
    [t("case.source"), term("source", c.source)],
    [t("complaints.category"), term("category", c.category)],
    [t("complaints.target"), target(c)],
    c.room_id ? [t("case.room"), roomLink(c.room_id, group?.code ? `${group.code} (${c.room_id})` : c.room_id)] : null,
    group ? [t("case.group"), `${orDash(group.code)} · ${term("class", group.class)} · ${orDash(group.category)} · ${group.creator}`] : null,
    [t("case.subject"), orDash(c.subject)],
    [t("case.created"), when(c.created_ts)],
    [t("complaints.acknowledge_by"), when(c.acknowledge_by)],
    [t("complaints.decide_by"), when(c.decide_by)],
    [t("complaints.assignee"), orDash(c.assignee)],
    [t("complaints.reporters"), t("case.reporters_count", { reporters: c.reporters, reports: c.reports })],
    c.outcome ? [t("case.outcome"), term("outcome", c.outcome)] : null,
    c.note ? [t("case.note"), c.note] : null,
    c.decided_ts ? [t("case.decided"), `${when(c.decided_ts)} · ${orDash(c.decided_by)}`] : null,
    c.sanctions?.length ? [t("case.sanctions"), c.sanctions.map((s) => `${s.sanction_id} ${term("action", s.action)} ${s.target}`).join("; ")] : null,
    c.closed_ts ? [t("case.closed"), `${when(c.closed_ts)} · ${orDash(c.closed_by)}`] : null,
  ]);
}

function reports(list) {
  const rows = list.map((r) => [r.reporter, term("source", r.source), when(r.ts), orDash(r.reason), r.held ? t("yes") : t("no")]);
  return table(t("case.reports"), [t("case.reporter"), t("case.source"), t("case.when"), t("case.reason"), t("complaints.held")], rows, t("case.no_reports"));
}

function history(entries) {
  const rows = entries.map((e) => [when(e.ts), orDash(e.actor), el("code", { text: e.action })]);
  return table(t("case.history"), [t("case.when"), t("case.actor"), t("case.action")], rows, "—");
}

function form(id, title, ...children) {
  return el("form", { id, class: "panel" }, el("h3", { text: title }), ...children, el("div", { class: "form-message" }));
}

function assignForm(root, c) {
  const assignee = el("input", { type: "text", id: "assign-to", name: "assignee", "data-field": "assignee", placeholder: "@admin:server" });
  const f = form(
    "assign-form",
    t("case.assign_title"),
    field(t("case.assignee"), assignee, t("case.assignee_hint")),
    el("button", { type: "submit", id: "assign-submit", text: t("case.assign") }),
  );
  f.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = assignee.value.trim() ? { assignee: assignee.value.trim() } : {};
    const done = await busy(f, () => admin("POST", `/complaints/${seg(c.case_id)}/assign`, { body }));
    if (done) await showCase(root, c.case_id, success(t("case.assigned", { user: done.assignee })));
  });
  return f;
}

function decisionForm(root, c) {
  const appeal = c.kind === "appeal";
  const outcomes = appeal ? ["reversed", "upheld"] : ["violation", "no_violation", "invalid"];
  const outcome = select({ id: "decision-outcome", name: "outcome", "data-field": "outcome" }, outcomes.map((o) => [o, term("outcome", o)]), outcomes[0]);
  const note = el("textarea", { id: "decision-note", name: "note", "data-field": "note", rows: 3, maxlength: 4000 });
  const record = el("input", { type: "checkbox", id: "decision-record", name: "record_violation", "data-field": "record_violation", checked: true });
  const withSanction = el("input", { type: "checkbox", id: "decision-add-sanction" });
  const sanction = sanctionFields(c);
  const confirm = el(
    "div",
    { class: "confirm", id: "decision-confirm", role: "alertdialog", "aria-labelledby": "decision-confirm-text", hidden: true },
    el("p", { id: "decision-confirm-text", text: t("sanction.close_confirm", { code: c.group?.code ?? c.room_id ?? c.target }) }),
    el("button", { type: "button", id: "decision-confirm-yes", class: "danger", text: t("sanction.close_yes") }),
    el("button", { type: "button", text: t("cancel"), onclick: () => (confirm.hidden = true) }),
  );
  const f = form(
    "decision-form",
    t("case.decide_title"),
    field(t("case.outcome"), outcome),
    field(t("case.note"), note, t("case.note_hint")),
    appeal ? null : el("div", { class: "check" }, record, el("label", { for: record.id, text: t("case.record_violation") })),
    appeal ? null : el("div", { class: "check" }, withSanction, el("label", { for: withSanction.id, text: t("case.with_sanction") })),
    appeal ? null : sanction.fieldset,
    el("button", { type: "submit", id: "decision-submit", text: t("case.decide") }),
    confirm,
  );
  const shape = () => {
    sanction.fieldset.hidden = !withSanction.checked;
    confirm.hidden = true;
  };
  withSanction.addEventListener("change", shape);
  shape();
  const send = async () => {
    confirm.hidden = true;
    const body = { outcome: outcome.value, note: note.value };
    if (!appeal) {
      body.record_violation = record.checked;
      if (withSanction.checked) body.sanctions = [sanction.value()];
    }
    const done = await busy(f, () => admin("POST", `/complaints/${seg(c.case_id)}/decision`, { body }));
    if (done) await showCase(root, c.case_id, decided(done));
  };
  f.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!appeal && withSanction.checked && sanction.value().action === "close") {
      confirm.hidden = false;
      confirm.querySelector("#decision-confirm-yes").focus();
      return;
    }
    await send();
  });
  confirm.querySelector("#decision-confirm-yes").addEventListener("click", send);
  return f;
}

// One sanction of a decision; its fields are `sanctions[0].x` to the API.
function sanctionFields(c) {
  const name = (key) => `sanctions[0].${key}`;
  const action = select(
    { id: "decision-sanction-action", "data-field": name("action") },
    [...ROOM_ACTIONS, ...USER_ACTIONS].map((a) => [a, term("action", a)]),
    "warn",
  );
  const input = (key, attrs = {}) => el("input", { type: "text", id: `decision-sanction-${key}`, "data-field": name(key), ...attrs });
  const targetInput = input("target", { placeholder: c.room_id ?? c.subject ?? "" });
  const duration = input("duration", { placeholder: "24h" });
  const deadline = input("deadline", { placeholder: "7d" });
  const amount = input("amount", { type: "number", min: 1, step: 1 });
  const reason = input("reason");
  const fieldset = el(
    "fieldset",
    { id: "decision-sanction" },
    el("legend", { text: t("case.sanction_legend") }),
    field(t("sanction.action"), action),
    field(t("case.sanction_target"), targetInput, t("case.sanction_target_hint")),
    field(t("sanction.duration"), duration, t("sanction.duration_hint")),
    field(t("sanction.deadline_in"), deadline, t("sanction.deadline_hint")),
    field(t("case.amount"), amount),
    field(t("sanction.reason"), reason, t("case.sanction_reason_hint")),
  );
  const value = () => {
    const spec = { action: action.value };
    for (const [key, control] of [["target", targetInput], ["duration", duration], ["deadline", deadline], ["reason", reason]]) {
      if (control.value.trim()) spec[key] = control.value.trim();
    }
    // A number the browser cannot read stays text, so the API names the field.
    if (amount.value.trim()) spec.amount = Number.isInteger(Number(amount.value)) ? Number(amount.value) : amount.value;
    return spec;
  };
  return { fieldset, value };
}

function decided(answer) {
  const box = success(t("case.decided_notice", { outcome: term("outcome", answer.case.outcome), notified: answer.notified.length }));
  for (const problem of answer.sanction_errors ?? []) {
    const where = problem.field ? ` (${problem.field})` : "";
    box.append(el("p", { class: "warning", role: "alert", text: `${t("case.sanction_error")}${where}: ${problem.error}` }));
  }
  return box;
}

function closeForm(root, c) {
  const note = el("textarea", { id: "close-note", name: "note", "data-field": "note", rows: 2, maxlength: 4000 });
  const f = form("close-form", t("case.close_title"), field(t("case.close_note"), note), el("button", { type: "submit", id: "close-submit", text: t("case.close") }));
  f.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = note.value.trim() ? { note: note.value } : {};
    const done = await busy(f, () => admin("POST", `/complaints/${seg(c.case_id)}/close`, { body }));
    if (done) await showCase(root, c.case_id, success(t("case.closed_notice")));
  });
  return f;
}

function success(text) {
  return el("div", { class: "success", role: "status", id: "case-notice" }, el("p", { text }));
}
