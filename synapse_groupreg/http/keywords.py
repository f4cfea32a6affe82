"""Admin API of the prohibited-content filter (C2, C4): the lists, bulk
import, a phrase tester, and the hits (refusals and review records)."""

from __future__ import annotations

from typing import Any

from synapse.api.errors import Codes, SynapseError

from synapse_groupreg.config.content import Labels
from synapse_groupreg.content import ContentServices
from synapse_groupreg.content.entries import ListError
from synapse_groupreg.governance.roles import Role
from synapse_groupreg.http.base import (
    Body,
    Request,
    Route,
    invalid_param,
    not_found,
    paged,
)
from synapse_groupreg.keywords import Action
from synapse_groupreg.services import Services
from synapse_groupreg.store.keywords import EXCEPTION, WORD, CategoryLists

JsonDict = dict[str, Any]
_KINDS = {"words": WORD, "exceptions": EXCEPTION}


def _list_error(e: ListError) -> SynapseError:
    extra: JsonDict = {"field": e.field}
    if e.entries:
        extra["errors"] = [{"index": i, "error": m} for i, m in e.entries]
    return SynapseError(400, e.message, Codes.INVALID_PARAM, additional_fields=extra)


def _category_json(c: CategoryLists, version: int) -> JsonDict:
    return {
        "category": c.row.name,
        "action": c.row.action,
        "credit_penalty": c.row.credit_penalty,
        "labels": {"zh-Hans": c.row.label_zh, "en": c.row.label_en},
        "words": list(c.words),
        "exceptions": list(c.exceptions),
        "updated_ts": c.row.updated_ts,
        "updated_by": c.row.updated_by,
        "version": version,
    }


def _labels(body: Body) -> Labels | None:
    raw = body.value.get("labels")
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise invalid_param("labels", "'labels' must be an object {zh-Hans, en}")
    values = []
    for key in ("zh-Hans", "en"):
        value = raw.get(key)
        if not isinstance(value, str) or not value.strip():
            raise invalid_param("labels", f"'labels.{key}' must be a non-empty string")
        values.append(value.strip())
    return Labels(*values)


