"""The external verification provider's protocol (A3 b), without transport.

Request: ``POST <url>`` with a JSON body::

    {"request_id": "<random>", "name": "...", "document_type": "resident_id",
     "document_number": "<normalised>"}

and headers ``X-Groupreg-Timestamp: <ms since the epoch>`` and
``X-Groupreg-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>"
under the shared secret>``, so the provider can tell the request is the
homeserver's and fresh. The secret itself never travels.

Answer: HTTP 200 with ``{"request_id": "<the same>", "result": "match"}``
or ``"mismatch"``. Anything else (another status, not JSON, another
request id, another result, no answer within the timeout) means the
provider could not decide, and the submission goes to manual review.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import json
import secrets

import attrs

SIGNATURE_HEADER = "X-Groupreg-Signature"
TIMESTAMP_HEADER = "X-Groupreg-Timestamp"


class Verdict(str, enum.Enum):
    MATCH = "match"
    MISMATCH = "mismatch"


class ProviderUnavailable(Exception):
    """The provider gave no usable answer. The message says why, in words
    fit for a log: it never holds the submitted plaintext."""


@attrs.frozen(slots=True, repr=False)
class ProviderRequest:
    request_id: str
    body: bytes
    headers: dict[str, str]

    def __repr__(self) -> str:
        return f"ProviderRequest({self.request_id})"


def build_request(
    secret: str, name: str, document_type: str, document_number: str, now_ms: int
) -> ProviderRequest:
    request_id = secrets.token_hex(12)
    body = json.dumps(
        {
            "request_id": request_id,
            "name": name,
            "document_type": document_type,
            "document_number": document_number,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode("utf-8")
    timestamp = str(now_ms)
    return ProviderRequest(
        request_id,
        body,
        {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: "sha256=" + sign(secret, timestamp, body),
        },
    )


def sign(secret: str, timestamp: str, body: bytes) -> str:
    message = timestamp.encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def parse_answer(request: ProviderRequest, status: int, body: bytes) -> Verdict:
    """The provider's verdict.

    Raises:
        ProviderUnavailable: the answer is not a verdict on this request.
    """
    if status != 200:
        raise ProviderUnavailable(f"the provider answered HTTP {status}")
    try:
        answer = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ProviderUnavailable("the provider's answer is not JSON") from None
    if not isinstance(answer, dict):
        raise ProviderUnavailable("the provider's answer is not a JSON object")
    if answer.get("request_id") != request.request_id:
        raise ProviderUnavailable("the provider answered another request_id")
    try:
        return Verdict(answer.get("result"))
    except ValueError:
        raise ProviderUnavailable(
            "the provider's 'result' is neither 'match' nor 'mismatch'"
        ) from None
