"""The module's configuration: frozen attrs classes read from homeserver.yaml.

The YAML lives under `modules: - module: synapse_groupreg.GroupRegModule`,
`config:`. `profile` picks the defaults (`cn`: every rule of the Provisions
on; `generic`: caps, classes, content, complaints, sanctions, audit, no
real-name). Each concern has its own file in this package; this one holds
the top level and the sections every concern shares.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Mapping
from typing import Any

import attrs
from synapse.config._base import ConfigError

from synapse_groupreg.config._reader import Section, parse_duration_ms
from synapse_groupreg.config.adoption import AdoptionConfig
from synapse_groupreg.config.complaints import ComplaintsConfig
from synapse_groupreg.config.content import ContentConfig
from synapse_groupreg.config.credit import CreditConfig
from synapse_groupreg.config.governance import AuditConfig, read_roles
from synapse_groupreg.config.identity import CovenantConfig, IdentityConfig
from synapse_groupreg.config.logs import LogsConfig
from synapse_groupreg.config.rooms import RoomsConfig
from synapse_groupreg.config.sanctions import BlacklistConfig, SanctionsConfig
from synapse_groupreg.governance.roles import RolePolicy

__all__ = [
    "CHECKS",
    "ConfigError",
    "Enforcement",
    "EnforcementMode",
    "FailMode",
    "GroupRegConfig",
    "Language",
    "NoticesConfig",
    "Profile",
    "parse_config",
    "parse_duration_ms",
]


class Profile(str, enum.Enum):
    CN = "cn"
    GENERIC = "generic"


class Language(str, enum.Enum):
    ZH_HANS = "zh-Hans"
    EN = "en"
    #: Both languages in one message, Chinese first: for servers whose users
    #: read either.
    BILINGUAL = "bilingual"

    def pick(self, zh: str, en: str, joiner: str = " / ") -> str:
        """The text a user of this language reads: the Chinese or the English
        wording, or both joined by `joiner` (Chinese first) when bilingual.
        The one place that decides, for every message the module writes."""
        if self is Language.ZH_HANS:
            return zh
        if self is Language.EN:
            return en
        return f"{zh}{joiner}{en}"


class FailMode(str, enum.Enum):
    """What a check answers when it cannot decide (G6)."""

    #: Refuse with MODULE_UNAVAILABLE: nothing passes unchecked.
    CLOSED = "closed"
    #: Let the action through: availability over enforcement.
    OPEN = "open"


#: The checks whose failure mode can be set one by one under `fail:`. Each
#: names a concern of docs/requirements.md; a stage may run several of them.
CHECKS = (
    "identity",
    "covenant",
    "rooms",
    "caps",
    "content",
    "sanctions",
    "blacklist",
    "federation",
    "limits",
)


@attrs.frozen(slots=True)
class FailModes:
    """Per check, closed or open; `default` fills the checks not named."""

    per_check: Mapping[str, FailMode]

    def for_check(self, check: str) -> FailMode:
        return self.per_check[check]

    @classmethod
    def read(cls, section: Section) -> FailModes:
        choices = [m.value for m in FailMode]
        default = section.string("default", FailMode.CLOSED.value, choices)
        per_check = {
            check: FailMode(section.string(check, default, choices)) for check in CHECKS
        }
        section.finish()
        return cls(per_check=per_check)


class EnforcementMode(str, enum.Enum):
    """Whether a check's refusals take effect (H4: a staged rollout)."""

    #: Refusals are answered: the action does not happen.
    ENFORCE = "enforce"
    #: Every check decides as usual, but a refusal is only counted and
    #: logged (`groupreg_would_refuse_total`); the action goes through.
    OBSERVE = "observe"


@attrs.frozen(slots=True)
class Enforcement:
    """Per check, enforce or observe. `enforcement: observe` sets every
    check; a mapping sets `default` and names checks one by one."""

    per_check: Mapping[str, EnforcementMode]

    def observes(self, check: str) -> bool:
        return self.per_check[check] is EnforcementMode.OBSERVE

    @property
    def observing(self) -> tuple[str, ...]:
        """The checks in observe mode, in CHECKS order."""
        return tuple(c for c in CHECKS if self.observes(c))

    @classmethod
    def read(cls, root: Section) -> Enforcement:
        choices = [m.value for m in EnforcementMode]
        if not root.has("enforcement") or isinstance(root.raw.get("enforcement"), str):
            mode = EnforcementMode(
                root.string("enforcement", EnforcementMode.ENFORCE.value, choices)
            )
            return cls(per_check=dict.fromkeys(CHECKS, mode))
        section = root.section("enforcement")
        default = section.string("default", EnforcementMode.ENFORCE.value, choices)
        per_check = {
            check: EnforcementMode(section.string(check, default, choices))
            for check in CHECKS
        }
        section.finish()
        return cls(per_check=per_check)


