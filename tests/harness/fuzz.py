"""Requests generated from docs/openapi.yaml with hypothesis, for the fuzz
suite (tests/integration/test_fuzz.py) and its longer run (bench/fuzz.py).

Every documented operation of both APIs and the verification page is a
target; each request is sent as one of three callers (anonymous, a user,
a server admin) with generated path parameters, query values, a body and
a Content-Type. Values come from the schema (right types, bounds) and
from what an attacker sends: integers past 64 bits, lone surrogates, NUL,
deeply nested JSON, bytes that are not UTF-8, wrong types, huge strings.
The homeserver must answer each with less than 500.
"""

from __future__ import annotations

import collections
import http.client
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import attrs
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.harness.homeserver import REPO

OPENAPI = REPO / "docs" / "openapi.yaml"
ROLES = ("anonymous", "user", "admin")


@attrs.frozen
class Operation:
    method: str
    path: str  # with {name} placeholders, below the server prefix
    path_params: tuple[str, ...]
    query: tuple[tuple[str, Mapping[str, Any]], ...]
    body_types: tuple[str, ...]
    body_schema: Mapping[str, Any] | None

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"


def operations(spec_path: Path = OPENAPI) -> tuple[str, list[Operation]]:
    """The server prefix and every documented operation."""
    spec = yaml.safe_load(spec_path.read_text())
    prefix = spec["servers"][0]["url"]
    shared = spec.get("components", {}).get("parameters", {})
    ops = []
    for path, item in spec["paths"].items():
        common = item.get("parameters", [])
        for method, op in item.items():
            if method == "parameters":
                continue
            params = [_resolve(p, shared) for p in (*common, *op.get("parameters", []))]
            body = op.get("requestBody") or {}
            content = body.get("content", {})
            json_schema = content.get("application/json", {}).get("schema")
            form_schema = content.get("application/x-www-form-urlencoded", {}).get(
                "schema"
            )
            ops.append(
                Operation(
                    method.upper(),
                    path,
                    tuple(re.findall(r"\{(\w+)\}", path)),
                    tuple(
                        (p["name"], p.get("schema", {}))
                        for p in params
                        if p.get("in") == "query"
                    ),
                    tuple(content),
                    _resolve_schema(json_schema or form_schema, spec),
                )
            )
    return prefix, ops


def _resolve(param: Mapping[str, Any], shared: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = param.get("$ref")
    if ref:
        return dict(shared[ref.rsplit("/", 1)[1]])
    return param


def _resolve_schema(schema: Any, spec: Mapping[str, Any]) -> Any:
    if isinstance(schema, dict) and "$ref" in schema:
        node: Any = spec
        for part in schema["$ref"].lstrip("#/").split("/"):
            node = node[part]
        return node
    return schema


# -- values -----------------------------------------------------------------

BIG = [2**63, 2**64 + 1, -(2**63) - 1, 10**30]
HOSTILE_TEXT = [
    "\ud800",
    "a\udfffb",
    "\x00",
    "x\x00y",
    "",
    " ",
    "../../etc/passwd",
    "'; DROP TABLE x; --",
    "<script>alert(1)</script>",
    "%00",
    "²",
    "١٢٣",
    "S" + "9" * 25,
    "9" * 25,
    "@a:b",
    "!room:localhost",
    "#alias:localhost",
    "C1",
    "B1",
    "S1",
    "1e400d",
    "999999999999y",
    "NaN",
    "开奖",
    "\u202e\u200b",
    "a" * 5000,
]


def _deep(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = [value]
    return value


def hostile_json() -> st.SearchStrategy[Any]:
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.sampled_from(BIG),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=40),
        st.sampled_from(HOSTILE_TEXT),
    )
    return st.one_of(
        scalars,
        st.lists(scalars, max_size=4),
        st.dictionaries(st.text(max_size=8), scalars, max_size=3),
        st.sampled_from([_deep(40), _deep(5), {"a": {"b": {"c": [1]}}}]),
    )


def value_for(schema: Mapping[str, Any]) -> st.SearchStrategy[Any]:
    """A value of the schema's shape, or a hostile one."""
    kind = schema.get("type")
    good: st.SearchStrategy[Any]
    if "enum" in schema:
        good = st.sampled_from(list(schema["enum"]))
    elif kind == "integer":
        good = st.integers(
            min_value=schema.get("minimum", -(2**63)),
            max_value=schema.get("maximum", 2**63 - 1),
        )
    elif kind == "boolean":
        good = st.booleans()
    elif kind == "array":
        good = st.lists(value_for(schema.get("items", {})), max_size=3)
    elif kind == "object":
        good = json_object(schema)
    else:
        good = st.text(max_size=30)
    return st.one_of(good, good, hostile_json())


def json_object(schema: Mapping[str, Any] | None) -> st.SearchStrategy[Any]:
    properties = dict((schema or {}).get("properties") or {})
    if not properties:
        return st.dictionaries(st.text(max_size=10), hostile_json(), max_size=4)
    names = sorted(properties)
    return st.fixed_dictionaries(
        {}, optional={name: value_for(properties[name]) for name in names}
    )


def query_value(schema: Mapping[str, Any]) -> st.SearchStrategy[str]:
    """A query value, percent-encoded (bad UTF-8 included)."""
    typed = value_for(schema).map(
        lambda v: v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)
    )
    as_text = st.one_of(typed, st.sampled_from([str(b) for b in BIG])).map(
        lambda v: urllib.parse.quote(v, safe="", errors="surrogatepass")
    )
    raw = st.binary(max_size=12).map(
        lambda b: urllib.parse.quote_from_bytes(b, safe="")
    )
    return st.one_of(as_text, as_text, raw)


