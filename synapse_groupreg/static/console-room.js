// One group (B5, B6): its registration, who answers for it and when, its
// sanctions and mutes (B8), and the form that sanctions it (D2): warn with
// a deadline, suspend posting for a while, or close after a confirmation.

import { admin, seg } from "./console-api.js";
import { t } from "./console-i18n.js";
import { statusBadge } from "./console-rooms.js";
import { busy, el, errorBox, facts, field, heading, loading, orDash, select, table, term, when } from "./console-ui.js";

export async function showRoom(root, roomId, notice) {
  root.replaceChildren(heading(t("room.title", { id: roomId })), loading());
  let room;
  let sanctions;
  let mutes;
  try {
    [room, sanctions, mutes] = await Promise.all([
      admin("GET", `/rooms/${seg(roomId)}`),
      admin("GET", `/rooms/${seg(roomId)}/sanctions`, { query: { limit: 200 } }),
      admin("GET", `/rooms/${seg(roomId)}/mutes`, { query: { limit: 200 } }),
    ]);
  } catch (e) {
    root.replaceChildren(heading(t("room.title", { id: roomId })), errorBox(e), back());
    return;
  }
  root.replaceChildren(
    back(),
    heading(room.code ? t("room.title_code", { code: room.code }) : t("room.title", { id: roomId })),
  );
  if (notice) root.append(el("p", { class: "success", role: "status", id: "room-notice", text: notice }));
  root.append(
    registration(room),
    heading(t("room.admins"), 3),
    holders(room.admins, t("room.admins")),
    heading(t("room.history"), 3),
    holders(room.admin_history ?? [], t("room.history")),
    heading(t("room.sanctions"), 3),
    sanctionTable(root, roomId, sanctions.sanctions),
    heading(t("room.mutes"), 3),
    muteTable(mutes.mutes),
  );
  if (room.status === "active") root.append(sanctionForm(root, room));
}

function back() {
  return el("p", {}, el("a", { href: "#/rooms", text: t("room.back") }));
}

function registration(room) {
  return facts([
    [t("rooms.code"), room.code ? el("code", { id: "room-detail-code", text: room.code }) : "—"],
    [t("room.id"), el("code", { text: room.room_id })],
    [t("room.name"), orDash(room.name)],
    [t("rooms.class"), term("class", room.class)],
    [t("rooms.category"), orDash(room.category)],
    [t("rooms.creator"), room.creator],
    [t("rooms.members"), String(room.member_count)],
    [t("rooms.status"), el("span", {}, statusBadge(room.status), " ", when(room.status_ts))],
    [t("room.encrypted"), room.encrypted ? t("yes") : t("no")],
    [t("rooms.created"), when(room.created_ts)],
    room.replaced_by ? [t("room.replaced_by"), room.replaced_by] : null,
  ]);
}

function holders(list, caption) {
  const rows = list.map((h) => [
    h.user_id,
    term("role", h.role),
    h.power_level === null ? "—" : String(h.power_level),
    when(h.since_ts),
    when(h.until_ts),
  ]);
  return table(caption, [t("room.user"), t("room.role"), t("room.power"), t("room.since"), t("room.until")], rows, t("room.no_admins"));
}

function sanctionTable(root, roomId, list) {
  const rows = list.map((s) => [
    s.sanction_id,
    term("action", s.action),
    term("sanction_status", s.status),
    s.reason,
    s.actor,
    when(s.created_ts),
    when(s.expires_ts),
    when(s.deadline_ts),
    s.status === "active" && s.action !== "close" ? liftForm(root, roomId, s) : null,
  ]);
  const columns = [
    "#",
    t("sanction.action"),
    t("sanction.status"),
    t("sanction.reason"),
    t("sanction.actor"),
    t("sanction.created"),
    t("sanction.expires"),
    t("sanction.deadline"),
    t("actions"),
  ];
  return el("div", { id: "room-sanctions" }, table(t("room.sanctions"), columns, rows, t("room.no_sanctions")));
}

// B8: every mute of the group, newest first, with who muted (members never
// see that; the platform does) and when it ended.
function muteTable(list) {
  const rows = list.map((m) => [
    m.all ? t("mute.everyone") : m.user_id,
    term("mute_by", m.by),
    orDash(m.reason),
    m.actor,
    when(m.created_ts),
    when(m.until_ts),
    m.lifted_ts === null ? "—" : el("span", {}, when(m.lifted_ts), ` ${m.lifted_by ?? ""}`),
  ]);
  const columns = [
    t("mute.target"),
    t("mute.by"),
    t("sanction.reason"),
    t("sanction.actor"),
    t("sanction.created"),
    t("mute.until"),
    t("mute.lifted"),
  ];
  return el("div", { id: "room-mutes" }, table(t("room.mutes"), columns, rows, t("room.no_mutes")));
}

