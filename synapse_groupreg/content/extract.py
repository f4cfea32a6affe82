"""What a user publishes, as the texts the filter scans (C1).

Pure functions over event type, state key, sender and content, so they are
tested without Synapse. Each text comes with the *field* it was found in,
which names the place in refusals ("in the group name") and in records.

Scanned: message `body` and `formatted_body` (HTML reduced to text), media
captions and `filename`, the same inside an edit's `m.new_content`, poll
questions and answers, stickers, reaction keys (`m.annotation`); room name
and topic; the local part of room aliases; a member's own display name;
the `reason` of every membership event (join, leave, knock, invite, kick,
ban, unban: the room shows it). Not scanned, on purpose: reasons given for
redactions (moderators quote what they remove), URLs and media identifiers
(their random letters would match English words), and encrypted events
(the server cannot read them; see docs/content-filter.md).
"""

from __future__ import annotations

import html as _html
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Final

from synapse_groupreg import events
from synapse_groupreg.keywords import strip_html

#: (field, text): one place a user wrote something.
Text = tuple[str, str]

# Fields, as records and refusals name them.
BODY: Final = "body"
HTML: Final = "formatted_body"
FILENAME: Final = "filename"
POLL: Final = "poll"
ROOM_NAME: Final = "room_name"
TOPIC: Final = "topic"
ALIAS: Final = "alias"
DISPLAYNAME: Final = "displayname"
REASON: Final = "reason"
REACTION: Final = "reaction"

#: Where the text was, as the user reads it (zh-Hans, en).
FIELD_LABELS: Final[Mapping[str, tuple[str, str]]] = {
    BODY: ("消息", "the message"),
    HTML: ("消息", "the message"),
    FILENAME: ("文件名", "the file name"),
    POLL: ("投票", "the poll"),
    ROOM_NAME: ("群名称", "the group name"),
    TOPIC: ("群主题", "the group topic"),
    ALIAS: ("群地址", "the group address"),
    DISPLAYNAME: ("显示名称", "the display name"),
    REASON: ("理由", "the reason"),
    REACTION: ("回应", "the reaction"),
}

_POLL_TYPES = frozenset({"m.poll.start", "org.matrix.msc3381.poll.start"})
# Extensible-events text blocks (MSC1767), stable and unstable names.
_TEXT_KEYS = ("m.text", "org.matrix.msc1767.text")


def message_texts(event_type: str, content: Mapping[str, Any]) -> list[Text]:
    """Texts of a non-state event: messages, media, edits, stickers, polls."""
    texts: list[Text] = []
    _message_fields(content, texts)
    new_content = content.get("m.new_content")
    if isinstance(new_content, Mapping):
        # An edit shows m.new_content, not its own body: scan both, since a
        # client may put anything in either.
        _message_fields(new_content, texts)
    if event_type in _POLL_TYPES:
        texts.extend((POLL, t) for t in _poll_texts(content))
    if event_type == events.REACTION:
        relation = content.get("m.relates_to")
        if isinstance(relation, Mapping) and relation.get("rel_type") == "m.annotation":
            texts.extend(_strings(REACTION, [relation.get("key")]))
    return texts


def link_texts(event_type: str, content: Mapping[str, Any]) -> list[Text]:
    """Texts of a non-state event where links are looked for (C8): those of
    `message_texts`, and the HTML itself with its entities decoded, since a
    link's target hides in `href` (`<a href="http://evil&#46;com">here</a>`
    reads "here")."""
    texts = message_texts(event_type, content)
    for block in (content, content.get("m.new_content")):
        if isinstance(block, Mapping):
            html = block.get("formatted_body")
            if isinstance(html, str) and "<" in html:
                texts.append((HTML, _html.unescape(html)))
    return texts


