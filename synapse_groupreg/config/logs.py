"""`logs:` — the network log (F2)."""

from __future__ import annotations

import attrs

from synapse_groupreg.config._reader import Section

#: Art. 13 and the Cybersecurity Law (Art. 21) ask for at least six months.
_CN_MINIMUM_MS = 180 * 86_400_000


@attrs.frozen(slots=True)
class LogsConfig:
    #: Keep the network log: registrations, logins (IP, user agent), room
    #: creation, membership changes and message metadata.
    network: bool
    #: How long entries are kept before the purge removes them.
    retention_ms: int
    #: How often the purge runs (on the background-tasks instance).
    purge_interval_ms: int

    @classmethod
    def read(cls, section: Section, strict_retention: bool) -> LogsConfig:
        network = section.boolean("network", True)
        retention_ms = section.duration_ms("retention", "190d")
        if strict_retention and retention_ms < _CN_MINIMUM_MS:
            raise section.error(
                "retention",
                "the cn profile keeps network logs for at least six months; "
                "use '180d' or more",
            )
        purge_interval_ms = section.duration_ms("purge_interval", "1h")
        section.finish()
        return cls(network, retention_ms, purge_interval_ms)
