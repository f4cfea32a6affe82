// The lists moderators keep (C1, D4): the blacklist (users, persons, rooms,
// servers) with its review dates, and the keyword lists by category with
// their action and penalty; one keyword list opens with its words.

import { admin, seg } from "./console-api.js";
import { language, t } from "./console-i18n.js";
import { el, errorBox, field, fill, heading, loading, newPaging, pager, select, table, term, when } from "./console-ui.js";
import { userLink } from "./console-user.js";

const paging = newPaging();
const filters = { kind: "", status: "active" };

export async function showLists(root) {
  const blacklist = el("div", { id: "blacklist-list" }, loading());
  const keywords = el("div", { id: "keyword-lists" }, loading());
  fill(root,
    heading(t("lists.title")),
    heading(t("lists.blacklist"), 3),
    filterForm(blacklist),
    blacklist,
    heading(t("lists.keywords"), 3),
    keywords,
  );
  await Promise.all([loadBlacklist(blacklist), loadKeywords(keywords)]);
}

function filterForm(list) {
  const kind = select({ id: "blacklist-kind", name: "kind", "data-field": "kind" }, [["", t("any")], ...["user", "person", "room", "server"].map((k) => [k, term("blacklist_kind", k)])], filters.kind);
  const status = select({ id: "blacklist-status", name: "status", "data-field": "status" }, [["", t("any")], ["active", term("entry_status", "active")], ["ended", term("entry_status", "ended")]], filters.status);
  const form = el("form", { class: "filters", id: "blacklist-filters" }, field(t("lists.kind"), kind), field(t("lists.status"), status), el("button", { type: "submit", text: t("filter") }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    Object.assign(filters, { kind: kind.value, status: status.value });
    paging.from = 0;
    paging.stack = [];
    await loadBlacklist(list);
  });
  return form;
}

function targetOf(entry) {
  if (entry.kind === "user") return userLink(entry.target);
  return el("code", { class: "details", text: entry.target });
}

async function loadBlacklist(list) {
  let answer;
  try {
    answer = await admin("GET", "/blacklist", { query: { ...filters, from: paging.from, limit: 50 } });
  } catch (e) {
    list.replaceChildren(errorBox(e));
    return;
  }
  const rows = answer.entries.map((b) => [b.entry_id, term("blacklist_kind", b.kind), targetOf(b), term("entry_status", b.status), b.reason, b.actor, when(b.created_ts), when(b.expires_ts)]);
  fill(list,
    table(t("lists.blacklist"), [t("lists.entry"), t("lists.kind"), t("lists.target"), t("lists.status"), t("lists.reason"), t("lists.actor"), t("lists.created"), t("lists.expires")], rows, t("lists.no_entries")),
    pager(paging, answer.next_token, () => loadBlacklist(list)),
  );
}

async function loadKeywords(slot) {
  let answer;
  try {
    answer = await admin("GET", "/keywords");
  } catch (e) {
    slot.replaceChildren(errorBox(e));
    return;
  }
  const detail = el("div", { id: "keyword-detail" });
  const rows = answer.categories.map((c) => [
    el("button", { type: "button", class: "linkish", "data-category": c.category, text: c.labels?.[language()] || c.category, onclick: () => openCategory(detail, c.category) }),
    term("keyword_action", c.action),
    String(c.credit_penalty),
    String(c.words),
    String(c.exceptions),
    when(c.updated_ts),
  ]);
  fill(slot,
    el("p", { class: "hint", text: t("lists.version", { version: answer.version, loaded: answer.loaded_version }) }),
    table(t("lists.keywords"), [t("lists.category"), t("lists.action"), t("lists.penalty"), t("lists.words"), t("lists.exceptions"), t("lists.updated")], rows, t("lists.no_keywords")),
    detail,
  );
}

async function openCategory(slot, category) {
  slot.replaceChildren(loading());
  let list;
  try {
    list = await admin("GET", `/keywords/${seg(category)}`);
  } catch (e) {
    slot.replaceChildren(errorBox(e));
    return;
  }
  fill(slot,
    el("h4", { text: t("lists.category_words", { category: list.labels?.[language()] || category, count: list.words.length }) }),
    el("ul", { class: "words" }, list.words.slice(0, 500).map((w) => el("li", { text: w }))),
    list.exceptions.length > 0 && el("p", { class: "hint", text: `${t("lists.exceptions")}: ${list.exceptions.join("、")}` }),
  );
}
