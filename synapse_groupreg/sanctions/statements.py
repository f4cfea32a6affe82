"""Statements of reasons (D5) and room notices, in the configured language(s).

A statement tells the affected person what was done (action), to what
(scope), for how long (duration), why (facts and the rule), whether a
person or a threshold decided, and how to appeal. Pure text: the notice bot
sends it.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping

import attrs

from synapse_groupreg.config import Language
from synapse_groupreg.config.sanctions import SanctionsConfig
from synapse_groupreg.sanctions.model import format_id
from synapse_groupreg.store.sanctions import SanctionRow

ACTION_NAMES: Mapping[str, tuple[str, str]] = {
    "warn": ("警示整改", "warning with a rectification deadline"),
    "suspend_posting": ("暂停发布", "suspension of posting"),
    "close": ("关闭群组", "closure of the group"),
    "lower_credit": ("降低信用等级", "lowering of credit"),
    "suspend_admin": ("暂停管理权限", "suspension of group admin rights"),
    "revoke_creation": ("取消建群资格", "revocation of the right to create groups"),
}

#: What a credit band may deny, as statements name it.
GATE_NAMES: Mapping[str, tuple[str, str]] = {
    "posting": ("发言", "post"),
    "admin": ("行使群管理权限", "use group admin rights"),
    "create_groups": ("创建群组", "create groups"),
}

_UNITS = (
    (86_400_000, "天", "day"),
    (3_600_000, "小时", "hour"),
    (60_000, "分钟", "minute"),
    (1000, "秒", "second"),
)


def display_time(ms: int, offset_minutes: int) -> str:
    """A time as users read it: '2025-03-01 14:05 UTC+08:00'."""
    zone = datetime.timezone(datetime.timedelta(minutes=offset_minutes))
    moment = datetime.datetime.fromtimestamp(ms / 1000, zone)
    sign = "-" if offset_minutes < 0 else "+"
    hours, minutes = divmod(abs(offset_minutes), 60)
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC{sign}{hours:02d}:{minutes:02d}"


def display_duration(ms: int) -> tuple[str, str]:
    """A length of time in both languages, in the largest whole unit."""
    for unit_ms, zh, en in _UNITS:
        if ms >= unit_ms and ms % unit_ms == 0:
            n = ms // unit_ms
            return f"{n} {zh}", f"{n} {en}{'' if n == 1 else 's'}"
    seconds = max(1, ms // 1000)
    return f"{seconds} 秒", f"{seconds} second{'' if seconds == 1 else 's'}"


@attrs.frozen(slots=True)
class Scope:
    """What the sanction applies to, as the affected read it."""

    #: e.g. ("群组「工作群」（!abc:hs，编号 G1234-5）", "the group 'Work' (...)")
    zh: str
    en: str

    @classmethod
    def user(cls, user_id: str) -> Scope:
        return cls(f"账号 {user_id}", f"the account {user_id}")

    @classmethod
    def person(cls) -> Scope:
        return cls(
            "您的身份（按证件识别的本人及其全部账号）",
            ("you as a person (identified by your document), and all your accounts"),
        )

    @classmethod
    def room(cls, room_id: str, name: str | None, code: str | None) -> Scope:
        tags = room_id if code is None else f"{room_id}，编号 {code}"
        tags_en = room_id if code is None else f"{room_id}, code {code}"
        if name:
            return cls(f"群组「{name}」（{tags}）", f"the group '{name}' ({tags_en})")
        return cls(f"群组（{tags}）", f"the group ({tags_en})")


@attrs.frozen(slots=True)
class Effects:
    """Facts known only once the effects ran (credit before and after)."""

    credit_before: int | None = None
    credit_after: int | None = None
    #: The band the new score falls in, and what it denies.
    band: str | None = None
    denies: tuple[str, ...] = ()


class Statements:
    """Renders statements and notices with the configured language,
    rules, appeal instructions and time offset."""

    def __init__(self, config: SanctionsConfig, language: Language) -> None:
        self._config = config
        self._language = language

    def time(self, ms: int) -> str:
        return display_time(ms, self._config.utc_offset_minutes)

    def say(self, zh: str, en: str) -> str:
        """One line in the configured language(s)."""
        return self._language.pick(zh, en)

    def _join(self, zh: list[str], en: list[str]) -> str:
        return self._language.pick("\n".join(zh), "\n".join(en), joiner="\n\n")

    def _duration_lines(self, row: SanctionRow) -> tuple[str, str]:
        if row.action == "warn":
            deadline = self.time(row.deadline_ts) if row.deadline_ts else "-"
            return f"整改期限：{deadline} 前", f"Rectify by: {deadline}"
        if row.action in ("lower_credit",):
            return "期限：一次性", "Duration: once"
        if row.action == "close":
            return "期限：永久（聊天记录依法保存）", (
                "Duration: permanent (the history is kept for inspection)"
            )
        if row.expires_ts is None:
            return "期限：直至解除", "Duration: until lifted"
        zh_len, en_len = display_duration(row.expires_ts - row.created_ts)
        until = self.time(row.expires_ts)
        return f"期限：{zh_len}，至 {until}", f"Duration: {en_len}, until {until}"

    def statement(self, row: SanctionRow, scope: Scope, effects: Effects) -> str:
        """The statement of reasons sent to each affected person (D5)."""
        zh_action, en_action = ACTION_NAMES[row.action]
        sid = format_id(row.id)
        zh_dur, en_dur = self._duration_lines(row)
        zh = [
            f"【处罚决定 {sid}】",
            f"处罚：{zh_action}",
            f"对象：{scope.zh}",
            zh_dur,
        ]
        en = [
            f"[Statement of reasons, sanction {sid}]",
            f"Action: {en_action}",
            f"Applies to: {scope.en}",
            en_dur,
        ]
        if row.action == "lower_credit" and effects.credit_after is not None:
            zh.append(
                f"信用分：{effects.credit_before} → {effects.credit_after}"
                f"（扣 {row.amount} 分）"
            )
            en.append(
                f"Credit: {effects.credit_before} -> {effects.credit_after}"
                f" ({row.amount} points)"
            )
            if effects.band is not None:
                zh_gates = "、".join(GATE_NAMES[g][0] for g in effects.denies)
                en_gates = ", ".join(GATE_NAMES[g][1] for g in effects.denies)
                zh.append(
                    f"信用等级：{effects.band}"
                    + (f"（暂不能{zh_gates}，信用恢复后自动解除）" if zh_gates else "")
                )
                en.append(
                    f"Credit band: {effects.band}"
                    + (
                        f" (you cannot {en_gates} until it recovers)"
                        if en_gates
                        else ""
                    )
                )
        zh.append(f"事实：{row.reason}")
        en.append(f"Facts: {row.reason}")
        zh.append(f"依据：{row.rule}")
        en.append(f"Rule: {row.rule}")
        if row.automated:
            rule_name = row.evidence.get("automatic_rule", "")
            zh.append(f"决定方式：系统按阈值规则 {rule_name} 自动作出")
            en.append(f"Decided: automatically, by the threshold rule {rule_name}")
        else:
            zh.append("决定方式：平台管理员人工作出")
            en.append("Decided: by a platform administrator")
        appeal = self.appeal(row)
        zh.append(f"申诉：{appeal}")
        en.append(f"Appeal: {appeal}")
        return self._join(zh, en)

    def appeal(self, row: SanctionRow) -> str:
        appeal_by = self.time(row.created_ts + self._config.appeal_window_ms)
        return self._config.appeal_instructions.format(
            sanction_id=format_id(row.id), appeal_by=appeal_by
        )

    def room_notice(self, row: SanctionRow) -> str:
        """What the notice bot posts in a sanctioned room."""
        zh_action, en_action = ACTION_NAMES[row.action]
        sid = format_id(row.id)
        zh_dur, en_dur = self._duration_lines(row)
        zh = [
            f"【平台通知】本群被处以“{zh_action}”（处罚编号 {sid}）。",
            zh_dur,
            f"事实：{row.reason}",
            f"依据：{row.rule}",
        ]
        en = [
            f"[Platform notice] This group is subject to {en_action} (sanction {sid}).",
            en_dur,
            f"Facts: {row.reason}",
            f"Rule: {row.rule}",
        ]
        if row.action == "warn":
            zh.append("请群主和管理员在期限内整改。")
            en.append("The group's creator and admins must rectify by the deadline.")
        return self._join(zh, en)

    def ended(self, row: SanctionRow, how: str) -> str:
        """The notice that a sanction ended: how is lifted | reversed | expired."""
        zh_action, en_action = ACTION_NAMES[row.action]
        sid = format_id(row.id)
        if how == "expired":
            zh = [f"处罚 {sid}（{zh_action}）已到期，自动解除。"]
            en = [f"Sanction {sid} ({en_action}) has expired and no longer applies."]
        else:
            zh_how = "经申诉撤销" if how == "reversed" else "已提前解除"
            en_how = "was reversed on appeal" if how == "reversed" else "was lifted"
            zh = [f"处罚 {sid}（{zh_action}）{zh_how}。"]
            en = [f"Sanction {sid} ({en_action}) {en_how}."]
            if row.lift_reason:
                zh.append(f"理由：{row.lift_reason}")
                en.append(f"Reason: {row.lift_reason}")
        return self._join(zh, en)

    # -- the blacklist (D4) -----------------------------------------------------

    def blacklisted(
        self,
        entry_id: str,
        scope: Scope,
        reason: str,
        source: str,
        expires_ts: int,
        created_ts: int,
    ) -> str:
        """The statement to someone whose account, identity or group was
        put on the blacklist."""
        until = self.time(expires_ts)
        rule = self._config.rule_for("blacklist")
        zh = [
            f"【列入黑名单 {entry_id}】",
            f"对象：{scope.zh}",
            f"期限：至 {until}",
            f"事实：{reason}",
            f"依据：{rule}",
        ]
        en = [
            f"[Statement of reasons, blacklist entry {entry_id}]",
            f"Applies to: {scope.en}",
            f"Until: {until}",
            f"Facts: {reason}",
            f"Rule: {rule}",
        ]
        if source == "admin":
            zh.append("决定方式：平台管理员人工作出")
            en.append("Decided: by a platform administrator")
        else:
            zh.append(f"决定方式：导入自共享的封禁列表（{source}）")
            en.append(f"Decided: imported from a shared ban list ({source})")
        appeal_by = self.time(created_ts + self._config.appeal_window_ms)
        appeal = self._config.appeal_instructions.format(
            sanction_id=entry_id, appeal_by=appeal_by
        )
        zh.append(f"申诉：{appeal}")
        en.append(f"Appeal: {appeal}")
        return self._join(zh, en)

    def unlisted(self, entry_id: str, reason: str) -> str:
        return self._join(
            [f"黑名单条目 {entry_id} 已移除。", f"理由：{reason}"],
            [f"Blacklist entry {entry_id} was removed.", f"Reason: {reason}"],
        )