// D5: any sanction but close can be lifted early, with a reason.
function liftForm(root, roomId, sanction) {
  const reason = el("input", { type: "text", name: "reason", "data-field": "reason", id: `lift-reason-${sanction.sanction_id}` });
  const form = el(
    "form",
    { class: "row-form" },
    field(t("sanction.lift_reason"), reason),
    el("button", { type: "submit", text: t("sanction.lift") }),
    el("div", { class: "form-message" }),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const lifted = await busy(form, () =>
      admin("DELETE", `/sanctions/${seg(sanction.sanction_id)}`, { body: reason.value.trim() ? { reason: reason.value } : {} }),
    );
    if (lifted) await showRoom(root, roomId, t("sanction.lifted", { id: lifted.sanction_id }));
  });
  return form;
}

function sanctionForm(root, room) {
  const action = select(
    { id: "sanction-action", name: "action", "data-field": "action" },
    ["warn", "suspend_posting", "close"].map((a) => [a, term("action", a)]),
    "warn",
  );
  const reason = el("textarea", { id: "sanction-reason", name: "reason", "data-field": "reason", rows: 3, maxlength: 4000 });
  const duration = el("input", { type: "text", id: "sanction-duration", name: "duration", "data-field": "duration", placeholder: "24h" });
  const deadline = el("input", { type: "text", id: "sanction-deadline", name: "deadline", "data-field": "deadline", placeholder: "7d" });
  const rule = el("input", { type: "text", id: "sanction-rule", name: "rule", "data-field": "rule" });
  const durationField = field(t("sanction.duration"), duration, t("sanction.duration_hint"));
  const deadlineField = field(t("sanction.deadline_in"), deadline, t("sanction.deadline_hint"));
  const confirm = el(
    "div",
    { class: "confirm", id: "close-confirm", role: "alertdialog", "aria-labelledby": "close-confirm-text", hidden: true },
    el("p", { id: "close-confirm-text", text: t("sanction.close_confirm", { code: room.code ?? room.room_id }) }),
    el("button", { type: "button", id: "sanction-confirm", class: "danger", text: t("sanction.close_yes") }),
    el("button", { type: "button", id: "sanction-cancel", text: t("cancel") }),
  );
  const form = el(
    "form",
    { id: "sanction-form", class: "panel" },
    el("h3", { text: t("sanction.apply_title") }),
    field(t("sanction.action"), action),
    field(t("sanction.reason"), reason, t("sanction.reason_hint")),
    durationField,
    deadlineField,
    field(t("sanction.rule"), rule, t("sanction.rule_hint")),
    el("button", { type: "submit", id: "sanction-apply", text: t("sanction.apply") }),
    confirm,
    el("div", { class: "form-message" }),
  );
  const shape = () => {
    durationField.hidden = action.value !== "suspend_posting";
    deadlineField.hidden = action.value !== "warn";
    confirm.hidden = true;
  };
  action.addEventListener("change", shape);
  shape();
  const send = async () => {
    confirm.hidden = true;
    const body = { action: action.value, reason: reason.value };
    if (action.value === "suspend_posting") body.duration = duration.value.trim() || undefined;
    if (action.value === "warn" && deadline.value.trim()) body.deadline = deadline.value.trim();
    if (rule.value.trim()) body.rule = rule.value.trim();
    const applied = await busy(form, () => admin("POST", `/rooms/${seg(room.room_id)}/sanctions`, { body }));
    if (applied) await showRoom(root, room.room_id, t("sanction.applied", { id: applied.sanction_id, action: term("action", applied.action) }));
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (action.value === "close") {
      // Closing removes every member and cannot be lifted: ask first.
      confirm.hidden = false;
      confirm.querySelector("#sanction-confirm").focus();
      return;
    }
    await send();
  });
  confirm.querySelector("#sanction-confirm").addEventListener("click", send);
  confirm.querySelector("#sanction-cancel").addEventListener("click", () => {
    confirm.hidden = true;
    action.focus();
  });
  return form;
}
