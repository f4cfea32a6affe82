// Identity review (A3 b): self-service submissions that wait for a person.
// The API gives masked names and numbers only, and so does this view.

import { admin, seg } from "./console-api.js";
import { t } from "./console-i18n.js";
import { busy, el, errorBox, field, formSuccess, heading, loading, newPaging, pager, table, term, when } from "./console-ui.js";

const paging = newPaging();

export async function showPending(root) {
  const list = el("div", { id: "pending-list" }, loading());
  root.replaceChildren(heading(t("identities.title")), el("p", { class: "intro", text: t("identities.intro") }), list);
  await load(list);
}

async function load(list) {
  let answer;
  try {
    answer = await admin("GET", "/identities/pending", { query: { from: paging.from, limit: 50 } });
  } catch (e) {
    list.replaceChildren(errorBox(e));
    return;
  }
  const rows = answer.submissions.map((s) => [
    String(s.id),
    s.user_id,
    term("why", s.why),
    term("document", s.document_type),
    s.masked_name,
    el("code", { text: s.masked_number }),
    when(s.created_ts),
    actions(s),
  ]);
  list.replaceChildren(
    table(
      t("identities.title"),
      [
        "#",
        t("identities.user"),
        t("identities.why"),
        t("identities.document_type"),
        t("identities.masked_name"),
        t("identities.masked_number"),
        t("identities.submitted"),
        t("actions"),
      ],
      rows,
      t("identities.none"),
    ),
    pager(paging, answer.next_token, () => load(list)),
  );
}

// Approve, or reject with a reason the notice bot passes on to the user.
function actions(submission) {
  const path = `/identities/pending/${seg(String(submission.id))}`;
  const approveForm = el(
    "form",
    { class: "row-form", "data-submission": submission.id },
    el("button", { type: "submit", class: "approve", text: t("identities.approve") }),
    el("div", { class: "form-message" }),
  );
  approveForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const done = await busy(approveForm, () => admin("POST", `${path}/approve`, { body: {} }));
    if (done) settled(approveForm, rejectForm, t("identities.approved"));
  });
  const reason = el("input", {
    type: "text",
    name: "reason",
    "data-field": "reason",
    id: `reject-reason-${submission.id}`,
    maxlength: 500,
  });
  const rejectForm = el(
    "form",
    { class: "row-form", "data-submission": submission.id },
    field(t("identities.reject_reason"), reason),
    el("button", { type: "submit", class: "reject", text: t("identities.reject") }),
    el("div", { class: "form-message" }),
  );
  rejectForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const done = await busy(rejectForm, () =>
      admin("POST", `${path}/reject`, { body: { reason: reason.value } }),
    );
    if (done) settled(rejectForm, approveForm, t("identities.rejected"));
  });
  return el("div", { class: "row-actions" }, approveForm, rejectForm);
}

function settled(form, other, text) {
  other.remove();
  for (const control of form.querySelectorAll("button, input")) control.disabled = true;
  formSuccess(form, text);
  form.closest("tr")?.classList.add("settled");
}
