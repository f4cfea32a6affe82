"""G1 for the identity and covenant sections: defaults per profile, the
examples show them, and every mistake names its key."""

from __future__ import annotations

import attrs
import pytest
from synapse.config._base import ConfigError

from synapse_groupreg.config import parse_config
from synapse_groupreg.config.identity import Action
from synapse_groupreg.identity.levels import IdentityLevel
from tests.unit.test_config import example


def test_cn_turns_real_name_and_covenant_on_generic_off() -> None:
    """A1, A9: cn gates all four actions; generic has neither rule."""
    cn, generic = parse_config({"profile": "cn"}), parse_config({"profile": "generic"})
    assert cn.real_name and cn.identity.enabled and cn.covenant.required
    assert cn.identity.gates == frozenset(Action)
    assert cn.identity.gate_level is IdentityLevel.PHONE
    assert cn.identity.max_accounts_per_person == 3
    assert cn.identity.guardian_age == 14
    assert cn.identity.self_service.link_lifetime_ms == 24 * 3_600_000
    assert cn.identity.self_service.provider is None
    assert not generic.real_name and not generic.covenant.required


def test_examples_show_the_defaults() -> None:
    for name, profile in (("cn.yaml", "cn"), ("generic.yaml", "generic")):
        shown, bare = parse_config(example(name)), parse_config({"profile": profile})
        assert attrs.evolve(shown.identity, key_file=None) == bare.identity
        assert shown.covenant == bare.covenant


def _error(raw: dict[str, object]) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        parse_config(raw)
    return caught.value


@pytest.mark.parametrize(
    ("identity", "path", "words"),
    [
        ({"gates": ["send", "post"]}, ("identity", "gates", "1"), "try one of"),
        ({"gate_level": "none"}, ("identity", "gate_level"), "phone, id"),
        (
            {"max_accounts_per_person": 0},
            ("identity", "max_accounts_per_person"),
            "minimum",
        ),
        (
            {"self_service": {"link_lifetime": "7"}},
            ("identity", "self_service", "link_lifetime"),
            "duration",
        ),
        (
            {"self_service": {"link_lifetime": "10s"}},
            ("identity", "self_service", "link_lifetime"),
            "between 1m",
        ),
        (
            {"self_service": {"provider": {"url": "ftp://x", "secret": "s" * 16}}},
            ("identity", "self_service", "provider", "url"),
            "http",
        ),
        (
            {
                "self_service": {
                    "provider": {"url": "http://127.0.0.1:1/x", "secret": "short"}
                }
            },
            ("identity", "self_service", "provider", "secret"),
            "16 characters",
        ),
        (
            {
                "self_service": {
                    "provider": {
                        "url": "http://127.0.0.1:1/x",
                        "secret": "s" * 16,
                        "timeout": "5m",
                    }
                }
            },
            ("identity", "self_service", "provider", "timeout"),
            "between",
        ),
        ({"keyfile": "x"}, ("identity", "keyfile"), "key_file"),
    ],
)
def test_mistakes_name_the_key(
    identity: dict[str, object], path: tuple[str, ...], words: str
) -> None:
    e = _error({"profile": "cn", "identity": identity})
    assert e.path == path, e.path
    assert words in e.msg, e.msg


def test_provider_is_read() -> None:
    config = parse_config(
        {
            "profile": "cn",
            "identity": {
                "self_service": {
                    "provider": {
                        "url": "https://verify.example/check",
                        "secret": "0123456789abcdef",
                        "timeout": "3s",
                    }
                }
            },
        }
    )
    provider = config.identity.self_service.provider
    assert provider is not None and provider.timeout_ms == 3000
