"""`credit:` — the credit system (D1): score range, recovery, penalties, bands."""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from synapse_groupreg.config._reader import Section

#: What a credit band may deny its members. Room classes gate on the score
#: itself (their own `min_credit`), so they need no entry here.
GATES = ("posting", "admin", "create_groups")

#: The lowest score there is; the top of the range is `credit.maximum`.
MINIMUM_SCORE = 0

_DEFAULT_BANDS: dict[str, dict[str, object]] = {
    "excellent": {"from": 110},
    "good": {"from": 90},
    "fair": {"from": 60},
    "poor": {"from": 30, "denies": ["admin", "create_groups"]},
    "restricted": {"from": 0, "denies": ["admin", "create_groups", "posting"]},
}

#: Points lost per violation class. The content filter passes each keyword
#: category's own `credit_penalty`, which wins over this table.
_DEFAULT_PENALTIES: dict[str, int] = {
    "prohibited_content": 0,
    "complaint_upheld": 10,
}


@attrs.frozen(slots=True)
class BandLimits:
    """What a credit band's members may do how often (D7); None: Synapse's
    own limits (and the room class's) alone."""

    #: Messages per window (`rooms.limits_window`, a minute), all rooms
    #: together; applied by the module at the event stage.
    messages_per_minute: int | None = None
    #: Invites per minute: Synapse's `rc_invites.per_issuer` for these users
    #: (through `get_ratelimit_override_for_user`).
    invites_per_minute: int | None = None
    #: The largest file one upload may be (bytes).
    max_upload_size: int | None = None
    #: Bytes one user may upload per day (Synapse's media upload limits).
    upload_bytes_per_day: int | None = None

    @property
    def on(self) -> bool:
        return any(
            v is not None
            for v in (
                self.messages_per_minute,
                self.invites_per_minute,
                self.max_upload_size,
                self.upload_bytes_per_day,
            )
        )


@attrs.frozen(slots=True)
class CreditBand:
    """Scores from `floor` up to the next band's floor."""

    name: str
    floor: int
    denies: frozenset[str]
    limits: BandLimits = BandLimits()

    def allows(self, gate: str) -> bool:
        return gate not in self.denies


@attrs.frozen(slots=True)
class CreditConfig:
    #: Every user's score before any entry in their ledger.
    start: int
    #: The top of the range (the bottom is 0).
    maximum: int
    #: Recovery: `recovery_points` back per `recovery_every_ms` without a
    #: violation, computed from the last violation's time, never above
    #: `recovery_ceiling`.
    recovery_points: int
    recovery_every_ms: int
    recovery_ceiling: int
    #: Points lost per violation class (`kind`, or the part before ':').
    penalties: Mapping[str, int]
    #: Highest floor first; the last band's floor is 0.
    bands: tuple[CreditBand, ...]

    def band_of(self, score: int) -> CreditBand:
        for band in self.bands:
            if score >= band.floor:
                return band
        return self.bands[-1]

    def floor_allowing(self, gate: str) -> int | None:
        """The lowest score whose band allows `gate` (for messages)."""
        allowed = [b.floor for b in self.bands if b.allows(gate)]
        return min(allowed) if allowed else None

    def penalty_for(self, kind: str) -> int:
        if kind in self.penalties:
            return self.penalties[kind]
        return self.penalties.get(kind.split(":", 1)[0], 0)

    @classmethod
    def read(cls, section: Section) -> CreditConfig:
        maximum = section.integer("maximum", 120, minimum=1, maximum=1000)
        start = section.integer("start", 100, minimum=MINIMUM_SCORE, maximum=maximum)
        recovery = section.section("recovery")
        points = recovery.integer("points", 1, minimum=0, maximum=maximum)
        every_ms = recovery.duration_ms("every", "7d")
        if every_ms <= 0:
            raise recovery.error("every", "must be longer than 0, e.g. '7d'")
        ceiling = recovery.integer("up_to", start, minimum=0, maximum=maximum)
        recovery.finish()
        penalties = _read_penalties(section, maximum)
        bands = _read_bands(section)
        section.finish()
        return cls(start, maximum, points, every_ms, ceiling, penalties, bands)


def _read_penalties(section: Section, maximum: int) -> dict[str, int]:
    if not section.has("penalties"):
        section.section("penalties")  # mark the key as known
        return dict(_DEFAULT_PENALTIES)
    table = section.section("penalties")
    penalties = {
        kind: table.integer(kind, 0, minimum=0, maximum=maximum)
        for kind in list(table.names())
    }
    table.finish()
    return penalties


def _read_band(name: str, item: Section) -> CreditBand:
    floor = item.optional_integer("from", minimum=MINIMUM_SCORE)
    if floor is None:
        raise item.error("from", "each band needs 'from': its lowest score")
    denies = item.string_list("denies", (), GATES)
    if "admin" in denies and "create_groups" not in denies:
        # Whoever creates a group is its admin: creating would half-fail.
        raise item.error(
            "denies", "a band that denies 'admin' must deny 'create_groups' too"
        )
    rates = item.section("rate_limits")
    media = item.section("media")
    limits = BandLimits(
        messages_per_minute=rates.optional_integer("messages_per_minute", minimum=1),
        invites_per_minute=rates.optional_integer("invites_per_minute", minimum=1),
        max_upload_size=media.optional_size("max_upload_size"),
        upload_bytes_per_day=media.optional_size("upload_bytes_per_day"),
    )
    rates.finish()
    media.finish()
    return CreditBand(name, floor, frozenset(denies), limits)


def _read_bands(section: Section) -> tuple[CreditBand, ...]:
    bands = sorted(
        section.items("bands", _read_band, _DEFAULT_BANDS).values(),
        key=lambda b: -b.floor,
    )
    if not bands:
        raise section.error("bands", "at least one band is needed (one from 0)")
    floors = [b.floor for b in bands]
    for band in bands:
        if floors.count(band.floor) > 1:
            raise section.error(
                "bands", f"two bands start at {band.floor}; each needs its own 'from'"
            )
    if floors[-1] != MINIMUM_SCORE:
        raise section.error(
            "bands", f"the lowest band must start 'from: 0' (it starts at {floors[-1]})"
        )
    return tuple(bands)