def path_value(name: str) -> st.SearchStrategy[str]:
    """A path segment: an id of the right kind, or anything (encoded)."""
    ids = {
        "user_id": ["@user:localhost", "@nobody:elsewhere"],
        "room_id": ["!nothere:localhost"],
        "sanction_id": ["S1", "1"],
        "entry_id": ["B1", "1"],
        "case_id": ["C1", "1"],
    }.get(name, ["1", "x"])
    text = st.one_of(
        st.sampled_from(ids),
        st.sampled_from(HOSTILE_TEXT[:-1]),
        st.text(min_size=1, max_size=20),
        st.integers().map(str),
        st.sampled_from([str(b) for b in BIG]),
    ).map(lambda v: urllib.parse.quote(v, safe="", errors="surrogatepass") or "x")
    raw = st.binary(min_size=1, max_size=8).map(
        lambda b: urllib.parse.quote_from_bytes(b, safe="")
    )
    return st.one_of(text, text, raw)


@attrs.frozen
class Request:
    op: Operation
    role: str
    url_path: str
    body: bytes | None
    content_type: str | None


CONTENT_TYPES = [
    "application/json",
    "application/x-www-form-urlencoded",
    "text/csv",
    "text/plain",
    "multipart/form-data; boundary=x",
    "application/json; charset=latin-1",
    "\u00ff/\u00ff",
]


def body_for(op: Operation) -> st.SearchStrategy[tuple[bytes | None, str | None]]:
    if op.method in ("GET", "HEAD", "DELETE") and not op.body_types:
        return st.one_of(st.just((None, None)), st.just((b"{}", "application/json")))
    encoded = json_object(op.body_schema).map(lambda v: json.dumps(v).encode("utf-8"))
    form = json_object(op.body_schema).map(
        lambda v: urllib.parse.urlencode(
            {str(k): str(x) for k, x in (v or {}).items()}, errors="surrogatepass"
        ).encode("ascii")
    )
    raw = st.one_of(
        st.binary(max_size=64),
        st.sampled_from(
            [
                b"[" * 100_000 + b"]" * 100_000,
                b'{"a": ' * 5000 + b"1" + b"}" * 5000,
                b'{"x": "\\ud800"}',
                b'{"x": 1e999}',
                b"[1, 2]",
                b'"text"',
                b"null",
                b"name,document_type,document_number\n\x00,\xff,1\n",
            ]
        ),
    )
    data = st.one_of(encoded, encoded, encoded, form, raw)
    kinds = st.one_of(
        st.sampled_from(list(op.body_types) or ["application/json"]),
        st.sampled_from(CONTENT_TYPES),
        st.none(),
    )
    return st.tuples(data, kinds)


def request_for(op: Operation) -> st.SearchStrategy[Request]:
    path = st.fixed_dictionaries({name: path_value(name) for name in op.path_params})
    query = (
        st.lists(st.sampled_from(list(op.query)).flatmap(_query_part), max_size=3)
        if op.query
        else st.just([])
    )
    return st.builds(
        lambda params, parts, body, role: Request(
            op,
            role,
            _fill(op.path, params) + ("?" + "&".join(parts) if parts else ""),
            body[0],
            body[1],
        ),
        path,
        query,
        body_for(op),
        st.sampled_from(ROLES),
    )


def _query_part(param: tuple[str, Mapping[str, Any]]) -> st.SearchStrategy[str]:
    name, schema = param
    return query_value(schema).map(lambda value: f"{name}={value}")


def _fill(path: str, params: Mapping[str, str]) -> str:
    for name, value in params.items():
        path = path.replace("{" + name + "}", value)
    return path


# -- running ------------------------------------------------------------------


@attrs.define
class Tally:
    """What a run tried and what it saw."""

    tried: collections.Counter[tuple[str, str]] = attrs.field(
        factory=collections.Counter
    )
    statuses: collections.Counter[int] = attrs.field(factory=collections.Counter)
    server_errors: list[str] = attrs.field(factory=list)


def send(
    base_url: str, prefix: str, request: Request, tokens: Mapping[str, str | None]
) -> int:
    headers = {}
    token = tokens.get(request.role)
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if request.content_type is not None:
        headers["Content-Type"] = request.content_type.encode(
            "latin-1", "replace"
        ).decode("latin-1")
    url = base_url + prefix + request.url_path
    http_request = urllib.request.Request(
        url, data=request.body, headers=headers, method=request.op.method
    )
    try:
        with urllib.request.urlopen(http_request, timeout=30) as response:
            response.read()
            return int(response.status)
    except urllib.error.HTTPError as e:
        e.read()
        return int(e.code)
    except (urllib.error.URLError, ConnectionError, http.client.HTTPException):
        # Synapse drops the connection of a request it will not read (a
        # multipart body, synapse/http/site.py): no answer, not a 5xx.
        return 0


def run(
    base_url: str,
    tokens: Mapping[str, str | None],
    examples: int,
    tally: Tally,
    only: Callable[[Operation], bool] = lambda op: True,
    seed: int | None = None,
) -> None:
    """Send `examples` generated requests, spread over every operation;
    record each in `tally` (a 5xx is recorded, not raised)."""
    prefix, ops = operations()
    chosen = [op for op in ops if only(op)]
    strategy = st.sampled_from(chosen).flatmap(request_for)

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=seed is None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def one(request: Request) -> None:
        status = send(base_url, prefix, request, tokens)
        tally.tried[(request.op.label, request.role)] += 1
        tally.statuses[status] += 1
        if status >= 500:
            tally.server_errors.append(
                f"{status} {request.role} {request.op.method} {request.url_path[:200]}"
                f" content-type={request.content_type!r}"
                f" body={(request.body or b'')[:80]!r}"
            )

    if seed is not None:
        from hypothesis import seed as with_seed

        with_seed(seed)(one)()
    else:
        one()