def _message_fields(content: Mapping[str, Any], texts: list[Text]) -> None:
    body = content.get("body")
    if isinstance(body, str) and body:
        texts.append((BODY, body))
    html = content.get("formatted_body")
    if isinstance(html, str) and html:
        reduced = strip_html(html)
        # Most clients send the same text twice; scan it once.
        if reduced != body:
            texts.append((HTML, reduced))
    filename = content.get("filename")
    if isinstance(filename, str) and filename and filename != body:
        texts.append((FILENAME, filename))


def _poll_texts(content: Mapping[str, Any]) -> Iterator[str]:
    for key in ("m.poll", "org.matrix.msc3381.poll.start", "m.poll.start"):
        poll = content.get(key)
        if not isinstance(poll, Mapping):
            continue
        yield from _extensible_text(poll.get("question"), with_body=True)
        answers = poll.get("answers")
        if isinstance(answers, list):
            for answer in answers:
                yield from _extensible_text(answer, with_body=True)
    # The fallback text beside the poll (its `body` is scanned as a message).
    yield from _extensible_text(content)


def _extensible_text(block: object, with_body: bool = False) -> Iterator[str]:
    """The text of an MSC1767 block: a string, or a list of {body} parts."""
    if not isinstance(block, Mapping):
        return
    for key in (*_TEXT_KEYS, "body") if with_body else _TEXT_KEYS:
        value = block.get(key)
        if isinstance(value, str) and value:
            yield value
        elif isinstance(value, list):
            for part in value:
                if isinstance(part, Mapping):
                    text = part.get("body")
                    if isinstance(text, str) and text:
                        yield text


def state_texts(
    event_type: str, state_key: str, sender: str, content: Mapping[str, Any]
) -> list[Text]:
    """Texts of a state event: room name, topic, aliases, display name."""
    if event_type == events.NAME:
        return _strings(ROOM_NAME, [content.get("name")])
    if event_type == events.TOPIC:
        # The plain topic, and the rich one clients may send beside it.
        topics: list[object] = [content.get("topic")]
        topics.extend(strip_html(t) for t in _extensible_text(content.get("m.topic")))
        return _strings(TOPIC, topics)
    if event_type == events.CANONICAL_ALIAS:
        aliases: list[object] = [content.get("alias")]
        alt = content.get("alt_aliases")
        if isinstance(alt, list):
            aliases.extend(alt)
        return _strings(
            ALIAS, [alias_localpart(a) for a in aliases if isinstance(a, str)]
        )
    if event_type == events.MEMBER:
        # The reason is the sender's own words, shown in the room. The
        # display name only in a member's own event: an invite carries the
        # invitee's name, which the inviter did not write.
        reason = _strings(REASON, [content.get("reason")])
        if state_key != sender:
            return reason
        return _strings(DISPLAYNAME, [content.get("displayname")]) + reason
    return []


def alias_localpart(alias: str) -> str:
    """`#name:server` -> `name`. The server part is the operator's domain,
    not something a user wrote, and must never match."""
    return alias.removeprefix("#").split(":", 1)[0]


def _strings(field: str, values: Iterable[object]) -> list[Text]:
    return [(field, v) for v in values if isinstance(v, str) and v]


def create_room_texts(room_config: Mapping[str, Any]) -> list[Text]:
    """Texts of a createRoom request body: what its events will publish."""
    texts = _strings(ROOM_NAME, [room_config.get("name")])
    texts += _strings(TOPIC, [room_config.get("topic")])
    alias_name = room_config.get("room_alias_name")
    if isinstance(alias_name, str):
        texts += _strings(ALIAS, [alias_localpart(alias_name)])
    initial_state = room_config.get("initial_state")
    if isinstance(initial_state, list):
        for item in initial_state:
            if not isinstance(item, Mapping):
                continue
            event_type, content = item.get("type"), item.get("content")
            if isinstance(event_type, str) and isinstance(content, Mapping):
                state_key = item.get("state_key", "")
                texts += state_texts(
                    event_type,
                    state_key if isinstance(state_key, str) else "",
                    "",
                    content,
                )
    return texts
