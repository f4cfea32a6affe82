// Small DOM helpers shared by the views. Everything is built with
// createElement and textContent: data from reports, room names or user ids
// is never parsed as HTML (the page's Trusted Types policy forbids it).

import { ApiError } from "./console-api.js";
import { language, t } from "./console-i18n.js";

export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

// Replace a node's children, leaving out the empty ones (null, false) that
// conditional parts of a view give; replaceChildren would show "null".
export function fill(node, ...children) {
  node.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

// A date and time in the console's language; "—" when there is none.
export function when(ms) {
  if (ms === null || ms === undefined) return "—";
  return new Intl.DateTimeFormat(language() === "en" ? "en-GB" : "zh-CN", {
    dateStyle: "medium",
    timeStyle: "short",
  }).format(new Date(ms));
}

export function orDash(value) {
  return value === null || value === undefined || value === "" ? "—" : String(value);
}

// A translated word for a value the API names (`status.active`), or the value.
export function term(group, value) {
  if (value === null || value === undefined) return "—";
  const key = `${group}.${value}`;
  const text = t(key);
  return text === key ? String(value) : text;
}

export function badge(kind, text) {
  return el("span", { class: `badge badge-${kind}`, text });
}

// A <dl> of [label, value] pairs; a value may be a node.
export function facts(pairs) {
  return el(
    "dl",
    { class: "facts" },
    pairs.filter(Boolean).map(([label, value]) => [el("dt", { text: label }), el("dd", {}, value ?? "—")]),
  );
}

// A table: `columns` are header labels, `rows` arrays of cells (text or nodes).
// On a narrow screen the table scrolls sideways inside its frame, and each
// cell says its column's name (see console.css) so a row reads on a phone.
export function table(caption, columns, rows, empty) {
  if (rows.length === 0) return el("p", { class: "empty", text: empty });
  return el(
    "div",
    { class: "table-wrap" },
    el(
      "table",
      {},
      el("caption", { class: "visually-hidden", text: caption }),
      el("thead", {}, el("tr", {}, columns.map((c) => el("th", { scope: "col", text: c })))),
      el("tbody", {}, rows.map((cells) => el("tr", {}, cells.map((c, i) => el("td", { "data-label": columns[i] }, c ?? "—"))))),
    ),
  );
}

// What went wrong, as the server said it: its message, and the errcode,
// `org.groupreg.reason` and `field` when the answer has them.
export function errorBox(error) {
  const box = el("div", { class: "error", role: "alert" });
  if (!(error instanceof ApiError)) {
    box.append(el("p", { text: String(error?.message ?? error) }));
    return box;
  }
  const message = error.status === 0 ? `${t("error.network")} ${error.message}` : error.message;
  box.append(el("p", { class: "error-message", text: message }));
  const details = [];
  if (error.status) details.push([t("error.status"), String(error.status)]);
  if (error.errcode) details.push(["errcode", error.errcode]);
  if (error.reason) details.push(["org.groupreg.reason", error.reason]);
  if (error.field) details.push([t("error.field"), error.field]);
  if (details.length) box.append(facts(details));
  return box;
}

// Show an error in a form's message slot and mark the field it names,
// leaving every value as typed so nothing is lost.
export function formError(form, error) {
  clearFormMessage(form);
  form.querySelector(".form-message").append(errorBox(error));
  const field = error instanceof ApiError ? error.field : null;
  if (!field) return;
  const input = [...form.querySelectorAll("[data-field]")].find((i) => i.dataset.field === field);
  if (input) {
    input.setAttribute("aria-invalid", "true");
    input.focus();
  }
}

export function formSuccess(form, text) {
  clearFormMessage(form);
  form.querySelector(".form-message").append(el("p", { class: "success", role: "status", text }));
}

export function clearFormMessage(form) {
  form.querySelector(".form-message").replaceChildren();
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
}

// A labelled input; `field` is the API's name for it, so errors find it.
export function field(label, control, hint) {
  const id = control.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  control.id = id;
  const hintNode = hint ? el("span", { class: "hint", id: `${id}-hint`, text: hint }) : null;
  if (hintNode) control.setAttribute("aria-describedby", hintNode.id);
  return el("div", { class: "field" }, el("label", { for: id, text: label }), control, hintNode);
}

export function select(attrs, options, chosen) {
  return el(
    "select",
    attrs,
    options.map(([value, label]) => el("option", { value, selected: value === chosen, text: label })),
  );
}

// Run an action with the form's buttons disabled, so a slow answer is not
// sent twice; errors land in the form.
export async function busy(form, action) {
  const buttons = [...form.querySelectorAll("button")];
  for (const b of buttons) b.disabled = true;
  form.setAttribute("aria-busy", "true");
  try {
    return await action();
  } catch (e) {
    formError(form, e);
    return undefined;
  } finally {
    for (const b of buttons) b.disabled = false;
    form.removeAttribute("aria-busy");
  }
}

// Previous / next over a list that answers `next_token`.
export function pager(state, nextToken, reload) {
  const previous = el("button", {
    type: "button",
    text: t("page.previous"),
    disabled: state.stack.length === 0,
    onclick: () => {
      state.from = state.stack.pop() ?? 0;
      reload();
    },
  });
  const next = el("button", {
    type: "button",
    class: "next-page",
    text: t("page.next"),
    disabled: !nextToken,
    onclick: () => {
      state.stack.push(state.from);
      state.from = nextToken;
      reload();
    },
  });
  return el("nav", { class: "pager", "aria-label": t("page.label") }, previous, next);
}

export function newPaging() {
  return { from: 0, stack: [] };
}

export function heading(text, level = 2) {
  return el(`h${level}`, { text });
}

export function loading() {
  return el("p", { class: "loading", role: "status", text: t("loading") });
}
