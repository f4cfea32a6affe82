// The complaint queue (E2): cases oldest first with their status, category,
// target, reporters, deadlines and whether they are overdue; filtered by
// status, overdue and kind, paged with next_token.

import { admin } from "./console-api.js";
import { t } from "./console-i18n.js";
import { badge, el, errorBox, field, heading, loading, newPaging, orDash, pager, select, table, term, when } from "./console-ui.js";

const paging = newPaging();
const OPEN = "received,triaged";
const filters = { status: OPEN, overdue: "", kind: "" };

export function caseLink(caseId) {
  return el("a", { href: `#/complaints/${encodeURIComponent(caseId)}`, text: caseId });
}

export function caseStatus(status) {
  return badge(status === "closed" || status === "decided" ? "ok" : "open", term("case_status", status));
}

// The deadlines a case has missed, or nothing when it is on time.
export function overdueFlag(overdue) {
  if (!overdue || overdue.length === 0) return null;
  const missed = overdue.map((d) => term("deadline", d)).join(", ");
  return badge("overdue", t("complaints.overdue_flag", { missed }));
}

export function target(c) {
  return el("span", {}, el("span", { class: "muted", text: `${term("target_type", c.target_type)} ` }), el("code", { text: c.target }));
}

export async function showQueue(root) {
  const list = el("div", { id: "case-list" }, loading());
  root.replaceChildren(heading(t("complaints.title")), filterForm(list), list);
  await load(list);
}

function filterForm(list) {
  const status = select(
    { id: "case-status", name: "status", "data-field": "status" },
    [
      [OPEN, t("complaints.open")],
      ["received", term("case_status", "received")],
      ["triaged", term("case_status", "triaged")],
      ["decided", term("case_status", "decided")],
      ["closed", term("case_status", "closed")],
      ["", t("any")],
    ],
    filters.status,
  );
  const overdue = select(
    { id: "case-overdue", name: "overdue", "data-field": "overdue" },
    [["", t("any")], ["true", t("complaints.overdue_only")], ["false", t("complaints.on_time")]],
    filters.overdue,
  );
  const kind = select(
    { id: "case-kind", name: "kind", "data-field": "kind" },
    [["", t("any")], ["complaint", term("kind", "complaint")], ["appeal", term("kind", "appeal")]],
    filters.kind,
  );
  const form = el(
    "form",
    { class: "filters", id: "case-filters" },
    field(t("complaints.status"), status),
    field(t("complaints.overdue"), overdue),
    field(t("complaints.kind"), kind),
    el("button", { type: "submit", text: t("filter") }),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    Object.assign(filters, { status: status.value, overdue: overdue.value, kind: kind.value });
    paging.from = 0;
    paging.stack = [];
    await load(list);
  });
  return form;
}

async function load(list) {
  let answer;
  try {
    answer = await admin("GET", "/complaints", { query: { ...filters, from: paging.from, limit: 50 } });
  } catch (e) {
    list.replaceChildren(errorBox(e));
    return;
  }
  const rows = answer.cases.map((c) => [
    caseLink(c.case_id),
    term("kind", c.kind),
    caseStatus(c.status),
    c.held ? el("span", {}, term("category", c.category), " ", badge("held", t("complaints.held"))) : term("category", c.category),
    target(c),
    String(c.reporters),
    when(c.acknowledge_by),
    when(c.decide_by),
    overdueFlag(c.overdue) ?? t("complaints.on_time"),
    orDash(c.assignee),
  ]);
  const columns = [
    t("complaints.case"),
    t("complaints.kind"),
    t("complaints.status"),
    t("complaints.category"),
    t("complaints.target"),
    t("complaints.reporters"),
    t("complaints.acknowledge_by"),
    t("complaints.decide_by"),
    t("complaints.overdue"),
    t("complaints.assignee"),
  ];
  list.replaceChildren(
    table(t("complaints.title"), columns, rows, t("complaints.none")),
    pager(paging, answer.next_token, () => load(list)),
  );
}
