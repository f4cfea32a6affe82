// Records (F1-F3) for auditors: the audit log with the verdict of its
// verification (hash chain and signed checkpoints), the newest checkpoints,
// and a signed export to download.

import { admin } from "./console-api.js";
import { t } from "./console-i18n.js";
import { badge, busy, el, errorBox, field, fill, formSuccess, heading, loading, newPaging, pager, table, when } from "./console-ui.js";

const paging = newPaging();
const filters = { action: "", actor: "", target: "" };

export async function showAudit(root) {
  const verdict = el("div", { id: "audit-verdict" }, loading());
  const list = el("div", { id: "audit-list" }, loading());
  fill(root,
    heading(t("audit.title")),
    el("p", { class: "intro", text: t("audit.intro") }),
    verdict,
    exportForm(),
    heading(t("audit.entries"), 3),
    filterForm(list),
    list,
  );
  await Promise.all([showVerdict(verdict), load(list)]);
}

async function showVerdict(slot) {
  let answer;
  try {
    answer = await admin("GET", "/audit/verify");
  } catch (e) {
    slot.replaceChildren(errorBox(e));
    return;
  }
  const last = answer.checkpoints?.last;
  const head = el(
    "p",
    { id: "audit-ok" },
    answer.ok ? badge("ok", t("audit.ok")) : badge("overdue", t("audit.broken")),
    " ",
    t("audit.summary", { entries: answer.entries, checkpoints: answer.checkpoints?.count ?? 0, unanchored: answer.unanchored }),
  );
  const copies = Object.entries(answer.checkpoints?.copies ?? {}).map(([name, status]) => el("li", { text: `${t(`audit.copy.${name}`)}: ${status}` }));
  const problems = (answer.problems ?? []).map((p) => [
    t(`audit.kind.${p.kind}`),
    p.first_seq === null ? "—" : p.first_seq === p.last_seq ? String(p.first_seq) : `${p.first_seq}–${p.last_seq}`,
    p.checkpoint === null ? "—" : String(p.checkpoint),
    p.message,
  ]);
  fill(slot,
    el("div", { class: answer.ok ? "success" : "error", role: answer.ok ? "status" : "alert" }, head, last ? el("p", { text: t("audit.last_checkpoint", { n: last.n, seq: last.seq, when: when(last.ts) }) }) : el("p", { text: t("audit.no_checkpoint") }), el("ul", { class: "copies" }, copies)),
    problems.length ? table(t("audit.problems"), [t("audit.problem_kind"), t("audit.seq"), t("audit.checkpoint"), t("audit.problem")], problems, "") : null,
    checkpointForm(slot),
  );
}

function checkpointForm(slot) {
  const form = el("form", { id: "checkpoint-form", class: "row-form" }, el("button", { type: "submit", text: t("audit.checkpoint_now") }), el("div", { class: "form-message" }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const done = await busy(form, () => admin("POST", "/audit/checkpoints", { body: {} }));
    if (done) await showVerdict(slot);
  });
  return form;
}

// The export is fetched with the session's token and handed to the browser
// as a file; nothing is left in the page.
function exportForm() {
  const sections = el("input", { type: "text", id: "export-sections", name: "sections", "data-field": "sections", placeholder: "audit,network,sanctions" });
  const form = el(
    "form",
    { id: "export-form", class: "panel" },
    el("h3", { text: t("audit.export") }),
    field(t("audit.export_sections"), sections, t("audit.export_hint")),
    el("button", { type: "submit", id: "export-submit", text: t("audit.export_download") }),
    el("div", { class: "form-message" }),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    await busy(form, async () => {
      const text = await admin("GET", "/export", { query: { sections: sections.value.trim() }, raw: true });
      const url = URL.createObjectURL(new Blob([text], { type: "application/jsonl" }));
      const name = `groupreg-export-${Date.now()}.jsonl`;
      const link = el("a", { href: url, download: name, id: "export-link", text: t("audit.export_ready", { name }) });
      formSuccess(form, "");
      form.querySelector(".form-message .success").replaceChildren(link);
      link.click();
    });
  });
  return form;
}

function filterForm(list) {
  const inputs = Object.keys(filters).map((name) => el("input", { type: "text", id: `audit-${name}`, name, "data-field": name, value: filters[name] }));
  const form = el(
    "form",
    { class: "filters", id: "audit-filters" },
    inputs.map((input) => field(t(`audit.${input.name}`), input)),
    el("button", { type: "submit", text: t("filter") }),
    el("div", { class: "form-message" }),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    for (const input of inputs) filters[input.name] = input.value.trim();
    paging.from = 0;
    paging.stack = [];
    await load(list);
  });
  return form;
}

async function load(list) {
  let answer;
  try {
    answer = await admin("GET", "/audit", { query: { from: paging.from, limit: 50, ...filters } });
  } catch (e) {
    list.replaceChildren(errorBox(e));
    return;
  }
  const rows = answer.entries.map((e) => [String(e.seq), when(e.ts), e.actor, el("code", { text: e.action }), e.target || "—", el("code", { class: "details", text: JSON.stringify(e.details) })]);
  fill(list,
    table(t("audit.entries"), ["#", t("audit.when"), t("audit.actor"), t("audit.action"), t("audit.target"), t("audit.details")], rows, t("audit.none")),
    pager(paging, answer.next_token, () => load(list)),
  );
}
