"""What the notice bot tells a reporter or an appellant about the outcome
of their case (E3, E4), in the configured language (G3).

The affected user's statement of reasons comes from the sanctions concern,
which sends one for every sanction it applies or reverses.
"""

from __future__ import annotations

from collections.abc import Mapping

from synapse_groupreg.config import Language
from synapse_groupreg.store.complaint_rows import CaseRow

_OUTCOMES: Mapping[str, tuple[str, str]] = {
    "violation": ("投诉属实，已依规处理", "a violation was found and acted on"),
    "no_violation": ("未发现违规", "no violation was found"),
    "invalid": ("投诉无法受理", "the complaint could not be acted on"),
    "reversed": (
        "申诉成立，处罚已撤销",
        "the appeal succeeded: the sanction is reversed",
    ),
    "upheld": (
        "申诉不成立，维持原处罚",
        "the appeal did not succeed: the sanction stands",
    ),
}

_TARGETS: Mapping[str, tuple[str, str]] = {
    "event": ("消息 {target}", "message {target}"),
    "room": ("群组 {target}", "group {target}"),
    "user": ("用户 {target}", "user {target}"),
    "sanction": ("处罚 {target}", "sanction {target}"),
}


def outcome_notice(case: CaseRow, case_label: str, language: Language) -> str:
    """The message to a reporter (or appellant) once `case` is decided."""
    outcome = _OUTCOMES.get(
        case.outcome or "", (case.outcome or "", case.outcome or "")
    )
    zh_target, en_target = _TARGETS.get(case.target_type, ("{target}", "{target}"))
    if case.kind == "appeal":
        zh = (
            f"您对处罚 {case.target} 的申诉（编号 {case_label}）已有结论："
            f"{outcome[0]}。"
        )
        en = (
            f"Your appeal {case_label} against sanction {case.target} has been "
            f"decided: {outcome[1]}."
        )
    else:
        zh = (
            f"您对{zh_target.format(target=case.target)}的投诉（编号 {case_label}）"
            f"已处理：{outcome[0]}。"
        )
        en = (
            f"Your complaint {case_label} about "
            f"{en_target.format(target=case.target)} has been decided: {outcome[1]}."
        )
    if case.note:
        zh += f"说明：{case.note}"
        en += f" Reasons: {case.note}"
    return language.pick(zh, en, joiner="\n\n")
