"""Admin API of the media lists (C7) and link lists (C8): one class of
routes, one instance per family, as the keyword lists' (http/keywords.py)
but over the shared list tables.

`GET /admin/v1/{media|links}`: every category with its sizes.
`GET|PUT|DELETE /admin/v1/{media|links}/{category}`: one category; a PUT
body is `{action, credit_penalty, labels, <kinds>}` (media: `sha256`,
`phash`; links: `domains`), fields left out keep their value, a list
given replaces the old one whole and is refused whole if any entry is bad.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from synapse.api.errors import SynapseError

from synapse_groupreg.content.catalogue import Catalogue
from synapse_groupreg.content.entries import ListError
from synapse_groupreg.governance.roles import Role
from synapse_groupreg.http.base import Request, Route, invalid_param, not_found
from synapse_groupreg.http.keywords import _labels, _list_error
from synapse_groupreg.keywords import Action
from synapse_groupreg.links.normalise import unicode_form
from synapse_groupreg.services import Services
from synapse_groupreg.store.lists import CategoryEntries

JsonDict = dict[str, Any]


class _ListsApi:
    #: The path segment and what the 404 calls a category.
    segment = ""
    what = ""

    def __init__(self, services: Services) -> None:
        self._s = services

    def _lists(self) -> Catalogue[Any]:
        raise NotImplementedError

    def _extra(self, found: CategoryEntries) -> JsonDict:
        """What a family adds to a category's answer."""
        return {}

    def routes(self) -> list[Route]:
        base = f"/admin/v1/{self.segment}"
        one = base + "/{category}"
        return [
            Route("GET", base, Role.MODERATOR, self.overview),
            Route("GET", one, Role.MODERATOR, self.get),
            Route("PUT", one, Role.MODERATOR, self.put),
            Route("DELETE", one, Role.MODERATOR, self.delete),
        ]

    def _unavailable(self) -> SynapseError:
        return SynapseError(
            404,
            f"{self.what} are off on this server (content.{self.segment}.enabled)",
            "M_NOT_FOUND",
        )

    def _catalogue(self) -> Catalogue[Any]:
        lists = self._lists()
        if lists is None:
            raise self._unavailable()
        return lists

    def _category_json(self, c: CategoryEntries, version: int) -> JsonDict:
        kinds = self._catalogue().family.kinds
        return {
            "category": c.row.name,
            "action": c.row.action,
            "credit_penalty": c.row.credit_penalty,
            "labels": {"zh-Hans": c.row.label_zh, "en": c.row.label_en},
            **{kind: list(c.of(kind)) for kind in kinds},
            **self._extra(c),
            "updated_ts": c.row.updated_ts,
            "updated_by": c.row.updated_by,
            "version": version,
        }

    async def overview(self, request: Request) -> tuple[int, JsonDict]:
        """Every category with its action, penalty and list sizes."""
        lists = self._catalogue()
        version, sizes = await lists.overview()
        return 200, {
            "version": version,
            "loaded_version": lists.snapshot.version,
            "categories": [
                {
                    "category": c.row.name,
                    "action": c.row.action,
                    "credit_penalty": c.row.credit_penalty,
                    "labels": {"zh-Hans": c.row.label_zh, "en": c.row.label_en},
                    **{kind: c.sizes.get(kind, 0) for kind in lists.family.kinds},
                    "updated_ts": c.row.updated_ts,
                    "updated_by": c.row.updated_by,
                }
                for c in sizes
            ],
        }

    async def get(self, request: Request) -> tuple[int, JsonDict]:
        name = request.params["category"]
        version, found = await self._catalogue().get(name)
        if found is None:
            raise not_found(f"{self.what[:-1]} category {name!r}")
        return 200, self._category_json(found, version)

    async def put(self, request: Request) -> tuple[int, JsonDict]:
        lists = self._catalogue()
        kinds: Mapping[str, Callable[[str], str]] = lists.family.kinds
        body = request.json()
        action = body.string(
            "action", required=False, choices=[a.value for a in Action]
        )
        penalty = body.integer("credit_penalty", required=False, minimum=0, maximum=120)
        labels = _labels(body)
        entries = {}
        for kind in kinds:
            values = body.string_list(kind, required=False)
            if values is not None:
                entries[kind] = values
        allowed = ["action", "credit_penalty", "labels", *kinds]
        unknown = sorted(set(body.value) - set(allowed))
        if unknown:
            raise invalid_param(
                unknown[0],
                f"unknown field {unknown[0]!r}; allowed: {', '.join(allowed)}",
            )
        try:
            version, after, created = await lists.put(
                request.user_id,
                request.params["category"],
                action,
                penalty,
                labels,
                entries,
            )
        except ListError as e:
            raise _list_error(e) from None
        answer = self._category_json(after, version)
        answer["created"] = created
        return 200, answer

    async def delete(self, request: Request) -> tuple[int, JsonDict]:
        name = request.params["category"]
        try:
            version = await self._catalogue().delete(request.user_id, name)
        except ListError as e:
            raise _list_error(e) from None
        if version is None:
            raise not_found(f"{self.what[:-1]} category {name!r}")
        return 200, {"deleted": name, "version": version}


class MediaListsApi(_ListsApi):
    """`/admin/v1/media...`: SHA-256 digests and perceptual hashes (C7)."""

    segment = "media"
    what = "Media lists"

    def _lists(self) -> Catalogue[Any]:
        return self._s.media_lists  # type: ignore[return-value]


class LinkListsApi(_ListsApi):
    """`/admin/v1/links...`: domains, covering their subdomains (C8)."""

    segment = "links"
    what = "Link lists"

    def _lists(self) -> Catalogue[Any]:
        return self._s.link_lists  # type: ignore[return-value]

    def _extra(self, found: CategoryEntries) -> JsonDict:
        # Stored in punycode; shown as people read them too.
        return {"domains_unicode": [unicode_form(d) for d in found.of("domains")]}
