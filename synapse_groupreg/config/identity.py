"""Configuration of real-name identity (requirements A1-A8) and of the
covenant (A9), under `identity:` and `covenant:`."""

from __future__ import annotations

import enum
import urllib.parse
from datetime import date

import attrs

from synapse_groupreg.config._reader import Section
from synapse_groupreg.identity.levels import IdentityLevel


class Action(str, enum.Enum):
    """What a gate may refuse (A1). State events count as `send`."""

    SEND = "send"
    CREATE_ROOM = "create_room"
    INVITE = "invite"
    JOIN = "join"

    @property
    def wording(self) -> tuple[str, str]:
        """(zh-Hans, en) for messages: "...before you can {action}"."""
        return _WORDING[self]


_WORDING = {
    Action.SEND: ("发送消息", "send messages"),
    Action.CREATE_ROOM: ("创建群组", "create rooms"),
    Action.INVITE: ("邀请他人", "invite people"),
    Action.JOIN: ("加入群组", "join rooms"),
}
ALL_ACTIONS = tuple(a.value for a in Action)


@attrs.frozen(slots=True)
class ProviderConfig:
    """The external HTTP service that checks a name against a document (A3)."""

    url: str
    #: Shared secret: requests carry an HMAC-SHA256 signature made with it.
    secret: str
    timeout_ms: int

    @classmethod
    def read(cls, section: Section) -> ProviderConfig:
        url = section.optional_string("url")
        if url is None:
            raise section.error("url", "the provider's URL is required")
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise section.error(
                "url", f"{url!r} is not an http:// or https:// URL with a host"
            )
        secret = section.optional_string("secret")
        if secret is None or len(secret) < 16:
            raise section.error(
                "secret", "a shared secret of at least 16 characters is required"
            )
        timeout_ms = section.duration_ms("timeout", "10s")
        if not 100 <= timeout_ms <= 120_000:
            raise section.error("timeout", "must be between 100ms and 2m")
        section.finish()
        return cls(url=url, secret=secret, timeout_ms=timeout_ms)


@attrs.frozen(slots=True)
class SelfServiceConfig:
    """The verification page reached from the notice bot's link (A3 b)."""

    enabled: bool
    link_lifetime_ms: int
    #: Wrong answers from the provider a link survives before it is spent.
    max_attempts: int
    #: None: every submission waits for manual review.
    provider: ProviderConfig | None

    @classmethod
    def read(cls, section: Section) -> SelfServiceConfig:
        enabled = section.boolean("enabled", True)
        lifetime = section.duration_ms("link_lifetime", "24h")
        if not 60_000 <= lifetime <= 30 * 86_400_000:
            raise section.error("link_lifetime", "must be between 1m and 30d")
        max_attempts = section.integer("max_attempts", 5, minimum=1, maximum=100)
        # Absent or null: no provider, every submission goes to manual review.
        provider_section = section.section("provider")
        provider = (
            ProviderConfig.read(provider_section) if provider_section.raw else None
        )
        section.finish()
        return cls(
            enabled=enabled,
            link_lifetime_ms=lifetime,
            max_attempts=max_attempts,
            provider=provider,
        )


@attrs.frozen(slots=True)
class RevealConfig:
    """How an identity officer comes to read a plaintext identity (A6, G7)."""

    #: Officers other than the requester who must approve before the
    #: plaintext can be read; 0 keeps the one-step reveal.
    approvals: int
    #: How long a request waits for its approvals before it lapses.
    decide_within_ms: int
    #: How long after the approval the requester may read it, once.
    read_within_ms: int
    #: Whether the notice bot tells the person once their identity was
    #: read. Off by default: a legal hold may forbid telling them.
    notify_subject: bool
    #: Requests one officer may make within `rate_window_ms`.
    rate_count: int
    rate_window_ms: int

    @classmethod
    def read(cls, section: Section, cn: bool) -> RevealConfig:
        approvals = section.integer("approvals", 1 if cn else 0, minimum=0, maximum=5)
        decide = section.duration_ms("decide_within", "7d")
        read = section.duration_ms("read_within", "24h")
        for key, value in (("decide_within", decide), ("read_within", read)):
            if not 1000 <= value <= 90 * 86_400_000:
                raise section.error(key, "must be between 1s and 90d")
        rate = section.section("rate_limit")
        count = rate.integer("count", 10, minimum=1, maximum=10_000)
        window = rate.duration_ms("per", "24h")
        if not 60_000 <= window <= 366 * 86_400_000:
            raise rate.error("per", "must be between 1m and 366d")
        rate.finish()
        config = cls(
            approvals=approvals,
            decide_within_ms=decide,
            read_within_ms=read,
            notify_subject=section.boolean("notify_subject", False),
            rate_count=count,
            rate_window_ms=window,
        )
        section.finish()
        return config


