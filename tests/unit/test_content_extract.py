"""C1: what the filter scans in what a user publishes, field by field."""

from __future__ import annotations

from synapse_groupreg.content.extract import (
    alias_localpart,
    create_room_texts,
    message_texts,
    state_texts,
)


def test_message_body_and_html_reduced_to_text() -> None:
    """C1: body and formatted_body; HTML tags cannot split a word."""
    texts = message_texts(
        "m.room.message",
        {"msgtype": "m.text", "body": "hi", "formatted_body": "<b>开</b><i>奖</i>"},
    )
    assert texts == [("body", "hi"), ("formatted_body", "开奖")]


def test_html_identical_to_body_is_scanned_once() -> None:
    texts = message_texts(
        "m.room.message", {"body": "同一句话", "formatted_body": "同一句话"}
    )
    assert texts == [("body", "同一句话")]


def test_media_caption_and_file_name() -> None:
    """C1: a caption is the body, the file name is `filename`."""
    texts = message_texts(
        "m.room.message",
        {"msgtype": "m.file", "body": "本周报表", "filename": "开奖结果.xlsx"},
    )
    assert texts == [("body", "本周报表"), ("filename", "开奖结果.xlsx")]


def test_edit_new_content_is_scanned() -> None:
    """An edit shows m.new_content: a clean fallback body must not hide it."""
    texts = message_texts(
        "m.room.message",
        {
            "body": "* fixed a typo",
            "m.new_content": {"msgtype": "m.text", "body": "网上赌场"},
            "m.relates_to": {"rel_type": "m.replace", "event_id": "$x"},
        },
    )
    assert ("body", "网上赌场") in texts


def test_poll_question_and_answers() -> None:
    content = {
        "org.matrix.msc3381.poll.start": {
            "question": {"org.matrix.msc1767.text": "去哪儿？", "body": "去哪儿？"},
            "answers": [
                {"id": "a", "org.matrix.msc1767.text": "网上赌场"},
                {"id": "b", "org.matrix.msc1767.text": "图书馆"},
            ],
        },
        "org.matrix.msc1767.text": "去哪儿？\n1. 网上赌场\n2. 图书馆",
    }
    polls = [t for f, t in message_texts("org.matrix.msc3381.poll.start", content)]
    assert "网上赌场" in polls and "图书馆" in polls


def test_state_fields() -> None:
    """C1: room name, topic (plain and rich), aliases, own display name."""
    assert state_texts("m.room.name", "", "@a:hs", {"name": "周末"}) == [
        ("room_name", "周末")
    ]
    topic = state_texts(
        "m.room.topic",
        "",
        "@a:hs",
        {
            "topic": "plain",
            "m.topic": {"m.text": [{"body": "<b>rich</b>", "mimetype": "text/html"}]},
        },
    )
    assert topic == [("topic", "plain"), ("topic", "rich")]
    aliases = state_texts(
        "m.room.canonical_alias",
        "",
        "@a:hs",
        {"alias": "#main:sex.example", "alt_aliases": ["#开奖:hs"]},
    )
    assert aliases == [("alias", "main"), ("alias", "开奖")]
    assert state_texts(
        "m.room.member", "@a:hs", "@a:hs", {"membership": "join", "displayname": "小明"}
    ) == [("displayname", "小明")]


def test_invite_does_not_scan_the_invitees_name() -> None:
    """The inviter did not write the invitee's display name."""
    content = {"membership": "invite", "displayname": "anything"}
    assert state_texts("m.room.member", "@b:hs", "@a:hs", content) == []


def test_membership_reasons_and_reaction_keys_are_scanned() -> None:
    """C1: a membership's reason (any membership, the sender's words, shown
    in the room) and a reaction's key; unknown state is not scanned."""
    ban = {"membership": "ban", "reason": "发布开奖信息"}
    assert state_texts("m.room.member", "@b:hs", "@a:hs", ban) == [
        ("reason", "发布开奖信息")
    ]
    knock = {"membership": "knock", "displayname": "甲", "reason": "请让我进"}
    assert state_texts("m.room.member", "@a:hs", "@a:hs", knock) == [
        ("displayname", "甲"),
        ("reason", "请让我进"),
    ]
    reaction = {"m.relates_to": {"rel_type": "m.annotation", "key": "开奖"}}
    assert message_texts("m.reaction", reaction) == [("reaction", "开奖")]
    other = {"m.relates_to": {"rel_type": "m.reference", "key": "开奖"}}
    assert message_texts("m.reaction", other) == []
    assert state_texts("m.room.power_levels", "", "@a:hs", {"users": {}}) == []


def test_alias_server_part_is_never_scanned() -> None:
    """The server's own domain is not something a user wrote."""
    assert alias_localpart("#team:sextant.example") == "team"
    assert alias_localpart("team") == "team"


def test_create_room_body() -> None:
    """C1: createRoom's name, topic, alias and initial state."""
    texts = create_room_texts(
        {
            "name": "n",
            "topic": "t",
            "room_alias_name": "a",
            "initial_state": [
                {"type": "m.room.topic", "state_key": "", "content": {"topic": "t2"}},
                {"type": "m.room.guest_access", "content": {"guest_access": "x"}},
                "garbage",
            ],
        }
    )
    assert texts == [
        ("room_name", "n"),
        ("topic", "t"),
        ("alias", "a"),
        ("topic", "t2"),
    ]


def test_wrong_types_are_ignored_not_fatal() -> None:
    """Content is user input: a number where text belongs is skipped."""
    assert message_texts("m.room.message", {"body": 5, "formatted_body": None}) == []
    assert create_room_texts({"name": ["x"], "initial_state": "no"}) == []
