"""Signed JSONL exports for inspection (F3).

An export is one line of JSON per record: a header, then the records of each
section asked for, then a signature line. The signature is the homeserver's
own ed25519 signing key (the one other servers already know it by, published
at `/_matrix/key/v2/server`) over the sha256 of every byte before the
signature line, so an inspector can check that the file came from this
server unaltered. The header carries the audit chain's head (seq and hash),
which anchors the chain outside the database: entries removed from its end
after an export no longer match the head the export recorded.

Sections are registered by the concerns that own the records (`audit`,
`network`, and later `sanctions`, `registry`, ...).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Any, Protocol

import attrs

#: Each section yields its records as JSON objects, oldest first.
SectionSource = Callable[[int | None, int | None], AsyncIterator[Mapping[str, Any]]]


class Signer(Protocol):
    """The homeserver's signing key, as signedjson provides it."""

    alg: str
    version: str

    def sign(self, message: bytes) -> Any: ...


@attrs.frozen(slots=True)
class ExportHeader:
    server_name: str
    generated_ts: int
    sections: tuple[str, ...]
    since: int | None
    until: int | None
    module_version: str
    audit_head: Mapping[str, Any]


def _line(obj: Mapping[str, Any]) -> bytes:
    return (
        json.dumps(
            obj, sort_keys=True, ensure_ascii=False, separators=(",", ":")
        ).encode()
        + b"\n"
    )


async def build_export(
    header: ExportHeader,
    sources: Mapping[str, SectionSource],
    signer: Signer,
) -> bytes:
    """The signed JSONL document for the sections in `header`."""
    chunks: list[bytes] = [_line({"type": "header", **attrs.asdict(header)})]
    for section in header.sections:
        async for record in sources[section](header.since, header.until):
            chunks.append(_line({"type": section, **record}))
    body = b"".join(chunks)
    digest = hashlib.sha256(body).digest()
    signature = signer.sign(digest).signature
    return body + _line(
        {
            "type": "signature",
            "sha256": digest.hex(),
            "key_id": f"{signer.alg}:{signer.version}",
            "signature": base64.b64encode(signature).decode().rstrip("="),
        }
    )


class ExportInvalid(ValueError):
    pass


def verify_export(document: bytes, verify_keys: Mapping[str, bytes]) -> dict[str, Any]:
    """Check an export's signature; returns its header.

    Args:
        document: the whole JSONL file.
        verify_keys: public keys by key id (`ed25519:a_xyz`), raw 32 bytes.

    Raises:
        ExportInvalid: naming what does not hold.
    """
    from nacl.exceptions import BadSignatureError
    from nacl.signing import VerifyKey

    body, _, last = document.rstrip(b"\n").rpartition(b"\n")
    body += b"\n"
    try:
        signature_line = json.loads(last)
        header = json.loads(body.split(b"\n", 1)[0])
    except json.JSONDecodeError as e:
        raise ExportInvalid(f"not an export: {e}") from None
    if signature_line.get("type") != "signature" or header.get("type") != "header":
        raise ExportInvalid("not an export: header or signature line missing")
    digest = hashlib.sha256(body).digest()
    if digest.hex() != signature_line.get("sha256"):
        raise ExportInvalid("the content was changed after signing (sha256 differs)")
    key_id = signature_line.get("key_id")
    key = verify_keys.get(key_id)
    if key is None:
        raise ExportInvalid(f"no public key for {key_id!r}; have {sorted(verify_keys)}")
    raw = signature_line["signature"]
    try:
        VerifyKey(key).verify(digest, base64.b64decode(raw + "=" * (-len(raw) % 4)))
    except BadSignatureError:
        raise ExportInvalid(f"the signature does not verify with {key_id}") from None
    return dict(header)


def parse_sections(requested: str | None, available: Sequence[str]) -> tuple[str, ...]:
    """`audit,network` → ('audit', 'network'); all when None.

    Raises:
        ValueError: naming the unknown section and the ones available.
    """
    if requested is None:
        return tuple(available)
    sections = tuple(s.strip() for s in requested.split(",") if s.strip())
    for section in sections:
        if section not in available:
            raise ValueError(
                f"unknown section {section!r}; available: {', '.join(available)}"
            )
    return sections