@attrs.frozen(slots=True)
class NoticesConfig:
    """The notice bot: a local account the module owns and speaks through."""

    bot_localpart: str
    display_name: str

    @classmethod
    def read(cls, section: Section, language: Language) -> NoticesConfig:
        default_name = (
            "群组管理" if language is Language.ZH_HANS else "Group governance"
        )
        localpart = section.string("bot_localpart", "groupreg")
        if not localpart or not all(
            c.isascii() and (c.isalnum() or c in "._=-/") for c in localpart
        ):
            raise section.error(
                "bot_localpart",
                f"{localpart!r} is not a valid Matrix localpart; use lower-case "
                "letters, digits and ._=-/",
            )
        display_name = section.string("display_name", default_name)
        section.finish()
        return cls(bot_localpart=localpart.lower(), display_name=display_name)


@attrs.frozen(slots=True)
class GroupRegConfig:
    """The whole configuration, as the module's services see it."""

    profile: Profile
    language: Language
    fail: FailModes
    #: Enforce or only observe, per check (H4).
    enforcement: Enforcement
    notices: NoticesConfig
    logs: LogsConfig
    #: sha256 of the raw YAML block, recorded in the audit log at each start
    #: so that an inspector can tell when the rules changed.
    digest: str
    #: Credit (D1), sanctions and their automatic consequences (D2-D6),
    #: the blacklist (D4).
    credit: CreditConfig
    sanctions: SanctionsConfig
    blacklist: BlacklistConfig
    identity: IdentityConfig
    covenant: CovenantConfig
    #: Room classes, caps, registration codes, federation (B1-B7).
    rooms: RoomsConfig
    content: ContentConfig
    complaints: ComplaintsConfig
    #: Taking over rooms that exist before the module (H1-H5).
    adoption: AdoptionConfig
    #: Who holds which module role (G7); `grants` None: server admins hold all.
    roles: RolePolicy
    #: Signed checkpoints of the audit chain (F1).
    audit: AuditConfig

    @property
    def real_name(self) -> bool:
        return self.identity.enabled


def parse_config(raw: Mapping[str, Any] | None) -> GroupRegConfig:
    """Read and check the whole `config:` block.

    Raises:
        ConfigError: naming the key path and what is allowed there.
    """
    # Here, because Synapse reads the config first thing at start-up.
    from synapse_groupreg.compat import check_installed_synapse

    check_installed_synapse()
    root = Section(raw, ())
    if not root.has("profile"):
        raise ConfigError(
            "'profile' is required; try one of: cn, generic", ("profile",)
        )
    profile = Profile(root.string("profile", "", [p.value for p in Profile]))
    default_language = Language.ZH_HANS if profile is Profile.CN else Language.EN
    language = Language(
        root.string(
            "language", default_language.value, [lang.value for lang in Language]
        )
    )
    config = GroupRegConfig(
        profile=profile,
        language=language,
        fail=FailModes.read(root.section("fail")),
        enforcement=Enforcement.read(root),
        notices=NoticesConfig.read(root.section("notices"), language),
        logs=LogsConfig.read(
            root.section("logs"), strict_retention=profile is Profile.CN
        ),
        digest=hashlib.sha256(
            json.dumps(raw, sort_keys=True, default=str).encode()
        ).hexdigest(),
        credit=CreditConfig.read(root.section("credit")),
        sanctions=SanctionsConfig.read(
            root.section("sanctions"), profile is Profile.CN, language.value
        ),
        blacklist=BlacklistConfig.read(root.section("blacklist")),
        identity=IdentityConfig.read(
            root.section("identity"), real_name_default=profile is Profile.CN
        ),
        covenant=CovenantConfig.read(
            root.section("covenant"), default_required=profile is Profile.CN
        ),
        rooms=RoomsConfig.read(root.section("rooms"), profile is Profile.CN),
        content=ContentConfig.read(root.section("content"), cn=profile is Profile.CN),
        complaints=ComplaintsConfig.read(root.section("complaints")),
        adoption=AdoptionConfig.read(root.section("adoption")),
        roles=read_roles(root),
        audit=AuditConfig.read(root.section("audit")),
    )
    root.finish()
    for name in config.content.links.allow:
        if name not in config.rooms.classes:
            raise ConfigError(
                f"content.links.allow names the class {name!r}, which rooms.classes"
                f" does not define; classes: {', '.join(config.rooms.classes)}",
                ("content", "links", "allow", name),
            )
    return config
