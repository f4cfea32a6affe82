// The room registry (B4, B6): every group with its registration code and
// name, searchable by code, name or room id and by a user who created or
// is in it; direct chats and the notice bot's rooms hidden unless asked for.

import { admin } from "./console-api.js";
import { t } from "./console-i18n.js";
import {
  badge,
  clearFormMessage,
  el,
  errorBox,
  field,
  heading,
  loading,
  newPaging,
  orDash,
  pager,
  select,
  table,
  term,
  when,
} from "./console-ui.js";

const paging = newPaging();
const filters = { q: "", user: "", status: "", class: "", all: false };

export function roomLink(roomId, text) {
  return el("a", { href: `#/rooms/${encodeURIComponent(roomId)}`, text: text ?? roomId });
}

export function statusBadge(status) {
  return badge(status === "active" ? "ok" : "warn", term("status", status));
}

export async function showRegistry(root) {
  const list = el("div", { id: "room-list" }, loading());
  root.replaceChildren(heading(t("rooms.title")), searchForm(list), list);
  await load(list);
}

function searchForm(list) {
  const q = el("input", { type: "search", id: "room-code", name: "q", "data-field": "q", value: filters.q, autocomplete: "off" });
  const user = el("input", { type: "text", id: "room-user", name: "user", "data-field": "user", value: filters.user, placeholder: "@user:server" });
  const status = select(
    { id: "room-status", name: "status", "data-field": "status" },
    [["", t("any")], ["active", term("status", "active")], ["closed", term("status", "closed")], ["upgraded", term("status", "upgraded")]],
    filters.status,
  );
  const roomClass = el("input", { type: "text", id: "room-class", name: "class", "data-field": "class", value: filters.class });
  const all = el("input", { type: "checkbox", id: "room-all", name: "all", checked: filters.all });
  const form = el(
    "form",
    { class: "filters", role: "search", id: "room-search" },
    field(t("rooms.search"), q, t("rooms.search_hint")),
    field(t("rooms.user"), user),
    field(t("rooms.status"), status),
    field(t("rooms.class"), roomClass),
    el("label", { class: "check", for: "room-all" }, all, t("rooms.all")),
    el("button", { type: "submit", text: t("search") }),
    el("div", { class: "form-message" }),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    Object.assign(filters, { q: q.value.trim(), user: user.value.trim(), status: status.value, class: roomClass.value.trim(), all: all.checked });
    paging.from = 0;
    paging.stack = [];
    clearFormMessage(form);
    await load(list, form);
  });
  return form;
}

async function load(list, form) {
  const query = { from: paging.from, limit: 50, q: filters.q, user: filters.user, status: filters.status, class: filters.class, all: filters.all ? "true" : "" };
  let answer;
  try {
    answer = await admin("GET", "/rooms", { query });
  } catch (e) {
    list.replaceChildren(errorBox(e));
    if (form) {
      // Mark the field the server named; the typed values stay.
      const input = [...form.querySelectorAll("[data-field]")].find((i) => i.dataset.field === e.field);
      input?.setAttribute("aria-invalid", "true");
    }
    return;
  }
  const rows = answer.rooms.map((r) => [
    roomLink(r.room_id, r.code ?? r.room_id),
    orDash(r.name),
    term("class", r.class),
    orDash(r.category),
    r.creator,
    String(r.member_count),
    statusBadge(r.status),
    when(r.created_ts),
  ]);
  const empty = filters.q ? t("rooms.no_match", { q: filters.q }) : t("rooms.none");
  const columns = [t("rooms.code"), t("room.name"), t("rooms.class"), t("rooms.category"), t("rooms.creator"), t("rooms.members"), t("rooms.status"), t("rooms.created")];
  list.replaceChildren(table(t("rooms.title"), columns, rows, empty), pager(paging, answer.next_token, () => load(list)));
}
