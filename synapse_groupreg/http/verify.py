"""The self-service verification page (A3 b, A5), `/v1/verify#token=...`.

Public (the one-time token is the credential: Element opens the link in a
browser that has no Matrix access token). The token is in the URL's
fragment, which browsers never send, so it reaches no access log (Synapse
logs every request's URI with its query string, synapse/http/site.py
`_finished_processing`). GET serves a page whose script takes the token
from the fragment, removes it from the address bar and posts it
(`step=open`); opening spends the link's token and gives the form a token
of its own (`SelfService.bind`: whoever opens the link first holds it).
The form posts its fields (`step=submit`) in the body; the query string
is never read but for `lang`. Pages are zh-Hans or en (`lang`, else the
server's language); the templates are files in `synapse_groupreg/templates/`.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping

from synapse_groupreg.config import Language
from synapse_groupreg.http.base import HtmlPage, Request, Route, template_environment
from synapse_groupreg.identity.documents import (
    DocumentType,
    IdentityInputError,
)
from synapse_groupreg.identity.names import InvalidName
from synapse_groupreg.identity.selfservice import LinkProblem, Outcome, SelfService
from synapse_groupreg.identity.service import Vetoed
from synapse_groupreg.services import Services
from synapse_groupreg.store.identity import LimitReached

logger = logging.getLogger(__name__)


_TEXTS: Mapping[str, tuple[str, str]] = {
    "title": ("实名身份验证", "Identity verification"),
    "intro": (
        "根据《互联网群组信息服务管理规定》，发布信息前需要完成实名验证"
        "（后台实名、前台自愿）。",
        "Under the rules for group information services, you need to verify"
        " your real identity before you can post.",
    ),
    "privacy": (
        "您的姓名和证件号码加密保存，仅用于身份核验，不会向其他用户显示；"
        "其他用户最多只能看到您已验证。",
        "Your name and document number are stored encrypted and used only to"
        " verify you. Other users never see them; at most they see that you"
        " are verified.",
    ),
    "name": ("真实姓名", "Real name"),
    "document_type": ("证件类型", "Document type"),
    "document_number": ("证件号码", "Document number"),
    "consent": (
        "我同意本站为核验身份处理我的姓名和证件号码（《个人信息保护法》）。",
        "I consent to this server processing my name and document number to"
        " verify my identity (PIPL).",
    ),
    "submit": ("提交验证", "Verify"),
    "opening": ("正在打开验证页面……", "Opening the verification page…"),
    "noscript": (
        "请在浏览器中启用 JavaScript 后重新打开验证链接。",
        "Turn on JavaScript in your browser and open the verification link again.",
    ),
    "need_consent": (
        "请勾选同意后再提交。",
        "Please tick the consent box to continue.",
    ),
    "mismatch": (
        "姓名与证件号码未能通过核验，请检查后重新填写。",
        "The name and document number did not match; check them and try again.",
    ),
    "verified_heading": ("验证成功", "Verified"),
    "verified_text": (
        "您已完成实名验证，现在可以回到聊天应用发布信息了。",
        "Your identity is verified: you can go back to your chat app and post.",
    ),
    "review_heading": ("已提交人工审核", "Submitted for review"),
    "review_text": (
        "您的资料已提交，管理员审核后会通过私信通知您。",
        "Your details were submitted; an administrator will review them and"
        " tell you the outcome in a direct message.",
    ),
    "limit_heading": ("无法验证", "Cannot verify"),
    "limit_text": (
        "该证件已验证的账号数量已达上限，无法再验证本账号。",
        "This document already verifies the most accounts one person may hold.",
    ),
    "vetoed_text": (
        "该证件无法用于验证，如有疑问请联系管理员。",
        "This document cannot be used to verify; contact the administrators.",
    ),
    "link_heading": ("链接无效", "Link not valid"),
    "link_unknown": (
        "该验证链接无效。下次发言时您会收到新的链接。",
        "This verification link is not valid. You will get a new one the next"
        " time you try to post.",
    ),
    "link_used": (
        "该验证链接已经使用过。",
        "This verification link has already been used.",
    ),
    "link_expired": (
        "该验证链接已过期。下次发言时您会收到新的链接。",
        "This verification link has expired. You will get a new one the next"
        " time you try to post.",
    ),
    "unavailable_heading": ("暂时无法处理", "Please try again later"),
    "unavailable_text": (
        "服务器暂时无法处理您的验证，请稍后再打开此链接。",
        "The server cannot process your verification right now; open this"
        " link again later.",
    ),
}

_DOCUMENT_LABELS: Mapping[DocumentType, tuple[str, str]] = {
    DocumentType.RESIDENT_ID: ("居民身份证", "Resident ID card"),
    DocumentType.HMT_RESIDENCE_PERMIT: (
        "港澳台居民居住证",
        "Hong Kong/Macau/Taiwan residence permit",
    ),
    DocumentType.FOREIGN_PERMANENT_RESIDENCE_ID: (
        "外国人永久居留身份证",
        "Foreign permanent residence ID",
    ),
    DocumentType.HOME_RETURN_PERMIT: ("港澳居民来往内地通行证", "Home Return Permit"),
    DocumentType.PASSPORT: ("护照（人工审核）", "Passport (manual review)"),
}

# Problem codes of IdentityInputError, worded for the person at the form.
_PROBLEMS: Mapping[str, tuple[str, str]] = {
    "check_digit": (
        "证件号码的校验位不正确，可能有数字输错。",
        "The document number's check character does not match: a character"
        " is probably mistyped.",
    ),
    "birth_date": (
        "证件号码中的出生日期无效。",
        "The date of birth in the document number is not valid.",
    ),
    "region": (
        "证件号码的地区代码无效。",
        "The region code of the document number is not valid.",
    ),
    "length": ("证件号码长度不正确。", "The document number has the wrong length."),
    "format": (
        "证件号码格式不正确。",
        "The document number is not in the right format.",
    ),
    "unknown_type": ("请选择证件类型。", "Choose a document type."),
}
_NAME_PROBLEMS: Mapping[str, tuple[str, str]] = {
    "empty": ("请填写真实姓名。", "Enter your real name."),
    "length": ("姓名过长。", "The name is too long."),
    "format": ("姓名格式不正确。", "The name is not in the right format."),
}


def _pick(texts: tuple[str, str], language: Language) -> str:
    return language.pick(*texts)


class VerifyPage:
    def __init__(self, services: Services) -> None:
        self._s = services
        self._env = template_environment()

    def routes(self) -> list[Route]:
        return [
            Route("GET", "/v1/verify", "public", self.show),
            Route("POST", "/v1/verify", "public", self.submit),
        ]

    def _language(self, request: Request, form: Mapping[str, str] = {}) -> Language:
        asked = form.get("lang") or request.query("lang")
        for language in (Language.ZH_HANS, Language.EN):
            if asked == language.value:
                return language
        return self._s.config.language

    def _texts(self, language: Language) -> dict[str, str]:
        return {key: _pick(value, language) for key, value in _TEXTS.items()}

    def _form(
        self,
        code: int,
        language: Language,
        token: str,
        error: str | None = None,
        values: Mapping[str, str] | None = None,
    ) -> HtmlPage:
        values = values or {}
        html = self._env.get_template("verify_form.html").render(
            lang=language.value if language is not Language.BILINGUAL else "zh-Hans",
            t=self._texts(language),
            token=token,
            error=error,
            name=values.get("name", ""),
            document_type=values.get("document_type", DocumentType.RESIDENT_ID.value),
            document_number=values.get("document_number", ""),
            document_types=[
                (kind.value, _pick(label, language))
                for kind, label in _DOCUMENT_LABELS.items()
            ],
        )
        return HtmlPage(code, html)

    def _result(
        self, code: int, language: Language, outcome: str, heading: str, text: str
    ) -> HtmlPage:
        t = self._texts(language)
        html = self._env.get_template("verify_result.html").render(
            lang=language.value if language is not Language.BILINGUAL else "zh-Hans",
            t=t,
            outcome=outcome,
            heading=t[heading],
            text=t[text],
        )
        return HtmlPage(code, html)

    def _link_problem(self, language: Language, e: LinkProblem) -> HtmlPage:
        code = 404 if e.problem == "unknown" else 410
        return self._result(
            code, language, f"link_{e.problem}", "link_heading", f"link_{e.problem}"
        )

    def _selfservice(self) -> SelfService | None:
        return self._s.selfservice

    async def show(self, request: Request) -> HtmlPage:
        """The page that posts the fragment's token (no token in the URL)."""
        language = self._language(request)
        selfservice = self._selfservice()
        if selfservice is None or not selfservice.config.enabled:
            return self._link_problem(language, LinkProblem("unknown"))
        nonce = secrets.token_urlsafe(16)
        html = self._env.get_template("verify_open.html").render(
            lang=self._lang(language), t=self._texts(language), nonce=nonce
        )
        return HtmlPage(200, html, script_nonce=nonce)

    @staticmethod
    def _lang(language: Language) -> str:
        return language.value if language is not Language.BILINGUAL else "zh-Hans"

    async def _open(
        self, selfservice: SelfService, language: Language, token: str
    ) -> HtmlPage:
        try:
            form_token = await selfservice.bind(token)
        except LinkProblem as e:
            return self._link_problem(language, e)
        except Exception:
            logger.exception("verification page failed")
            return self._result(
                503, language, "unavailable", "unavailable_heading", "unavailable_text"
            )
        return self._form(200, language, form_token)

    async def submit(self, request: Request) -> HtmlPage:
        form = request.form()
        language = self._language(request, form)
        selfservice = self._selfservice()
        values = {
            field: form.get(field, "")
            for field in ("token", "name", "document_type", "document_number")
        }
        token = values["token"]
        if selfservice is None or not selfservice.config.enabled:
            return self._link_problem(language, LinkProblem("unknown"))
        if form.get("step") == "open":
            return await self._open(selfservice, language, token)
        t = self._texts(language)
        if form.get("consent") != "yes":
            return self._form(400, language, token, t["need_consent"], values)
        try:
            outcome = await selfservice.submit(
                token,
                values["name"],
                values["document_type"],
                values["document_number"],
            )
        except LinkProblem as e:
            return self._link_problem(language, e)
        except IdentityInputError as e:
            wordings = _NAME_PROBLEMS if isinstance(e, InvalidName) else _PROBLEMS
            message = _pick(wordings.get(e.problem, (e.message, e.message)), language)
            return self._form(400, language, token, message, values)
        except LimitReached:
            return self._result(403, language, "limit", "limit_heading", "limit_text")
        except Vetoed:
            return self._result(403, language, "vetoed", "limit_heading", "vetoed_text")
        except Exception:
            logger.exception("verification submission failed")
            return self._result(
                503, language, "unavailable", "unavailable_heading", "unavailable_text"
            )
        if outcome is Outcome.MISMATCH:
            return self._form(400, language, token, t["mismatch"], values)
        if outcome is Outcome.REVIEW:
            return self._result(
                202, language, "review", "review_heading", "review_text"
            )
        return self._result(
            200, language, "verified", "verified_heading", "verified_text"
        )
