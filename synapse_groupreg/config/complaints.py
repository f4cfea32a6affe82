"""`complaints:` — the complaint channel (E1-E4): categories with their
deadlines, the reporters' rate, how often reports are collected, appeals."""

from __future__ import annotations

from collections.abc import Mapping

import attrs

from synapse_groupreg.config._reader import Section

#: The categories a complaint may name unless the operator lists their own.
#: The first five are the content filter's categories (C2), so a review hit
#: and a user's complaint about the same thing share deadlines.
DEFAULT_CATEGORIES = (
    "pornography",
    "violence_terror",
    "rumour_fraud",
    "pyramid_selling",
    "gambling",
    "harassment",
    "privacy",
    "other",
)


@attrs.frozen(slots=True)
class Deadlines:
    """How long a case may wait, counted from when it was opened (E2)."""

    #: Until someone acknowledges it (triage or assignment).
    acknowledge_ms: int
    #: Until it is decided.
    decide_ms: int

    @classmethod
    def read(cls, section: Section, fallback: Deadlines) -> Deadlines:
        acknowledge = section.duration_ms("acknowledge", f"{fallback.acknowledge_ms}ms")
        decide = section.duration_ms("decide", f"{fallback.decide_ms}ms")
        if decide < acknowledge:
            raise section.error(
                "decide",
                "the decision deadline cannot come before the acknowledgement "
                "deadline; make 'decide' at least as long as 'acknowledge'",
            )
        return cls(acknowledge, decide)


@attrs.frozen(slots=True)
class ComplaintsConfig:
    enabled: bool
    #: Deadlines of categories not listed, and of content-filter review
    #: records whose category is not a complaint category.
    deadlines: Deadlines
    #: Deadlines by category; the keys are the categories users may choose.
    categories: Mapping[str, Deadlines]
    #: The category of reports made through Synapse's own report endpoints
    #: (Element's "Report" button has no category).
    report_category: str
    #: Reports one user may make within `rate_window_ms`; beyond it the
    #: module's endpoint refuses and Synapse's reports are held (E1, flood).
    rate_reports: int
    rate_window_ms: int
    #: How often the background instance collects new reports.
    poll_interval_ms: int
    #: Deadlines of appeals (E4), which a human decides.
    appeal_deadlines: Deadlines

    def deadlines_for(self, category: str) -> Deadlines:
        return self.categories.get(category, self.deadlines)

    @classmethod
    def read(cls, section: Section) -> ComplaintsConfig:
        enabled = section.boolean("enabled", True)
        defaults = section.section("deadlines")
        deadlines = Deadlines.read(defaults, Deadlines(86_400_000, 7 * 86_400_000))
        defaults.finish()

        def read_category(name: str, item: Section) -> Deadlines:
            return Deadlines.read(item, deadlines)

        categories = section.items(
            "categories", read_category, {name: {} for name in DEFAULT_CATEGORIES}
        )
        if not categories:
            raise section.error("categories", "list at least one category")
        report_category = section.string("report_category", "other")
        if report_category not in categories:
            raise section.error(
                "report_category",
                f"{report_category!r} is not one of the categories; try one of: "
                + ", ".join(categories),
            )
        rate = section.section("rate")
        rate_reports = rate.integer("reports", 20, minimum=1)
        rate_window_ms = rate.duration_ms("per", "1h")
        rate.finish()
        poll_interval_ms = section.duration_ms("poll_interval", "10s")
        if poll_interval_ms < 100:
            raise section.error("poll_interval", "use at least '100ms'")
        appeals = section.section("appeals")
        appeal_deadlines = Deadlines.read(appeals, deadlines)
        appeals.finish()
        section.finish()
        return cls(
            enabled=enabled,
            deadlines=deadlines,
            categories=categories,
            report_category=report_category,
            rate_reports=rate_reports,
            rate_window_ms=rate_window_ms,
            poll_interval_ms=poll_interval_ms,
            appeal_deadlines=appeal_deadlines,
        )
