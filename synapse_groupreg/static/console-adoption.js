// Adopting an existing server (H1, H3, H4), for auditors: how far adoption
// got, which checks enforce and which only observe, the report of what
// enforcing would change, and what observe mode would have refused so far.

import { admin } from "./console-api.js";
import { t } from "./console-i18n.js";
import { el, errorBox, facts, fill, heading, loading, table, when } from "./console-ui.js";

const FINDINGS = [
  "rooms_over_their_cap",
  "encrypted_rooms_in_classes_without_encryption",
  "rooms_with_members_of_servers_their_class_refuses",
  "rooms_whose_creator_is_gone",
  "people_below_the_identity_gate",
  "people_without_the_current_covenant",
];

export async function showAdoption(root) {
  fill(root, heading(t("adoption.title")), loading());
  let answer;
  try {
    answer = await admin("GET", "/adoption");
  } catch (e) {
    fill(root, heading(t("adoption.title")), errorBox(e));
    return;
  }
  const progress = answer.progress;
  const pass = answer.last_pass;
  fill(root,
    heading(t("adoption.title")),
    el("p", { class: "intro", text: t("adoption.intro") }),
    facts([
      [t("adoption.registered"), String(progress.registered)],
      [t("adoption.pending"), String(progress.pending)],
      [t("adoption.skipped"), String(progress.skipped)],
      [t("adoption.failed"), String(progress.failed)],
      [t("adoption.last_pass"), pass ? when(pass.ended_ts) : t("adoption.no_pass")],
      [t("adoption.grace"), answer.identity_grace_until ?? "—"],
    ]),
    heading(t("adoption.enforcement"), 3),
    table(
      t("adoption.enforcement"),
      [t("adoption.check"), t("adoption.mode")],
      Object.entries(answer.enforcement).map(([check, mode]) => [check, t(`adoption.mode_${mode}`)]),
      "",
    ),
    heading(t("adoption.report"), 3),
    table(
      t("adoption.report"),
      [t("adoption.finding"), t("adoption.count"), t("adoption.consequence"), t("adoption.examples")],
      FINDINGS.filter((key) => answer.report[key]).map((key) => {
        const finding = answer.report[key];
        const examples = finding.items.slice(0, 5).map((item) => (typeof item === "string" ? item : item.room_id)).join(", ");
        return [t(`adoption.finding_${key}`), String(finding.count), finding.consequence, el("code", { class: "details", text: examples || "—" })];
      }),
      "",
    ),
    heading(t("adoption.observed"), 3),
    table(
      t("adoption.observed"),
      [t("adoption.check"), t("adoption.reason"), t("adoption.count"), t("adoption.last"), t("adoption.last_actor")],
      answer.observed.map((o) => [o.check, o.reason, String(o.count), when(o.last_ts), o.last_actor]),
      t("adoption.none_observed"),
    ),
  );
}
