"""`sanctions:` and `blacklist:` — statements of reasons, automatic
consequences and the blacklist's defaults (D2-D6)."""

from __future__ import annotations

import re
from collections.abc import Mapping

import attrs

from synapse_groupreg.config._reader import Section

ROOM_ACTIONS = ("warn", "suspend_posting", "close")
USER_ACTIONS = ("lower_credit", "suspend_admin", "revoke_creation")
#: Actions a rule or a statement can name; `blacklist` is the entry itself.
CITED_ACTIONS = (*ROOM_ACTIONS, *USER_ACTIONS, "blacklist")

_PROVISIONS_ZH = "《互联网群组信息服务管理规定》"
_PROVISIONS_EN = (
    "Provisions on the Administration of Internet Group Information Services"
)
_CN_RULES: Mapping[str, tuple[str, str]] = {
    "warn": (f"{_PROVISIONS_ZH}第十一条（警示整改）", f"{_PROVISIONS_EN}, Art. 11"),
    "suspend_posting": (
        f"{_PROVISIONS_ZH}第十一条（暂停发布）",
        f"{_PROVISIONS_EN}, Art. 11",
    ),
    "close": (f"{_PROVISIONS_ZH}第十一条（关闭群组）", f"{_PROVISIONS_EN}, Art. 11"),
    "lower_credit": (
        f"{_PROVISIONS_ZH}第七条、第十一条（降低信用等级）",
        f"{_PROVISIONS_EN}, Art. 7 and 11",
    ),
    "suspend_admin": (
        f"{_PROVISIONS_ZH}第十一条（暂停管理权限）",
        f"{_PROVISIONS_EN}, Art. 11",
    ),
    "revoke_creation": (
        f"{_PROVISIONS_ZH}第十一条（取消建群资格）",
        f"{_PROVISIONS_EN}, Art. 11",
    ),
    "blacklist": (
        f"{_PROVISIONS_ZH}第十一条（纳入黑名单）",
        f"{_PROVISIONS_EN}, Art. 11",
    ),
}
_GENERIC_RULES: Mapping[str, tuple[str, str]] = {
    action: ("本站群组管理规则", "this server's group rules")
    for action in CITED_ACTIONS
}

_APPEAL_ZH = (
    "如有异议，请在 {appeal_by} 前就处罚 {sanction_id} 提出申诉："
    "在客户端向 /_synapse/client/groupreg/v1/appeals 提交，或联系本站管理员。"
)
_APPEAL_EN = (
    "To appeal, submit an appeal for sanction {sanction_id} before {appeal_by} "
    "to /_synapse/client/groupreg/v1/appeals from your client, or contact this "
    "server's administrators."
)

_DEFAULT_AUTOMATIC: dict[str, dict[str, object]] = {
    "repeated_prohibited_content": {
        "violation": "prohibited_content",
        "count": 3,
        "within": "24h",
        "action": "lower_credit",
        "amount": 5,
    },
}

_OFFSET = re.compile(r"^([+-])(\d{2}):(\d{2})$")


@attrs.frozen(slots=True)
class AutomaticRule:
    """A threshold that applies a sanction by itself (D5: "automated").

    Exactly one trigger: `violation` + `count` + `within` (per user or per
    room), or `credit_below` (a user's score falls under it).
    """

    name: str
    action: str
    #: Violation kind or class counted (`prohibited_content` also counts
    #: `prohibited_content:gambling`).
    violation: str | None
    count: int
    within_ms: int
    #: "user" or "room": whose violations are counted and who is sanctioned.
    per: str
    credit_below: int | None
    amount: int | None
    duration_ms: int | None

    def counts(self, kind: str) -> bool:
        return self.violation is not None and (
            kind == self.violation or kind.split(":", 1)[0] == self.violation
        )


