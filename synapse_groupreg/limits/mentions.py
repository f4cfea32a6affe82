"""How many users one message mentions (B9, MENTION_LIMIT).

A mention is any of: a user id in `m.mentions.user_ids` (the intentional
mentions of Matrix 1.7, what Element sends), `m.mentions.room` or `@room`
in the body (one mention: the whole room), a matrix.to link to a user
(`https://matrix.to/#/@alice:example.org`, the pill Element renders) in
the body or `formatted_body`, or a user id written out in the body. Each
user counts once, however many times and ways they are named.

Cheap for plain messages: without an '@' in the texts and without
`m.mentions`, nothing is parsed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote

#: A user id as written in text or a matrix.to link: '@', a localpart, ':'
#: and a server name (with a port, IPv6 brackets allowed).
_USER_ID = re.compile(
    r"@[a-z0-9._=\-/+]+:(?:\[[0-9a-f:.]+\]|[a-z0-9.\-]+)(?::\d{1,5})?",
    re.IGNORECASE,
)
#: The pill's link, percent-encoded or not (`%40alice%3Aexample.org`).
_MATRIX_TO = re.compile(r"https?://matrix\.to/#/(%40[^\s\"'<>?]+)", re.IGNORECASE)
_ROOM = re.compile(r"(?<![\w@])@room\b")


def _texts(content: Any) -> Iterable[str]:
    for key in ("body", "formatted_body"):
        value = content.get(key)
        if isinstance(value, str) and ("@" in value or "%40" in value):
            yield value


def mentioned(content: Any) -> tuple[frozenset[str], bool]:
    """The users a message's content mentions, and whether it mentions the
    whole room. `content` is a mapping (Synapse's JsonObject has `.get`)."""
    users: set[str] = set()
    room = False
    mentions = content.get("m.mentions")
    if mentions is not None and hasattr(mentions, "get"):
        ids = mentions.get("user_ids")
        if isinstance(ids, (list, tuple)):
            users.update(u for u in ids if isinstance(u, str) and u.startswith("@"))
        room = mentions.get("room") is True
    for text in _texts(content):
        if "%40" in text:
            for link in _MATRIX_TO.findall(text):
                found = _USER_ID.match(unquote(link))
                if found is not None:
                    users.add(found.group(0))
        if "@" in text:
            users.update(_USER_ID.findall(text))
            if not room and _ROOM.search(text):
                room = True
    return frozenset(users), room


def mention_count(content: Any) -> int:
    """Users mentioned, plus one for the whole room."""
    users, room = mentioned(content)
    return len(users) + (1 if room else 0)
