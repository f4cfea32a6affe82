"""What enforcement would change on this server (H3), before it happens.

Read from the registry and Synapse's own tables, each finding says what the
rules in force would do about it, so that nothing that worked before stops
without appearing here:

- rooms over their class's member cap: nobody new can join;
- encrypted rooms in classes that forbid encryption: kept as exceptions,
  or posting suspended (`adoption.encrypted_rooms`);
- rooms with members of other servers their class does not admit: those
  servers' users cannot join again (members already in stay);
- rooms whose creator is deactivated: nobody answers for them as creator;
- people below the real-name gate, or without the current covenant: the
  actions those gates cover are refused (server admins are exempt, as the
  gates exempt them), until `identity.grace_until` where one is set;
- in observe mode, what each check would have refused so far.

Each list names up to `SAMPLE` items; counts are complete.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from synapse_groupreg.config import GroupRegConfig
from synapse_groupreg.config.rooms import DIRECT, DIRECT_MEMBER_CAP, RoomClass
from synapse_groupreg.identity.service import level_of_standing
from synapse_groupreg.store.adoption import AdoptionStore
from synapse_groupreg.store.identity import Standing, is_mainland_mobile

SAMPLE = 50


def _listing(items: list[Any], consequence: str) -> dict[str, Any]:
    return {"count": len(items), "consequence": consequence, "items": items[:SAMPLE]}


class AdoptionReport:
    def __init__(
        self,
        config: GroupRegConfig,
        store: AdoptionStore,
        server_name: str,
        bot_user_id: str,
        consent_version: str | None,
    ) -> None:
        self._config = config
        self._store = store
        self._server_name = server_name
        self._bot = bot_user_id
        self._consent_version = consent_version

    def _class(self, name: str) -> RoomClass | None:
        rooms = self._config.rooms
        if name == DIRECT:
            return None
        return rooms.classes.get(name, rooms.classes[rooms.default_class])

    async def build(self, today: date) -> dict[str, Any]:
        rooms = self._config.rooms
        say = self._config.language.pick
        over_cap = []
        for room_id, class_name, members in await self._store.room_sizes():
            room_class = self._class(class_name)
            cap = DIRECT_MEMBER_CAP if room_class is None else room_class.member_cap
            if members > cap:
                over_cap.append(
                    {"room_id": room_id, "class": class_name, "members": members,
                     "cap": cap}
                )  # fmt: skip
        encrypted = [
            {"room_id": room_id, "class": class_name, "kept": kept}
            for room_id, class_name, kept in await self._store.encrypted_rooms()
            if not rooms.allows_encryption(self._class(class_name))
        ]
        federated = []
        for room_id, class_name, remote in await self._store.remote_members(
            self._server_name
        ):
            room_class = self._class(class_name)
            if not rooms.allows_federation(room_class):
                federated.append(
                    {"room_id": room_id, "class": class_name, "remote_members": remote}
                )
        gone = [
            {"room_id": room_id, "creator": creator}
            for room_id, creator in await self._store.creators_gone()
        ]
        return {
            "rooms_over_their_cap": _listing(
                over_cap,
                say(
                    "成员离开或群组迁移到更大的类别之前，新成员无法加入",
                    "nobody new can join until members leave or the room moves",
                ),
            ),
            "encrypted_rooms_in_classes_without_encryption": _listing(
                encrypted,
                say(
                    "作为例外继续使用（kept: true），或暂停发布",
                    "kept working as exceptions (kept: true), or posting suspended",
                ),
            ),
            "rooms_with_members_of_servers_their_class_refuses": _listing(
                federated,
                say(
                    "已在群内的成员保留；这些服务器的用户不能再加入",
                    "members already in stay; those servers' users cannot join again",
                ),
            ),
            "rooms_whose_creator_is_gone": _listing(
                gone,
                say(
                    "创建者已注销：由群管理员负责",
                    "the creator is deactivated: admins answer for the room",
                ),
            ),
            **await self._people(today),
        }

    async def _people(self, today: date) -> dict[str, Any]:
        identity = self._config.identity
        covenant = self._config.covenant
        below_gate: list[str] = []
        no_covenant: list[str] = []
        exempt = 0
        for person in await self._store.people():
            if person.user_id == self._bot:
                continue
            if person.admin:
                exempt += 1
                continue
            if identity.enabled and identity.gates:
                standing = Standing(
                    person.identity_status,
                    any(is_mainland_mobile(m) for m in person.msisdns),
                )
                level = level_of_standing(identity, standing)
                if not level.at_least(identity.gate_level):
                    below_gate.append(person.user_id)
            if (
                covenant.required
                and covenant.actions
                and person.consent_version != self._consent_version
            ):
                no_covenant.append(person.user_id)
        say = self._config.language.pick
        actions = ", ".join(sorted(a.value for a in identity.gates))
        grace = identity.grace_until
        gate = identity.gate_level.value
        if not identity.enabled:
            identity_consequence = say("未启用实名", "real-name is off")
        elif grace is not None and identity.in_grace(today):
            identity_consequence = say(
                f"宽限期内（至 {grace.isoformat()}）仍可 {actions}，机器人会提醒验证",
                f"may still {actions} until {grace.isoformat()}, reminded by the bot",
            )
        else:
            identity_consequence = say(
                f"强制执行时拒绝：{actions}，直到完成 {gate} 级验证",
                f"refused: {actions}, until verified at level {gate}",
            )
        covenant_actions = ", ".join(sorted(a.value for a in covenant.actions))
        version = self._consent_version
        return {
            "people_below_the_identity_gate": _listing(
                below_gate, identity_consequence
            ),
            "people_without_the_current_covenant": _listing(
                no_covenant,
                say(
                    f"强制执行时拒绝：{covenant_actions}，直到同意第 {version} 版公约",
                    f"refused: {covenant_actions}, until they accept version {version}",
                ),
            ),
            "server_admins_exempt_from_the_gates": exempt,
        }

    async def observed(self) -> list[dict[str, Any]]:
        return [o.to_json() for o in await self._store.observations()]
