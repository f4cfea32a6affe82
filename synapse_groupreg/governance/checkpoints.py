"""Signed checkpoints of the audit chain's head (F1): the pure rules.

Anyone who can write the database can change an audit entry and recompute
every hash after it, or cut the newest entries off: the chain alone then
still verifies. A checkpoint is the chain's head (seq and hash) signed with
a key the database does not hold (the homeserver's signing key, or the
module's own key file), numbered and linked to the checkpoint before it by
that one's digest, and kept outside the database too (an append-only file,
a room). A rewritten entry no longer leads to the hash a checkpoint signed,
cut entries leave a checkpoint pointing past the chain's end, and a removed
checkpoint leaves a gap, a broken link or a difference between the copies.

Checkpoints are Matrix-style signed JSON (`signedjson`), so anyone with the
server's published keys (`/_matrix/key/v2/server`) can check them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import attrs
from signedjson.sign import SignatureVerifyException, sign_json, verify_signed_json

#: The `type` of a checkpoint object, in its body and in exports.
CHECKPOINT_TYPE = "org.groupreg.audit_checkpoint"


@attrs.frozen(slots=True)
class Checkpoint:
    """One checkpoint, parsed from its signed body (which stays the truth)."""

    #: Its number: 1, 2, 3, no gaps.
    n: int
    #: The chain entry it anchors, and that entry's hash.
    seq: int
    hash: str
    #: When it was signed, ms since the epoch.
    ts: int
    #: The digest of checkpoint n-1's body ('' for the first).
    prev: str
    #: The canonical JSON that was signed, signatures included.
    body: str

    @property
    def digest(self) -> str:
        return body_digest(self.body)

    def to_json(self) -> dict[str, Any]:
        return {**json.loads(self.body), "digest": self.digest}


def canonical(value: Mapping[str, Any]) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def body_digest(body: str) -> str:
    return hashlib.sha256(body.encode()).hexdigest()


def sign_checkpoint(
    n: int,
    seq: int,
    entry_hash: str,
    ts: int,
    prev: Checkpoint | None,
    server_name: str,
    signing_key: Any,
) -> Checkpoint:
    """The signed checkpoint n anchoring entry `seq` (whose hash is
    `entry_hash`), linked to `prev`."""
    unsigned = {
        "type": CHECKPOINT_TYPE,
        "server_name": server_name,
        "n": n,
        "seq": seq,
        "hash": entry_hash,
        "ts": ts,
        "prev": prev.digest if prev is not None else "",
    }
    body = canonical(sign_json(dict(unsigned), server_name, signing_key))
    return Checkpoint(n, seq, entry_hash, ts, unsigned["prev"], body)  # type: ignore[arg-type]


class BadCheckpoint(ValueError):
    """A body that is not a checkpoint at all."""


def parse_checkpoint(body: str) -> Checkpoint:
    """Raises:
    BadCheckpoint: not JSON, or a field missing or of the wrong type.
    """
    try:
        value = json.loads(body)
    except json.JSONDecodeError as e:
        raise BadCheckpoint(f"not JSON: {e}") from None
    if not isinstance(value, dict) or value.get("type") != CHECKPOINT_TYPE:
        raise BadCheckpoint("not a checkpoint")
    try:
        n, seq, ts = int(value["n"]), int(value["seq"]), int(value["ts"])
        entry_hash, prev = str(value["hash"]), str(value["prev"])
    except (KeyError, TypeError, ValueError) as e:
        raise BadCheckpoint(f"field missing or malformed: {e}") from None
    return Checkpoint(n, seq, entry_hash, ts, prev, body)


def signature_problem(
    checkpoint: Checkpoint, server_name: str, verify_keys: Mapping[str, Any]
) -> str | None:
    """None when a known key of `server_name` signed the body; otherwise
    what is wrong with its signature."""
    value = json.loads(checkpoint.body)
    signatures = value.get("signatures", {}).get(server_name, {})
    if not isinstance(signatures, dict) or not signatures:
        return f"it carries no signature of {server_name}"
    known = [key_id for key_id in signatures if key_id in verify_keys]
    if not known:
        return (
            f"it is signed with {', '.join(sorted(signatures))}, none of this"
            f" server's keys ({', '.join(sorted(verify_keys))})"
        )
    for key_id in known:
        try:
            verify_signed_json(value, server_name, verify_keys[key_id])
        except SignatureVerifyException:
            return f"its signature does not verify with {key_id}: it was changed"
    return None
