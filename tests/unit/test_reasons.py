"""G3: every refusal has a message in Simplified Chinese and English that
names the rule (and its limit), and reaches clients beside its reason code."""

from __future__ import annotations

import string

import pytest
from synapse.api.errors import Codes

from synapse_groupreg.config import Language
from synapse_groupreg.reasons import (
    _MESSAGES,
    REASON_FIELD,
    Reason,
    Refusal,
    message,
    to_spam_result,
    to_synapse_error,
)


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _sample_refusal(reason: Reason) -> Refusal:
    zh, en = _MESSAGES[reason]
    names = _placeholders(zh) | _placeholders(en)
    return Refusal(reason, {name: f"<{name}>" for name in names})


def test_every_reason_has_both_wordings() -> None:
    assert set(_MESSAGES) == set(Reason)


@pytest.mark.parametrize("reason", list(Reason))
def test_both_wordings_take_the_same_facts(reason: Reason) -> None:
    """A fact shown in one language is shown in the other."""
    zh, en = _MESSAGES[reason]
    assert _placeholders(zh) == _placeholders(en)


@pytest.mark.parametrize("reason", list(Reason))
@pytest.mark.parametrize("language", list(Language))
def test_messages_render_with_their_facts(reason: Reason, language: Language) -> None:
    refusal = _sample_refusal(reason)
    text = message(refusal, language)
    for value in refusal.params.values():
        assert str(value) in text


def test_limit_appears_in_the_message() -> None:
    """Refusals for caps say the limit (STYLE: 该群已满 (上限 40 人))."""
    refusal = Refusal(Reason.ROOM_FULL, {"limit": 40})
    assert message(refusal, Language.ZH_HANS) == "该群已满（上限 40 人）。"
    assert message(refusal, Language.EN) == "This group is full (limit 40)."
    both = message(refusal, Language.BILINGUAL)
    assert both.startswith("该群已满") and both.endswith("(limit 40).")


def test_a_fact_can_carry_both_wordings() -> None:
    refusal = Refusal(
        Reason.IDENTITY_REQUIRED, {"action": ("发言", "post"), "bot": "@groupreg:hs"}
    )
    assert "发言" in message(refusal, Language.ZH_HANS)
    assert "post" in message(refusal, Language.EN)
    assert "post" not in message(refusal, Language.ZH_HANS)


def test_conversions_carry_the_reason_code() -> None:
    refusal = Refusal(Reason.ROOM_FULL, {"limit": 10})
    code, fields = to_spam_result(refusal, Language.EN)
    assert code == Codes.FORBIDDEN
    assert fields == {
        "error": "This group is full (limit 10).",
        REASON_FIELD: "ROOM_FULL",
    }
    error = to_synapse_error(refusal, Language.EN)
    assert error.code == 403
    body = error.error_dict(None)
    assert body["errcode"] == "M_FORBIDDEN"
    assert body["error"] == "This group is full (limit 10)."
    assert body[REASON_FIELD] == "ROOM_FULL"
