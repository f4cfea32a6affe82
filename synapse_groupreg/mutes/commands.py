"""Mutes from Element (B8): commands a group admin types in the room,
answered by the notice bot in the same room.

    !mute @user:server 1h reason      !禁言 @user:server 1小时 原因
    !unmute @user:server              !解除禁言 @user:server
    !muteall 30m [@exempt:server …] [reason]   !全员禁言 30分钟 …
    !unmuteall                        !解除全员禁言
    !mutes                            !禁言列表

A user named by a pill (Element's mention) counts as named: Element sends
the display name in `body` and the user id in `m.mentions`. Commands run
where reactions run (the instance that runs background tasks) through the
same service as the client API, so the rules, audit and statements are
the same. Encrypted rooms' messages cannot be read, so there only the
client API works.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence

import attrs

from synapse_groupreg.config import Language
from synapse_groupreg.dispatch import EventFacts, Reactions
from synapse_groupreg.events import MESSAGE
from synapse_groupreg.matrix import MatrixRooms
from synapse_groupreg.mutes.model import InvalidMute, parse_duration
from synapse_groupreg.mutes.service import (
    MuteOrder,
    MuteRefused,
    Mutes,
    NotMuted,
    check_exempt,
    check_reason,
    valid_user_id,
)
from synapse_groupreg.notices import Notices
from synapse_groupreg.reasons import message
from synapse_groupreg.store.mutes import ALL, MuteRow

logger = logging.getLogger(__name__)


class Kind(enum.Enum):
    MUTE = "mute"
    UNMUTE = "unmute"
    MUTE_ALL = "muteall"
    UNMUTE_ALL = "unmuteall"
    LIST = "mutes"


_WORDS = {
    "mute": Kind.MUTE,
    "禁言": Kind.MUTE,
    "unmute": Kind.UNMUTE,
    "解除禁言": Kind.UNMUTE,
    "muteall": Kind.MUTE_ALL,
    "全员禁言": Kind.MUTE_ALL,
    "unmuteall": Kind.UNMUTE_ALL,
    "解除全员禁言": Kind.UNMUTE_ALL,
    "mutes": Kind.LIST,
    "禁言列表": Kind.LIST,
}
#: "!" and the full-width "！" a Chinese input method types.
_MARKS = ("!", "！")

USAGE = (
    "用法：!禁言 @用户 时长 [原因]；!解除禁言 @用户；"
    "!全员禁言 时长 [@例外成员…] [原因]；"
    "!解除全员禁言；!禁言列表。时长如 30分钟、1小时、3天（最长 30 天）。",
    "Usage: !mute @user duration [reason]; !unmute @user; !muteall duration "
    "[@exempt …] [reason]; !unmuteall; !mutes. A duration is e.g. 30m, 1h, 3d "
    "(at most 30 days).",
)


@attrs.frozen(slots=True)
class Command:
    kind: Kind
    target: str | None = None
    duration_ms: int | None = None
    reason: str = ""
    exempt: tuple[str, ...] = ()


def _is_user_id(token: str) -> bool:
    return token.startswith("@") and ":" in token


def _duration_at(tokens: Sequence[str]) -> int | None:
    """The index of the first token that is a duration."""
    for i, token in enumerate(tokens):
        try:
            parse_duration(token)
        except InvalidMute:
            continue
        return i
    return None


def parse_command(body: str, mentioned: Sequence[str]) -> Command | None:
    """The command in a message, None if it is not one.

    Raises:
        InvalidMute: a command word with missing or bad arguments.
    """
    text = body.strip()
    if not text or text[0] not in _MARKS:
        return None
    tokens = text[1:].split()
    if not tokens:
        return None
    kind = _WORDS.get(tokens[0].lower())
    if kind is None:
        return None
    rest = tokens[1:]
    if kind in (Kind.LIST, Kind.UNMUTE_ALL):
        return Command(kind)
    if kind is Kind.MUTE_ALL:
        if not rest:
            raise InvalidMute("duration", "give a duration")
        duration = parse_duration(rest[0])
        named = [t for t in rest[1:] if _is_user_id(t)]
        words = [t for t in rest[1:] if not _is_user_id(t)]
        return Command(
            kind,
            ALL,
            duration,
            check_reason(" ".join(words)),
            check_exempt([*named, *mentioned]),
        )
    # mute / unmute: a user id typed out, or one pill.
    if rest and _is_user_id(rest[0]):
        target, rest = valid_user_id("user_id", rest[0]), rest[1:]
    elif len(mentioned) == 1:
        target = mentioned[0]
        # The pill's display name sits in the body before the duration.
        at = _duration_at(rest) if kind is Kind.MUTE else None
        rest = rest[at:] if at is not None else []
    else:
        raise InvalidMute("user_id", "name one member, e.g. @name:server")
    if kind is Kind.UNMUTE:
        return Command(kind, target)
    if not rest:
        raise InvalidMute("duration", "give a duration")
    return Command(
        kind, target, parse_duration(rest[0]), check_reason(" ".join(rest[1:]))
    )


#: Whether a user acts as a platform moderator (module role `moderator`).
IsPlatform = Callable[[str], Awaitable[bool]]


class MuteCommands:
    def __init__(
        self,
        mutes: Mutes,
        notices: Notices,
        matrix: MatrixRooms,
        language: Language,
        is_platform: IsPlatform,
    ) -> None:
        self._mutes = mutes
        self._notices = notices
        self._matrix = matrix
        self._language = language
        self._is_platform = is_platform

    def reactions(self) -> Reactions:
        return Reactions(new_event=(self.on_event,))

    async def on_event(self, facts: EventFacts) -> None:
        if facts.type != MESSAGE or not facts.local:
            return
        content = facts.event.content
        body = content.get("body")
        if not isinstance(body, str) or content.get("msgtype") != "m.text":
            return
        if not body.lstrip().startswith(_MARKS) or self._notices.is_bot(facts.sender):
            return
        try:
            command = parse_command(body, self._mentioned(content))
        except InvalidMute as e:
            await self._answer(facts.room_id, self._say(e.message, e.message), True)
            return
        if command is None:
            return
        await self._answer(facts.room_id, await self._run(facts, command))

    def _mentioned(self, content: object) -> list[str]:
        # Synapse may hand over frozen content: mappings and tuples.
        mentions = content.get("m.mentions") if isinstance(content, Mapping) else None
        users = mentions.get("user_ids") if isinstance(mentions, Mapping) else None
        if not isinstance(users, Sequence) or isinstance(users, str):
            return []
        return [
            u
            for u in dict.fromkeys(users)
            if isinstance(u, str) and not self._notices.is_bot(u)
        ]

    async def _run(self, facts: EventFacts, command: Command) -> str | None:
        """The answer to post, or None when the statement said it all."""
        room_id, sender = facts.room_id, facts.sender
        platform = await self._is_platform(sender)
        mutes = self._mutes
        try:
            if command.kind is Kind.LIST:
                return self._listing(await mutes.listing(room_id))
            if command.kind in (Kind.UNMUTE, Kind.UNMUTE_ALL):
                target = command.target or ALL
                row = await mutes.lift(room_id, target, sender, platform)
                return (
                    None
                    if row.whole_group
                    else self._say(
                        f"已解除 {target} 的禁言。", f"{target} is no longer muted."
                    )
                )
            assert command.target is not None and command.duration_ms is not None
            row = await mutes.mute(
                MuteOrder(
                    room_id=room_id,
                    target=command.target,
                    duration_ms=command.duration_ms,
                    reason=command.reason,
                    exempt=command.exempt,
                    actor=sender,
                    platform=platform,
                )
            )
        except MuteRefused as e:
            return message(e.refusal, self._language)
        except InvalidMute as e:
            return self._say(e.message, e.message)
        except NotMuted as e:
            who = "本群" if str(e) == ALL else str(e)
            return self._say(
                f"{who}当前没有禁言。",
                "This group is not muted." if str(e) == ALL else f"{e} is not muted.",
            )
        if row.whole_group:
            return None
        until = mutes.statements.time(row.until_ts)
        return self._say(
            f"已禁言 {row.target}，至 {until} 解除。",
            f"{row.target} is muted until {until}.",
        )

    def _listing(self, rows: Sequence[MuteRow]) -> str:
        if not rows:
            return self._say("本群当前没有禁言。", "Nobody in this group is muted.")
        time = self._mutes.statements.time
        zh = [
            f"全员禁言至 {time(r.until_ts)}"
            if r.whole_group
            else f"{r.target} 至 {time(r.until_ts)}"
            for r in rows
        ]
        en = [
            f"everyone until {time(r.until_ts)}"
            if r.whole_group
            else f"{r.target} until {time(r.until_ts)}"
            for r in rows
        ]
        return self._say("禁言中：" + "；".join(zh), "Muted: " + "; ".join(en))

    def _say(self, zh: str, en: str) -> str:
        return self._language.pick(zh, en)

    async def _answer(
        self, room_id: str, text: str | None, usage: bool = False
    ) -> None:
        if text is None:
            return
        if usage:
            text = f"{text}\n{self._say(*USAGE)}"
        try:
            if await self._matrix.ensure_bot_in_room(room_id):
                await self._notices.send_to_room(room_id, text)
        except Exception:
            logger.exception("could not answer a mute command in %s", room_id)