@attrs.frozen(slots=True)
class SanctionsConfig:
    #: The rule each action cites in its statement of reasons, as users read it.
    rules: Mapping[str, str]
    #: How long after a sanction an appeal is accepted (E4).
    appeal_window_ms: int
    #: How to appeal, with {sanction_id} and {appeal_by}.
    appeal_instructions: str
    #: The rectification deadline of a warning when the request names none.
    warn_deadline_ms: int
    #: Whether the notice bot also posts room sanctions into the room.
    room_notices: bool
    #: The offset from UTC in which times are shown to users, e.g. "+08:00".
    utc_offset_minutes: int
    #: How often expiries are announced (they take effect by themselves).
    expiry_sweep_ms: int
    automatic: tuple[AutomaticRule, ...]

    def rule_for(self, action: str) -> str:
        return self.rules[action]

    @classmethod
    def read(cls, section: Section, cn: bool, language: str) -> SanctionsConfig:
        defaults = _CN_RULES if cn else _GENERIC_RULES
        table = section.section("rules")
        rules = {
            action: table.string(action, _in_language(defaults[action], language))
            for action in CITED_ACTIONS
        }
        table.finish()
        appeal = section.section("appeal")
        window = appeal.duration_ms("window", "180d")
        instructions = appeal.string(
            "instructions", _in_language((_APPEAL_ZH, _APPEAL_EN), language)
        )
        for needed in ("{sanction_id}", "{appeal_by}"):
            if needed not in instructions:
                raise appeal.error(
                    "instructions", f"must contain {needed} where it is to be shown"
                )
        appeal.finish()
        offset = section.string("utc_offset", "+08:00" if cn else "+00:00")
        match = _OFFSET.match(offset)
        if match is None or int(match.group(2)) > 14 or int(match.group(3)) >= 60:
            raise section.error(
                "utc_offset", f"{offset!r} is not an offset like '+08:00' or '-05:00'"
            )
        sign = -1 if match.group(1) == "-" else 1
        minutes = sign * (int(match.group(2)) * 60 + int(match.group(3)))
        config = cls(
            rules=rules,
            appeal_window_ms=window,
            appeal_instructions=instructions,
            warn_deadline_ms=section.duration_ms("warn_deadline", "7d"),
            room_notices=section.boolean("room_notices", True),
            utc_offset_minutes=minutes,
            expiry_sweep_ms=section.duration_ms("expiry_sweep", "1m"),
            automatic=tuple(
                section.items("automatic", _read_rule, _DEFAULT_AUTOMATIC).values()
            ),
        )
        section.finish()
        return config


def _in_language(texts: tuple[str, str], language: str) -> str:
    zh, en = texts
    if language == "zh-Hans":
        return zh
    if language == "en":
        return en
    return f"{zh} / {en}"


def _read_rule(name: str, item: Section) -> AutomaticRule:
    violation = item.optional_string("violation")
    credit_below = item.optional_integer("credit_below", minimum=1)
    if (violation is None) == (credit_below is None):
        raise item.error(
            None,
            "give exactly one trigger: 'violation' (with count, within) "
            "or 'credit_below'",
        )
    per = item.string("per", "user", ("user", "room"))
    if credit_below is not None and per != "user":
        raise item.error("per", "'credit_below' rules are per user")
    allowed: tuple[str, ...] = ROOM_ACTIONS if per == "room" else USER_ACTIONS
    if credit_below is not None:
        # Lowering credit because credit is low would feed on itself.
        allowed = ("suspend_admin", "revoke_creation")
    action = item.string("action", "", allowed)
    if not action:
        raise item.error(
            "action", f"'action' is required; try one of: {', '.join(allowed)}"
        )
    count = item.integer("count", 1, minimum=1, maximum=10_000)
    within_ms = item.duration_ms("within", "24h")
    amount = item.optional_integer("amount", minimum=1, maximum=1000)
    if action == "lower_credit" and amount is None:
        raise item.error("amount", "'lower_credit' needs 'amount': points to take")
    duration_ms = item.duration_ms("duration", "0s") if item.has("duration") else None
    if action in ("suspend_posting", "suspend_admin") and not duration_ms:
        raise item.error("duration", f"'{action}' needs 'duration', e.g. '7d'")
    return AutomaticRule(
        name=name,
        action=action,
        violation=violation,
        count=count,
        within_ms=within_ms,
        per=per,
        credit_below=credit_below,
        amount=amount,
        duration_ms=duration_ms,
    )


@attrs.frozen(slots=True)
class BlacklistConfig:
    #: How long an entry lasts when the request gives no `expires_in`.
    default_expiry_ms: int

    @classmethod
    def read(cls, section: Section) -> BlacklistConfig:
        expiry = section.duration_ms("default_expiry", "3y")
        section.finish()
        return cls(default_expiry_ms=expiry)
