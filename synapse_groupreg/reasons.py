"""Why the module refused something, and how that reaches the user.

A check returns a `Refusal` (or `None` to allow). This file owns the wording
the Element user reads, in Simplified Chinese and English (G3), and the one
conversion from a refusal to the error Synapse sends: HTTP 403, errcode
M_FORBIDDEN, the message as `error`, and the machine-readable reason beside
it as `org.groupreg.reason` (docs/openapi.yaml, the refusal schema).
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Mapping

import attrs
from synapse.api.errors import Codes, SynapseError

from synapse_groupreg.config import Language

#: The key clients and scripts read the machine-readable reason from.
REASON_FIELD = "org.groupreg.reason"


class Reason(str, enum.Enum):
    IDENTITY_REQUIRED = "IDENTITY_REQUIRED"
    COVENANT_REQUIRED = "COVENANT_REQUIRED"
    ROOM_FULL = "ROOM_FULL"
    CREATE_LIMIT = "CREATE_LIMIT"
    JOIN_LIMIT = "JOIN_LIMIT"
    CLASS_NOT_QUALIFIED = "CLASS_NOT_QUALIFIED"
    CLASS_UNKNOWN = "CLASS_UNKNOWN"
    PROHIBITED_CONTENT = "PROHIBITED_CONTENT"
    #: A file on a media list (C7).
    PROHIBITED_MEDIA = "PROHIBITED_MEDIA"
    #: A link to a listed domain, or outside a class's allow list (C8).
    PROHIBITED_LINK = "PROHIBITED_LINK"
    ROOM_SUSPENDED = "ROOM_SUSPENDED"
    #: The sender is muted in this group (B8).
    MEMBER_MUTED = "MEMBER_MUTED"
    #: The whole group is muted, and the sender is neither admin nor exempt.
    ROOM_MUTED = "ROOM_MUTED"
    #: Muting is for the group's admins and platform moderators.
    MUTE_NOT_ALLOWED = "MUTE_NOT_ALLOWED"
    #: A group admin muting a creator, or an admin at or above their power.
    MUTE_PROTECTED = "MUTE_PROTECTED"
    #: A group admin changing or lifting a mute the platform decided.
    MUTE_BY_PLATFORM = "MUTE_BY_PLATFORM"
    ROOM_CLOSED = "ROOM_CLOSED"
    ADMIN_SUSPENDED = "ADMIN_SUSPENDED"
    CREATION_REVOKED = "CREATION_REVOKED"
    BLACKLISTED = "BLACKLISTED"
    ENCRYPTION_FORBIDDEN = "ENCRYPTION_FORBIDDEN"
    FEDERATION_FORBIDDEN = "FEDERATION_FORBIDDEN"
    REGISTRATION_CODE_PROTECTED = "REGISTRATION_CODE_PROTECTED"
    #: A move or category change no member could publish: nothing changed.
    ROOM_STATE_UNWRITABLE = "ROOM_STATE_UNWRITABLE"
    ROOM_INFO_REQUIRED = "ROOM_INFO_REQUIRED"
    MODULE_UNAVAILABLE = "MODULE_UNAVAILABLE"
    CREDIT_TOO_LOW = "CREDIT_TOO_LOW"
    #: Too many messages from one member in one group (B9).
    FLOOD_LIMIT = "FLOOD_LIMIT"
    #: Too many users mentioned in one message (B9).
    MENTION_LIMIT = "MENTION_LIMIT"
    #: The credit band's message rate is spent for now (D7).
    CREDIT_RATE_LIMIT = "CREDIT_RATE_LIMIT"
    PERSON_LIMIT = "PERSON_LIMIT"
    COMPLAINT_LIMIT = "COMPLAINT_LIMIT"
    APPEAL_NOT_AFFECTED = "APPEAL_NOT_AFFECTED"
    APPEAL_WINDOW_CLOSED = "APPEAL_WINDOW_CLOSED"
    APPEAL_ALREADY_DECIDED = "APPEAL_ALREADY_DECIDED"
    #: Admin API: the route's module role is not held (G7).
    ROLE_REQUIRED = "ROLE_REQUIRED"
    #: A reveal request needs an identity officer other than its requester.
    SECOND_OFFICER_REQUIRED = "SECOND_OFFICER_REQUIRED"
    #: An identity officer's reveal requests are spent for now (A6).
    REVEAL_LIMIT = "REVEAL_LIMIT"


# Each message says which rule refused and what the user can do. Parameters
# in braces are filled from the refusal; a missing one is a programming error
# caught by the unit test that renders every message.
_MESSAGES: Mapping[Reason, tuple[str, str]] = {
    Reason.IDENTITY_REQUIRED: (
        "根据实名制要求，完成身份验证后才能{action}。请打开“{bot}”发给您的私信中的验证链接。",
        "Real-name rules: verify your identity before you can {action}. "
        "Open the verification link that {bot} sent you in a direct message.",
    ),
    Reason.COVENANT_REQUIRED: (
        "请先阅读并同意本站的管理规则和平台公约（第 {version} 版）：{url}",
        "Please read and accept this server's rules and covenant "
        "(version {version}) first: {url}",
    ),
    Reason.ROOM_FULL: (
        "该群已满（上限 {limit} 人）。",
        "This group is full (limit {limit}).",
    ),
    Reason.CREATE_LIMIT: (
        "您创建的群组已达上限（{limit} 个）。",
        "You have reached the limit of groups you may create ({limit}).",
    ),
    Reason.JOIN_LIMIT: (
        "您加入的群组已达上限（{limit} 个），请先退出一些群组。",
        "You have reached the limit of groups you may join ({limit}); "
        "leave some first.",
    ),
    Reason.CLASS_NOT_QUALIFIED: (
        "您暂不具备创建“{room_class}”类群组的资格：{requirement}。",
        "You do not qualify to create a '{room_class}' group: {requirement}.",
    ),
    Reason.CLASS_UNKNOWN: (
        "没有名为“{room_class}”的群组类别。可选：{allowed}。",
        "There is no group class '{room_class}'. Available: {allowed}.",
    ),
    Reason.PROHIBITED_CONTENT: (
        "内容含有违禁信息（{category}），未能发送。",
        "This content contains prohibited material ({category}) and was not sent.",
    ),
    Reason.PROHIBITED_MEDIA: (
        "该文件与违禁内容名单相符（{category}），不能上传或查看。",
        "This file matches a list of prohibited material ({category}); it "
        "cannot be uploaded or viewed.",
    ),
    Reason.PROHIBITED_LINK: (
        "内容中的链接指向{category}，未能发送。请删除该链接后重试。",
        "A link in this content points to {category}, and it was not sent. "
        "Remove the link and try again.",
    ),
    Reason.ROOM_SUSPENDED: (
        "该群已被暂停发布信息，至 {until} 恢复。",
        "Posting in this group is suspended until {until}.",
    ),
    Reason.MEMBER_MUTED: (
        "您在本群已被禁言，至 {until} 解除（{by}的决定）。禁言期间仍可阅读消息。",
        "You are muted in this group until {until}, by decision of {by}; you "
        "can still read it.",
    ),
    Reason.ROOM_MUTED: (
        "本群已开启全员禁言，至 {until} 解除（{by}的决定），"
        "其间只有群管理员和指定成员可以发言。",
        "Everyone in this group is muted until {until}, by decision of {by}; "
        "until then only its admins and the members they named may post.",
    ),
    Reason.MUTE_NOT_ALLOWED: (
        "只有群主、群管理员（权限等级 {level} 及以上）和平台管理员可以禁言或解除禁言。",
        "Only the group's creators, its admins (power level {level} or more) "
        "and platform moderators may mute members or lift a mute.",
    ),
    Reason.MUTE_PROTECTED: (
        "您不能禁言 {target}：群主，以及权限等级与您相同或更高的管理员，"
        "只能由平台禁言。",
        "You cannot mute {target}: the group's creators, and admins whose power "
        "level is at least your own, can only be muted by the platform.",
    ),
    Reason.MUTE_BY_PLATFORM: (
        "该禁言是平台的决定，群管理员不能更改或解除。",
        "This mute is the platform's decision; the group's admins cannot change "
        "or lift it.",
    ),
    Reason.ROOM_CLOSED: (
        "该群已被依法关闭。",
        "This group has been closed.",
    ),
    Reason.ADMIN_SUSPENDED: (
        "您的群管理权限已被暂停，至 {until} 恢复。",
        "Your group admin rights are suspended until {until}.",
    ),
    Reason.ROOM_STATE_UNWRITABLE: (
        "群内没有可以更新登记信息的成员，本次更改未生效（登记与群状态保持一致）。",
        "Nobody in the group can update its registration in the room's state,"
        " so nothing was changed (the registry and the room stay in step).",
    ),
    Reason.CREATION_REVOKED: (
        "您的建群资格已被取消。",
        "Your right to create groups has been revoked.",
    ),
    Reason.BLACKLISTED: (
        "{target}已被列入黑名单。",
        "{target} is on the blacklist.",
    ),
    Reason.ENCRYPTION_FORBIDDEN: (
        "“{room_class}”类群组不允许端到端加密。",
        "End-to-end encryption is not allowed in '{room_class}' groups.",
    ),
    Reason.FEDERATION_FORBIDDEN: (
        "“{room_class}”类群组不允许其他服务器（{server}）的用户加入。",
        "Users of other servers ({server}) may not join '{room_class}' groups.",
    ),
    Reason.REGISTRATION_CODE_PROTECTED: (
        "群组识别编码由平台分配，不能修改。",
        "The group registration code is assigned by the platform and cannot "
        "be changed.",
    ),
    Reason.ROOM_INFO_REQUIRED: (
        "成员达到 {threshold} 人的群组须先设置群名称和类别，才能继续加人。",
        "Groups of {threshold} members or more need a name and a category "
        "before more people can join.",
    ),
    Reason.MODULE_UNAVAILABLE: (
        "服务器暂时无法完成合规检查，请稍后再试。",
        "The server cannot complete its policy checks right now; "
        "please try again shortly.",
    ),
    Reason.CREDIT_TOO_LOW: (
        "您的信用分为 {score}，{action}需要至少 {minimum} 分。"
        "无违规时信用分会按期自动恢复。",
        "Your credit score is {score}; you need at least {minimum} to {action}. "
        "It recovers by itself while you commit no violation.",
    ),
    Reason.FLOOD_LIMIT: (
        "本群每位成员每 {window} 最多发送 {limit} 条消息，请 {seconds} 秒后再试。",
        "In this group each member may send at most {limit} messages per "
        "{window}; try again in {seconds} seconds.",
    ),
    Reason.MENTION_LIMIT: (
        "本群每条消息最多提及 {limit} 人（这条提及了 {count} 人），"
        "请减少提及后再发送。",
        "In this group a message may mention at most {limit} people (this one"
        " mentions {count}); mention fewer and send it again.",
    ),
    Reason.CREDIT_RATE_LIMIT: (
        "您的信用分为 {score}（“{band}”档），每 {window} 最多发送 {limit} 条消息，"
        "请 {seconds} 秒后再试。无违规时信用分会按期自动恢复。",
        "Your credit score is {score} (band '{band}'): you may send at most "
        "{limit} messages per {window}; try again in {seconds} seconds. Your "
        "score recovers by itself while you commit no violation.",
    ),
    Reason.PERSON_LIMIT: (
        "该证件已验证 {limit} 个账号，已达每人上限。",
        "This document already verifies {limit} accounts, the most one "
        "person may hold.",
    ),
    Reason.COMPLAINT_LIMIT: (
        "您提交投诉过于频繁（每 {window} 最多 {limit} 次），请稍后再试。"
        "紧急情况请直接联系本站管理员。",
        "You have made too many complaints (at most {limit} per {window}); "
        "please try again later, or contact this server's administrators if "
        "it is urgent.",
    ),
    Reason.APPEAL_NOT_AFFECTED: (
        "只有受处罚 {sanction_id} 影响的用户才能对其提出申诉。",
        "Only those affected by sanction {sanction_id} may appeal it.",
    ),
    Reason.APPEAL_WINDOW_CLOSED: (
        "处罚 {sanction_id} 的申诉期限已于 {until} 届满。",
        "The time to appeal sanction {sanction_id} ended on {until}.",
    ),
    Reason.APPEAL_ALREADY_DECIDED: (
        "对处罚 {sanction_id} 的申诉已有结论（{case_id}：{outcome}），不能再次申诉。",
        "The appeal against sanction {sanction_id} has been decided "
        "({case_id}: {outcome}); it cannot be appealed again.",
    ),
    Reason.ROLE_REQUIRED: (
        "此操作需要“{role}”角色（{role_id}）。{hint}",
        "This needs the module role '{role}' ({role_id}). {hint}",
    ),
    Reason.SECOND_OFFICER_REQUIRED: (
        "查阅申请 {request_id} 由 {requester} 提出，须由另一名身份专员批准；"
        "同一人不能批准自己的申请，也不能批准两次。",
        "Reveal request {request_id} was made by {requester}: another identity"
        " officer must approve it; nobody approves their own request, or twice.",
    ),
    Reason.REVEAL_LIMIT: (
        "您在 {window} 小时内的身份查阅申请已达上限（{limit} 次），请稍后再试。",
        "You have made the most reveal requests allowed ({limit} in {window}"
        " hours); try again later.",
    ),
}


#: What follows an enforced refusal (a record, a message to the user).
Consequence = Callable[[], Awaitable[None]]


@attrs.frozen(slots=True)
class Refusal:
    """A check's "no": the reason and the facts its message needs.

    `then` is what follows when the refusal takes effect (a hit recorded, a
    verification link offered); the dispatcher runs it only then, never in
    observe mode, and a fault in it never changes the answer.
    """

    reason: Reason
    params: Mapping[str, object] = attrs.field(factory=dict)
    then: Consequence | None = attrs.field(default=None, eq=False, repr=False)


#: What a check answers: a refusal, or None to allow.
Decision = Refusal | None


def message(refusal: Refusal, language: Language) -> str:
    """The refusal in the words the user reads."""
    zh, en = _MESSAGES[refusal.reason]
    params = refusal.params
    return language.pick(
        zh.format(**{k: _wording(v, 0) for k, v in params.items()}),
        en.format(**{k: _wording(v, 1) for k, v in params.items()}),
    )


def _wording(value: object, index: int) -> object:
    # A parameter may carry both wordings, e.g. the action the user tried:
    # each language's message takes its own.
    if isinstance(value, tuple) and len(value) == 2:
        return value[index]
    return value


def to_synapse_error(
    refusal: Refusal,
    language: Language,
    fields: Mapping[str, object] | None = None,
) -> SynapseError:
    """The 403 a client receives for `refusal`; `fields` go beside the
    reason (e.g. the `role` a route needs)."""
    return SynapseError(
        403,
        message(refusal, language),
        Codes.FORBIDDEN,
        additional_fields={**(fields or {}), REASON_FIELD: refusal.reason.value},
    )


def to_spam_result(
    refusal: Refusal, language: Language
) -> tuple[Codes, dict[str, str]]:
    """The tuple spam-checker callbacks return to refuse with our message.

    Synapse turns it into a 403 whose body is these fields plus errcode.
    """
    return Codes.FORBIDDEN, {
        "error": message(refusal, language),
        REASON_FIELD: refusal.reason.value,
    }
