"""The HTTP base both APIs stand on: routing, authentication, JSON in and out.

Synapse lets a module mount web resources only in `__init__`, and paths
under `/_synapse/admin` are not reachable for modules, so everything lives
under `/_synapse/client/groupreg/` and one leaf resource routes by method and
path. Synapse mounts them on every listener, federation included; the
router answers 404 on a listener without the `client` resource
(`hs.listeners_without_client`). Each route authenticates in the handler:
`user` routes need an access token, admin routes name the module role
they need (401 without a token, 403 `ROLE_REQUIRED` for a caller
without the role; see `http/access.py`).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import attrs
import jinja2
from synapse.api.errors import Codes, SynapseError
from synapse.http.server import finish_request
from synapse.module_api import DirectServeJsonResource

from synapse_groupreg.config import Language
from synapse_groupreg.governance.roles import Role, RolePolicy
from synapse_groupreg.http import parse
from synapse_groupreg.http.access import Authoriser
from synapse_groupreg.reasons import REASON_FIELD

if TYPE_CHECKING:
    from synapse.http.site import SynapseRequest
    from synapse.module_api import ModuleApi
    from synapse.util.clock import Clock

PREFIX = "/_synapse/client/groupreg"
#: The default and the largest page size, as in Synapse's admin API.
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
#: The largest `from`: any offset plus a page stays within 64 bits.
MAX_FROM = 2**62

#: Who may call a route: anyone, any signed-in user, or holders of a role.
Access = Literal["public", "user"] | Role
JsonDict = dict[str, Any]


@attrs.frozen(slots=True)
class Caller:
    """Who is calling: the user id, whether they are a server admin, and
    the module roles they hold (G7)."""

    user_id: str
    is_admin: bool
    roles: frozenset[Role] = frozenset()


@attrs.frozen(slots=True)
class Request:
    """What a handler gets: the caller, path parameters and the raw request."""

    caller: Caller | None
    params: Mapping[str, str]
    raw: SynapseRequest

    @property
    def user_id(self) -> str:
        assert self.caller is not None, "route is public"
        return self.caller.user_id

    def query(self, name: str) -> str | None:
        """A query value: UTF-8 text without NUL or surrogates, or 400."""
        values = self.raw.args.get(name.encode("ascii"))
        return parse.decode_text(name, values[0]) if values else None

    def query_int(
        self,
        name: str,
        default: int,
        minimum: int = 0,
        maximum: int = parse.INT64_MAX,
    ) -> int:
        text = self.query(name)
        if text is None:
            return default
        return parse.parse_int(name, text.strip(), minimum, maximum)

    def page(self) -> tuple[int, int]:
        """`from` and `limit` of a list request."""
        return (
            self.query_int("from", 0, maximum=MAX_FROM),
            self.query_int("limit", DEFAULT_LIMIT, minimum=1, maximum=MAX_LIMIT),
        )

    def header(self, name: str) -> str | None:
        """A request header as text (its first value), or 400 naming it when
        it is not UTF-8 (Twisted's own decoding raises there)."""
        values = self.raw.requestHeaders.getRawHeaders(name.encode("ascii"))
        return parse.decode_text(name, values[0]) if values else None

    def path_id(self, name: str, prefix: str = "") -> int:
        """A record id in the path (`17`, or `S17` with the prefix), or 400."""
        return parse.parse_id(name, self.params[name], prefix)

    def body_bytes(self) -> bytes:
        return self.raw.content.read() if self.raw.content else b""

    def form(self) -> dict[str, str]:
        """The fields of an HTML form post, read from the body only (never
        the query string, which Synapse's access log records)."""
        if self.raw.content is not None:
            self.raw.content.seek(0)
        return parse.read_form(self.body_bytes())

    def upload(self) -> bytes:
        """An uploaded file's bytes: UTF-8 text without NUL, or 400."""
        raw = self.body_bytes()
        parse.decode_text("body", raw)
        return raw

    def json_value(self, max_bytes: int = parse.MAX_JSON_BYTES) -> Any:
        """Any JSON value in the body (an upload), bounded as `json()`."""
        return parse.read_json_value(self.body_bytes(), max_bytes)

    def json(self) -> Body:
        """The JSON object in the body, or 400 M_NOT_JSON / M_BAD_JSON
        (`parse.read_json`: size, depth, text and integers bounded)."""
        return Body(parse.read_json(self.body_bytes()))


def invalid_param(field: str, message: str, reason: str | None = None) -> SynapseError:
    """400 M_INVALID_PARAM naming the field (and a reason code where one applies)."""
    extra: JsonDict = {"field": field}
    if reason is not None:
        extra[REASON_FIELD] = reason
    return SynapseError(400, message, Codes.INVALID_PARAM, additional_fields=extra)


def not_found(what: str) -> SynapseError:
    return SynapseError(404, f"{what} not found", Codes.NOT_FOUND)


_MISSING = object()


class Body:
    """A JSON request body read field by field, each error naming the field."""

    def __init__(self, value: Mapping[str, Any]) -> None:
        self.value = value

    def _get(self, field: str, required: bool) -> Any:
        value = self.value.get(field, _MISSING)
        if value is _MISSING or value is None:
            if required:
                raise SynapseError(
                    400,
                    f"'{field}' is required",
                    Codes.MISSING_PARAM,
                    additional_fields={"field": field},
                )
            return None
        return value

    def string(
        self, field: str, required: bool = True, choices: Sequence[str] = ()
    ) -> str | None:
        value = self._get(field, required)
        if value is None:
            return None
        if not isinstance(value, str):
            raise invalid_param(field, f"'{field}' must be a string")
        if choices and value not in choices:
            raise invalid_param(
                field, f"'{field}' must be one of: {', '.join(choices)}"
            )
        return value

    def required_string(self, field: str, choices: Sequence[str] = ()) -> str:
        value = self.string(field, True, choices)
        assert value is not None
        return value

    def integer(
        self,
        field: str,
        required: bool = True,
        minimum: int | None = None,
        maximum: int | None = None,
    ) -> int | None:
        value = self._get(field, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise invalid_param(field, f"'{field}' must be an integer")
        if minimum is not None and value < minimum:
            raise invalid_param(field, f"'{field}' must be at least {minimum}")
        if maximum is not None and value > maximum:
            raise invalid_param(field, f"'{field}' must be at most {maximum}")
        return value

    def flag(self, field: str, default: bool) -> bool:
        """A true/false field; `default` when absent or null."""
        value = self._get(field, required=False)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise invalid_param(field, f"'{field}' must be true or false")
        return value

    def string_list(self, field: str, required: bool = True) -> list[str] | None:
        value = self._get(field, required)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise invalid_param(field, f"'{field}' must be a list of strings")
        return list(value)


def paged(key: str, items: Sequence[JsonDict], next_from: int | None) -> JsonDict:
    """A list answer: the items under `key`, and `next_token` (the `from` of
    the next page) when more remain."""
    answer: JsonDict = {key: list(items)}
    if next_from is not None:
        answer["next_token"] = str(next_from)
    return answer


@attrs.frozen(slots=True)
class RawBody:
    """A response that is not JSON: a file download or a page."""

    body: bytes
    content_type: str
    filename: str | None = None
    headers: Mapping[bytes, bytes] = attrs.field(factory=dict)


#: The HTML templates (files, not strings in code).
TEMPLATES = Path(__file__).resolve().parents[1] / "templates"


def template_environment() -> jinja2.Environment:
    """Jinja for the module's pages: autoescaped, and a missing variable is
    an error rather than an empty string."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )


@attrs.frozen(slots=True)
class HtmlPage:
    """A handler's answer that is an HTML page rather than JSON."""

    code: int
    html: str
    #: The nonce of the page's one inline script, if it has one.
    script_nonce: str | None = None

    def response(self) -> tuple[int, RawBody]:
        body = self.html.encode("utf-8")
        headers = dict(_PAGE_HEADERS)
        if self.script_nonce is not None:
            headers[b"Content-Security-Policy"] += (
                b" script-src 'nonce-%s'" % self.script_nonce.encode("ascii")
            )
        return self.code, RawBody(body, "text/html; charset=utf-8", headers=headers)


#: Headers of every page: it may carry a one-time token in its URL and
#: identity data in its form, so it is never cached, framed or referred.
_PAGE_HEADERS = {
    b"Cache-Control": b"no-store",
    b"Referrer-Policy": b"no-referrer",
    b"X-Frame-Options": b"DENY",
    b"X-Content-Type-Options": b"nosniff",
    b"Content-Security-Policy": (
        b"default-src 'none'; style-src 'unsafe-inline'; form-action 'self';"
        b" frame-ancestors 'none';"
    ),
}


Handler = Callable[[Request], Awaitable[tuple[int, Any] | HtmlPage]]


@attrs.frozen(slots=True)
class Route:
    """One method on one path, e.g. GET /admin/v1/audit, and who may call it."""

    method: str
    path: str  # below PREFIX, with {name} for a path parameter
    access: Access
    handler: Handler
    regex: re.Pattern[str] = attrs.field(init=False)

    @regex.default
    def _compile(self) -> re.Pattern[str]:
        # Literal text between {name} placeholders; a placeholder is one segment.
        parts = re.split(r"\{(\w+)\}", self.path)
        pattern = "".join(
            re.escape(part) if i % 2 == 0 else f"(?P<{part}>[^/]+)"
            for i, part in enumerate(parts)
        )
        return re.compile(f"^{re.escape(PREFIX)}{pattern}$")


class Router(DirectServeJsonResource):
    """The leaf resource at PREFIX: finds the route, authenticates, calls it."""

    isLeaf = True

    def __init__(
        self,
        api: ModuleApi,
        clock: Clock,
        routes: Sequence[Route],
        authoriser: Authoriser | None = None,
        refused_sites: frozenset[str] = frozenset(),
    ) -> None:
        super().__init__(clock=clock)
        self._api = api
        #: Listeners (site tags) without the `client` resource: every
        #: route answers 404 there, as if the module were not mounted.
        self._refused_sites = refused_sites
        self.routes = list(routes)
        self._authoriser = authoriser or Authoriser(RolePolicy(None), Language.EN)

    async def _async_render(self, request: SynapseRequest) -> tuple[int, Any]:
        if getattr(request.site, "site_tag", None) in self._refused_sites:
            raise SynapseError(404, "Unrecognized request", Codes.UNRECOGNIZED)
        method = request.method.decode("ascii", "replace")
        if method == "HEAD":
            method = "GET"
        # A path that is not ASCII matches no route (they are all ASCII).
        path = request.path.decode("ascii", "replace")
        path_matched = False
        for route in self.routes:
            match = route.regex.match(path)
            if match is None:
                continue
            path_matched = True
            if route.method != method:
                continue
            caller = await self._authenticate(request, route.access, path)
            params = {
                k: parse.decode_path_param(k, v) for k, v in match.groupdict().items()
            }
            answer = await route.handler(Request(caller, params, request))
            return answer.response() if isinstance(answer, HtmlPage) else answer
        if path_matched:
            raise SynapseError(405, f"{method} is not allowed here", Codes.UNRECOGNIZED)
        raise SynapseError(404, "Unrecognized request", Codes.UNRECOGNIZED)

    def _send_response(
        self, request: SynapseRequest, code: int, response_object: Any
    ) -> None:
        if not isinstance(response_object, RawBody):
            super()._send_response(request, code, response_object)
            return
        headers = {
            **response_object.headers,
            b"Content-Type": response_object.content_type.encode(),
            b"Content-Length": b"%d" % len(response_object.body),
        }
        if response_object.filename:
            disposition = f'attachment; filename="{response_object.filename}"'
            headers[b"Content-Disposition"] = disposition.encode()
        request.setResponseCode(code)
        # Twisted's Request is untyped here.
        for name, value in headers.items():
            request.setHeader(name, value)  # type: ignore[no-untyped-call]
        request.write(response_object.body)  # type: ignore[no-untyped-call]
        finish_request(request)

    async def _authenticate(
        self, request: SynapseRequest, access: Access, path: str
    ) -> Caller | None:
        if access == "public":
            return None
        requester = await self._api.get_user_by_req(request)
        user_id = requester.user.to_string()
        is_admin = await self._api.is_user_admin(user_id)
        roles = self._authoriser.roles_of(user_id, is_admin)
        if isinstance(access, Role):
            method = request.method.decode("ascii")
            await self._authoriser.require(user_id, roles, access, method, path)
        return Caller(user_id, is_admin, roles)
