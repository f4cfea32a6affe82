"""A second Synapse module for the tests: it registers `check_event_allowed`
and `on_new_event` too, as another operator's module would, so the tests
can show that synapse-groupreg then leaves Synapse's own path in place for
everyone (its fast paths stand aside) and still enforces its rules.

It refuses any message whose body contains `other-module-says-no`, and
counts the events it saw in a file named by its config."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from synapse.module_api import ModuleApi


class OtherModule:
    @staticmethod
    def parse_config(config: dict[str, Any]) -> dict[str, Any]:
        return config

    def __init__(self, config: dict[str, Any], api: ModuleApi) -> None:
        self._seen = Path(config["seen_file"])
        api.register_third_party_rules_callbacks(
            check_event_allowed=self.check_event_allowed,
            on_new_event=self.on_new_event,
        )

    async def check_event_allowed(
        self, event: Any, state: Any
    ) -> tuple[bool, dict[str, Any] | None]:
        body = event.content.get("body") if event.type == "m.room.message" else None
        return (not (isinstance(body, str) and "other-module-says-no" in body), None)

    async def on_new_event(self, event: Any, state: Any) -> None:
        with self._seen.open("a") as f:
            f.write(f"{event.type} {len(state)}\n")
