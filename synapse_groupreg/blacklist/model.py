"""The blacklist's entries and the index the per-event checks ask (D4), pure.

Targets follow the Matrix policy-list vocabulary: a user id, room id or
alias, or server name, each possibly a glob (`*` any run of characters, `?`
one), as Draupnir and Mjolnir write them. A person is the keyed hash of
their identity document (identity engineer's `person_hash_of`): never a
name or a number.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import attrs

from synapse_groupreg.reasons import Reason, Refusal
from synapse_groupreg.store.blacklist import BlacklistRow

USER = "user"
PERSON = "person"
ROOM = "room"
SERVER = "server"
KINDS = (USER, PERSON, ROOM, SERVER)

_PERSON_HASH = re.compile(r"^[0-9a-f]{64}$")
_SERVER = re.compile(r"^[A-Za-z0-9.\-\[\]:*?]+$")
#: Past this many cached answers the per-user memo starts again.
_MEMO_LIMIT = 50_000


class InvalidEntry(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def format_id(entry_id: int) -> str:
    return f"B{entry_id}"


def parse_id(text: str) -> int | None:
    digits = text[1:] if text[:1] in ("B", "b") else text
    ok = digits.isascii() and digits.isdigit() and len(digits) < 19
    return int(digits) if ok else None


def is_glob(target: str) -> bool:
    return "*" in target or "?" in target


def glob_regex(glob: str) -> str:
    """A policy-list glob as a regex matching the whole string."""
    parts = []
    for char in glob:
        if char == "*":
            parts.append(".*")
        elif char == "?":
            parts.append(".")
        else:
            parts.append(re.escape(char))
    return "".join(parts)


def check_target(kind: str, target: str) -> str:
    """The target, checked for its kind; person hashes are lower-cased.

    Raises:
        InvalidEntry: naming `target`.
    """
    target = target.strip()
    if not target:
        raise InvalidEntry("target", "'target' is required")
    if kind == PERSON:
        if not _PERSON_HASH.match(target.lower()):
            raise InvalidEntry(
                "target",
                "a person is named by the 64-hex-digit hash of their identity "
                "document, or by a verified user id",
            )
        return target.lower()
    user_like = target.startswith("@") and (":" in target or is_glob(target))
    if kind == USER and not user_like:
        raise InvalidEntry(
            "target", f"'{target}' is not a user id (@name:server) or user glob"
        )
    if kind == ROOM and target[:1] not in ("!", "#", "*", "?"):
        raise InvalidEntry(
            "target", f"'{target}' is not a room id (!…), alias (#…:server) or glob"
        )
    if kind == SERVER and not _SERVER.match(target):
        raise InvalidEntry("target", f"'{target}' is not a server name or glob")
    return target


def server_of(user_id: str) -> str:
    return user_id.split(":", 1)[1] if ":" in user_id else ""


def _host(server: str) -> str:
    # "example.org:8448" -> "example.org"; IPv6 literals keep their brackets.
    if server.startswith("["):
        return server.split("]", 1)[0] + "]"
    return server.rsplit(":", 1)[0] if server.count(":") == 1 else server


@attrs.frozen(slots=True)
class Listed:
    """The entry that matched, and what the refusal should call it."""

    entry_id: int
    kind: str
    target: str
    expires_ts: int | None


class _Matcher:
    """Exact targets and globs of one kind, each with its expiry."""

    def __init__(self) -> None:
        self.exact: dict[str, tuple[int, int | None]] = {}
        self.globs: list[tuple[re.Pattern[str], int, int | None, str]] = []

    def add(self, row: BlacklistRow, case_insensitive: bool) -> None:
        target = row.target.lower() if case_insensitive else row.target
        if is_glob(target):
            flags = re.IGNORECASE if case_insensitive else 0
            pattern = re.compile(glob_regex(target), flags)
            self.globs.append((pattern, row.id, row.expires_ts, row.target))
        else:
            current = self.exact.get(target)
            if current is None or _later(row.expires_ts, current[1]):
                self.exact[target] = (row.id, row.expires_ts)

    def find(self, value: str, now_ms: int, case_insensitive: bool) -> Listed | None:
        key = value.lower() if case_insensitive else value
        hit = self.exact.get(key)
        if hit is not None and _alive(hit[1], now_ms):
            return Listed(hit[0], "", value, hit[1])
        for pattern, entry_id, expires, target in self.globs:
            if _alive(expires, now_ms) and pattern.fullmatch(value):
                return Listed(entry_id, "", target, expires)
        return None


def _alive(expires: int | None, now_ms: int) -> bool:
    return expires is None or now_ms < expires


def _later(a: int | None, b: int | None) -> bool:
    return a is None or (b is not None and a > b)


class BlacklistIndex:
    """Every entry in force when loaded, ready for the per-event checks.

    Expiry is compared with the clock at each question, so an entry stops
    applying on time even before the set is reloaded.
    """

    def __init__(self, rows: Iterable[BlacklistRow]) -> None:
        self._users = _Matcher()
        self._servers = _Matcher()
        self._rooms = _Matcher()
        self.persons: dict[str, tuple[int, int | None]] = {}
        #: Accounts of blacklisted persons, blocked like listed users.
        self._person_accounts: dict[str, tuple[int, int | None]] = {}
        self._memo: dict[str, Listed | None] = {}
        self.size = 0
        for row in rows:
            self.size += 1
            if row.kind == USER:
                self._users.add(row, case_insensitive=False)
            elif row.kind == SERVER:
                self._servers.add(row, case_insensitive=True)
            elif row.kind == ROOM:
                self._rooms.add(row, case_insensitive=False)
            elif row.kind == PERSON:
                self.persons[row.target] = (row.id, row.expires_ts)
                for account in row.linked_users:
                    self._person_accounts[account] = (row.id, row.expires_ts)

    def server(self, server_name: str, now_ms: int) -> Listed | None:
        found = self._servers.find(server_name, now_ms, True)
        if found is None and _host(server_name) != server_name:
            found = self._servers.find(_host(server_name), now_ms, True)
        return attrs.evolve(found, kind=SERVER) if found else None

    def user(self, user_id: str, now_ms: int) -> Listed | None:
        """The entry blocking a user: theirs, their person's, their server's.

        Answers are memoised per user until the set is reloaded, and only
        hold while the entry is in force; one dict lookup when warm.
        """
        if user_id in self._memo:
            memo = self._memo[user_id]
            if memo is None or _alive(memo.expires_ts, now_ms):
                return memo
        found = self._users.find(user_id, now_ms, False)
        if found is not None:
            found = attrs.evolve(found, kind=USER)
        if found is None:
            person = self._person_accounts.get(user_id)
            if person is not None and _alive(person[1], now_ms):
                found = Listed(person[0], PERSON, user_id, person[1])
        if found is None:
            found = self.server(server_of(user_id), now_ms)
        if len(self._memo) >= _MEMO_LIMIT:
            self._memo.clear()
        self._memo[user_id] = found
        return found

    def room(self, room_id: str, aliases: Iterable[str], now_ms: int) -> Listed | None:
        for name in (room_id, *aliases):
            found = self._rooms.find(name, now_ms, False)
            if found is not None:
                return attrs.evolve(found, kind=ROOM)
        return None

    def person(self, person_hash: str, now_ms: int) -> Listed | None:
        hit = self.persons.get(person_hash)
        if hit is not None and _alive(hit[1], now_ms):
            return Listed(hit[0], PERSON, person_hash, hit[1])
        return None


#: How a refusal names what is listed, in both languages.
def refusal_for(listed: Listed, who: str) -> Refusal:
    """BLACKLISTED, naming the sender ("self"), an invitee ("invitee"),
    the room ("room") or a person at verification ("person")."""
    names: Mapping[tuple[str, str], tuple[str, str]] = {
        ("self", USER): ("您的账号", "Your account"),
        ("self", PERSON): ("您的账号", "Your account"),
        ("invitee", USER): (
            f"被邀请的用户“{listed.target}”",
            f"The invited user {listed.target}",
        ),
        ("invitee", PERSON): (
            f"被邀请的用户“{listed.target}”",
            f"The invited user {listed.target}",
        ),
        ("room", ROOM): ("该群组", "This group"),
        ("person", PERSON): ("该证件的持有人", "The holder of this document"),
    }
    if listed.kind == SERVER:
        server = listed.target
        target = (
            (f"您所在的服务器“{server}”", f"Your server {server}")
            if who == "self"
            else (f"服务器“{server}”", f"The server {server}")
        )
    else:
        target = names.get((who, listed.kind), ("该对象", "This target"))
    return Refusal(Reason.BLACKLISTED, {"target": target})
