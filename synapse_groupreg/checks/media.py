"""Rules of the media lists (C7): every file Synapse stores.

`check_media_file_for_spam` is asked for local uploads
(`/_matrix/media/v3/upload`, and `PUT .../upload/{server}/{media_id}`),
for copies of other servers' media as they are first fetched, and for URL
previews (synapse/media/media_storage.py, `store_into_file`); the
dispatcher leaves out thumbnails, made from a file already asked about.
A refusal of remote media means this server never keeps or serves it.
"""

from __future__ import annotations

from synapse_groupreg.dispatch import Contribution, MediaFacts, Rule, Stage
from synapse_groupreg.media.check import MediaFilter
from synapse_groupreg.reasons import Refusal

#: Fail and enforcement modes are the content filter's: one concern (Art. 10).
CHECK = "content"


class MediaChecks:
    def __init__(self, media: MediaFilter) -> None:
        self._media = media

    def rules(self) -> Contribution:
        return {
            Stage.MEDIA: (
                Rule("media.file", CHECK, self._file, audit=None, remote=True),
            )
        }

    async def _file(self, facts: MediaFacts) -> Refusal | None:
        return await self._media.check(
            facts.path,
            facts.file_id,
            facts.origin,
            facts.requester,
            facts.url_preview,
        )
