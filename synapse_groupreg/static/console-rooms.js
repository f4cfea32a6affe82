// The room registry (B4, B6): every group with its registration code,
// searchable by code, filtered by status, class and creator.

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
const filters = { code: "", status: "", class: "", creator: "" };

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
  const code = el("input", { type: "search", id: "room-code", name: "code", "data-field": "code", value: filters.code, autocomplete: "off" });
  const status = select(
    { id: "room-status", name: "status", "data-field": "status" },
    [["", t("any")], ["active", term("status", "active")], ["closed", term("status", "closed")], ["upgraded", term("status", "upgraded")]],
    filters.status,
  );
  const roomClass = el("input", { type: "text", id: "room-class", name: "class", "data-field": "class", value: filters.class });
  const creator = el("input", { type: "text", id: "room-creator", name: "creator", "data-field": "creator", value: filters.creator, placeholder: "@user:server" });
  const form = el(
    "form",
    { class: "filters", role: "search", id: "room-search" },
    field(t("rooms.code"), code, t("rooms.code_hint")),
    field(t("rooms.status"), status),
    field(t("rooms.class"), roomClass),
    field(t("rooms.creator"), creator),
    el("button", { type: "submit", text: t("search") }),
    el("div", { class: "form-message" }),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    Object.assign(filters, { code: code.value.trim(), status: status.value, class: roomClass.value.trim(), creator: creator.value.trim() });
    paging.from = 0;
    paging.stack = [];
    clearFormMessage(form);
    await load(list, form);
  });
  return form;
}

async function load(list, form) {
  const query = filters.code
    ? { code: filters.code }
    : { from: paging.from, limit: 50, status: filters.status, class: filters.class, creator: filters.creator };
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
    term("class", r.class),
    orDash(r.category),
    r.creator,
    String(r.member_count),
    statusBadge(r.status),
    when(r.created_ts),
  ]);
  const empty = filters.code ? t("rooms.no_code", { code: filters.code }) : t("rooms.none");
  const columns = [t("rooms.code"), t("rooms.class"), t("rooms.category"), t("rooms.creator"), t("rooms.members"), t("rooms.status"), t("rooms.created")];
  list.replaceChildren(table(t("rooms.title"), columns, rows, empty));
  if (!filters.code) list.append(pager(paging, answer.next_token, () => load(list)));
}