@attrs.frozen(slots=True)
class IdentityConfig:
    """Real-name identity: 后台实名、前台自愿 (A1-A8)."""

    enabled: bool
    #: Path of the key file (format: synapse_groupreg/identity/vault.py);
    #: required when enabled, checked when the module starts.
    key_file: str | None
    #: Actions refused to users below `gate_level` (A1).
    gates: frozenset[Action]
    gate_level: IdentityLevel
    #: Whether a mainland mobile number bound as an msisdn 3PID gives `phone`.
    phone_level: bool
    max_accounts_per_person: int
    #: Below this age (周岁) a verified identity waits for a guardian (A7).
    guardian_age: int
    #: How often the background job re-encrypts under the current key.
    reencrypt_interval_ms: int
    self_service: SelfServiceConfig
    #: Revealing the plaintext: four eyes, time limits, rate (A6).
    reveal: RevealConfig
    #: H4: until this day (the server's calendar) users below the gate may
    #: still do what the gates cover, and the notice bot reminds them.
    grace_until: date | None = None
    #: How often a user in the grace period is reminded, at most.
    grace_reminder_interval_ms: int = 3 * 86_400_000

    def in_grace(self, today: date) -> bool:
        return self.grace_until is not None and today < self.grace_until

    @classmethod
    def read(cls, section: Section, real_name_default: bool) -> IdentityConfig:
        enabled = section.boolean("enabled", real_name_default)
        key_file = section.optional_string("key_file")
        gates = section.string_list("gates", ALL_ACTIONS, ALL_ACTIONS)
        levels = [IdentityLevel.PHONE.value, IdentityLevel.ID.value]
        gate_level = IdentityLevel(
            section.string("gate_level", IdentityLevel.PHONE.value, levels)
        )
        config = cls(
            enabled=enabled,
            key_file=key_file,
            gates=frozenset(Action(g) for g in gates),
            gate_level=gate_level,
            phone_level=section.boolean("phone_level", True),
            max_accounts_per_person=section.integer(
                "max_accounts_per_person", 3, minimum=1, maximum=1000
            ),
            guardian_age=section.integer("guardian_age", 14, minimum=0, maximum=18),
            reencrypt_interval_ms=section.duration_ms("reencrypt_interval", "1h"),
            self_service=SelfServiceConfig.read(section.section("self_service")),
            grace_until=_date(section, "grace_until"),
            grace_reminder_interval_ms=section.duration_ms(
                "grace_reminder_interval", "3d"
            ),
            reveal=RevealConfig.read(section.section("reveal"), real_name_default),
        )
        section.finish()
        return config


def _date(section: Section, key: str) -> date | None:
    text = section.optional_string(key)
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise section.error(
            key, f"{text!r} is not a date; write it as YYYY-MM-DD, e.g. 2027-01-31"
        ) from None


@attrs.frozen(slots=True)
class CovenantConfig:
    """The management rules and platform covenant (A9).

    The text, its version and the record of who accepted which version are
    Synapse's own `user_consent` (homeserver.yaml); the module requires the
    current version before the actions listed here.
    """

    required: bool
    actions: frozenset[Action]

    @classmethod
    def read(cls, section: Section, default_required: bool) -> CovenantConfig:
        required = section.boolean("required", default_required)
        actions = section.string_list("actions", ALL_ACTIONS, ALL_ACTIONS)
        section.finish()
        return cls(required=required, actions=frozenset(Action(a) for a in actions))
