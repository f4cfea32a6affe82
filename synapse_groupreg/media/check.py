"""The decision on one stored file (C7): refuse, allow, or allow and
record for review, like a keyword hit (content/filter.py).

A file is hashed only while some list holds a hash (no lists: no work):
SHA-256 always, the perceptual hashes only while some list holds one. The
reading, hashing and lookups run in Synapse's thread pool (a 1 MB picture
costs about 20 ms there, a 10 MB one 110-200 ms, with 100k hashes listed:
a fifth to a third of what Synapse itself spends storing the upload and
making its thumbnails, bench/media.py); the reactor only awaits it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import attrs

from synapse_groupreg.config.content import Labels
from synapse_groupreg.content.catalogue import Catalogue
from synapse_groupreg.content.hits import HitLog
from synapse_groupreg.content.reloading import ToThread
from synapse_groupreg.media.hashing import PROBE_FRACTIONS, hash_file
from synapse_groupreg.media.lists import MediaMatch, MediaSnapshot
from synapse_groupreg.reasons import Reason, Refusal
from synapse_groupreg.store.content_hits import HitRow

#: The hit record's field: a local upload, another server's media (the one
#: who asked for it is not its author: no credit penalty), a URL preview.
UPLOAD = "media"
REMOTE_MEDIA = "remote_media"
URL_PREVIEW = "url_preview"


class MediaFilter:
    def __init__(
        self,
        lists: Catalogue[MediaSnapshot],
        hits: HitLog,
        to_thread: ToThread,
        now_ms: Callable[[], int],
        server_name: str,
    ) -> None:
        self._lists = lists
        self._hits = hits
        self._to_thread = to_thread
        self._now_ms = now_ms
        self._server_name = server_name

    async def check(
        self,
        path: str,
        file_id: str,
        origin: str | None,
        requester: str | None,
        url_preview: bool = False,
    ) -> Refusal | None:
        """PROHIBITED_MEDIA for a file of a `block` category; a review
        record (and None) for one of a `review` category; None otherwise."""
        snapshot = self._lists.snapshot
        if snapshot.empty:
            return None
        fractions = PROBE_FRACTIONS if len(snapshot.phashes) else ()
        match: MediaMatch | None = await self._to_thread(
            _hash_and_match, snapshot, path, fractions
        )
        if match is None:
            return None
        field = URL_PREVIEW if url_preview else REMOTE_MEDIA if origin else UPLOAD
        row = HitRow(
            ts=self._now_ms(),
            user_id=requester or "",
            room_id=None,
            event_id=None,
            event_type=None,
            field=field,
            subject=f"mxc://{origin or self._server_name}/{file_id}",
            category=match.category.name,
            action=match.category.action,
            credit_penalty=match.category.credit_penalty,
            keyword=_entry(match),
            list_version=snapshot.version,
        )
        if match.category.action != "block":
            # A review record becomes a complaint case about its user
            # (store/content_reports.py): for another server's file or a
            # URL preview that would be whoever asked for it, not its author.
            if field == UPLOAD:
                self._hits.add(row)
            return None
        refusal = prohibited_media(
            Labels(match.category.label_zh, match.category.label_en)
        )
        return attrs.evolve(refusal, then=self._recorder(row))

    def _recorder(self, row: HitRow) -> Callable[[], Awaitable[None]]:
        async def record() -> None:
            self._hits.add(row)

        return record


def _hash_and_match(
    snapshot: MediaSnapshot, path: str, fractions: Sequence[float]
) -> MediaMatch | None:
    """In the thread: the snapshot is immutable, so reading it there is safe."""
    return snapshot.match(hash_file(path, fractions))


def _entry(match: MediaMatch) -> str:
    if match.distance:
        return f"{match.entry} ({match.distance} bits apart)"
    return match.entry


def prohibited_media(label: Labels) -> Refusal:
    """PROHIBITED_MEDIA naming the category, in both languages; never the
    hash."""
    params: dict[str, Any] = {"category": (label.zh, label.en)}
    return Refusal(Reason.PROHIBITED_MEDIA, params)