class KeywordsApi:
    def __init__(self, services: Services) -> None:
        self._s = services

    @property
    def _content(self) -> ContentServices:
        assert self._s.content is not None
        return self._s.content

    def routes(self) -> list[Route]:
        return [
            Route("GET", "/admin/v1/keywords", Role.MODERATOR, self.overview),
            Route("GET", "/admin/v1/keywords/{category}", Role.MODERATOR, self.get),
            Route("PUT", "/admin/v1/keywords/{category}", Role.MODERATOR, self.put),
            Route(
                "DELETE", "/admin/v1/keywords/{category}", Role.MODERATOR, self.delete
            ),
            Route(
                "POST",
                "/admin/v1/keywords/{category}/import",
                Role.MODERATOR,
                self.import_file,
            ),
            Route("POST", "/admin/v1/content/test", Role.MODERATOR, self.test),
            Route("GET", "/admin/v1/content/hits", Role.MODERATOR, self.hits),
        ]

    async def overview(self, request: Request) -> tuple[int, JsonDict]:
        """Every category with its action, penalty and list sizes."""
        version, counts = await self._content.lists.overview()
        loaded = self._content.lists.snapshot.version
        return 200, {
            "version": version,
            "loaded_version": loaded,
            "categories": [
                {
                    "category": c.row.name,
                    "action": c.row.action,
                    "credit_penalty": c.row.credit_penalty,
                    "labels": {"zh-Hans": c.row.label_zh, "en": c.row.label_en},
                    "words": c.words,
                    "exceptions": c.exceptions,
                    "updated_ts": c.row.updated_ts,
                    "updated_by": c.row.updated_by,
                }
                for c in counts
            ],
        }

    async def get(self, request: Request) -> tuple[int, JsonDict]:
        name = request.params["category"]
        version, found = await self._content.lists.get(name)
        if found is None:
            raise not_found(f"Keyword category {name!r}")
        return 200, _category_json(found, version)

    async def put(self, request: Request) -> tuple[int, JsonDict]:
        """Create or change a category. Fields left out keep their value;
        a new category needs `action` and `credit_penalty`. A list given
        replaces the old one whole, and is refused whole if any entry is bad."""
        body = request.json()
        action = body.string(
            "action", required=False, choices=[a.value for a in Action]
        )
        penalty = body.integer("credit_penalty", required=False, minimum=0, maximum=120)
        labels = _labels(body)
        words = body.string_list("words", required=False)
        exceptions = body.string_list("exceptions", required=False)
        unknown = sorted(
            set(body.value)
            - {"action", "credit_penalty", "labels", "words", "exceptions"}
        )
        if unknown:
            raise invalid_param(
                unknown[0],
                f"unknown field {unknown[0]!r}; allowed: action, credit_penalty, "
                "labels, words, exceptions",
            )
        try:
            version, after, created = await self._content.lists.put(
                request.user_id,
                request.params["category"],
                action,
                penalty,
                labels,
                words,
                exceptions,
            )
        except ListError as e:
            raise _list_error(e) from None
        answer = _category_json(after, version)
        answer["created"] = created
        return 200, answer

    async def delete(self, request: Request) -> tuple[int, JsonDict]:
        name = request.params["category"]
        try:
            version = await self._content.lists.delete(request.user_id, name)
        except ListError as e:
            raise _list_error(e) from None
        if version is None:
            raise not_found(f"Keyword category {name!r}")
        return 200, {"deleted": name, "version": version}

    async def import_file(self, request: Request) -> tuple[int, JsonDict]:
        """A list file in the body (text/plain, UTF-8, one entry a line).
        `?list=words|exceptions` (default words), `?mode=append|replace`
        (default append). Bad lines are reported by number; the rest is stored."""
        content_type = request.header("Content-Type") or ""
        if content_type.split(";")[0].strip().lower() != "text/plain":
            raise invalid_param(
                "Content-Type",
                "send the list as 'Content-Type: text/plain; charset=utf-8', "
                "one entry a line",
            )
        kind_name = request.query("list") or "words"
        if kind_name not in _KINDS:
            raise invalid_param("list", "'list' must be one of: words, exceptions")
        mode = request.query("mode") or "append"
        if mode not in ("append", "replace"):
            raise invalid_param("mode", "'mode' must be one of: append, replace")
        name = request.params["category"]
        try:
            result = await self._content.lists.import_file(
                request.user_id,
                name,
                _KINDS[kind_name],
                request.body_bytes(),  # per-line UTF-8, reported by line (C4)
                replace=mode == "replace",
            )
        except ListError as e:
            raise _list_error(e) from None
        if result is None:
            raise not_found(
                f"Keyword category {name!r} (create it with PUT first, "
                "giving action and credit_penalty)"
            )
        return 200, {
            "category": result.category,
            "list": kind_name,
            "mode": mode,
            "added": result.added,
            "total": result.total,
            "errors": [{"line": n, "error": m} for n, m in result.errors],
            "version": result.version,
        }

    async def test(self, request: Request) -> tuple[int, JsonDict]:
        """Which categories a text would hit with the lists this process
        holds now, and which entry matched (admins only)."""
        text = request.json().required_string("text")
        snapshot = self._content.lists.snapshot
        result = snapshot.keywords.scan(text)
        categories = {c.name: c for c in snapshot.keywords.categories}
        return 200, {
            "version": snapshot.version,
            "hits": [
                {
                    "category": h.category,
                    "action": h.action.value,
                    "credit_penalty": h.credit_penalty,
                    "keyword": categories[h.category].words[h.word_index],
                }
                for h in result.hits
            ],
        }

    async def hits(self, request: Request) -> tuple[int, JsonDict]:
        """Refusals and review records, oldest first; `from` is an id cursor.
        Filter by `user_id`, `action` (block|review), `category`, `since`
        (ms since the epoch)."""
        start, limit = request.page()
        action = request.query("action")
        if action is not None and action not in ("block", "review"):
            raise invalid_param("action", "'action' must be one of: block, review")
        since = request.query_int("since", -1)
        rows = await self._content.hits.page(
            start,
            limit + 1,
            user_id=request.query("user_id"),
            action=action,
            category=request.query("category"),
            since_ts=since if since >= 0 else None,
        )
        more = len(rows) > limit
        rows = rows[:limit]
        return 200, paged(
            "hits", [r.to_json() for r in rows], rows[-1].id if more else None
        )
