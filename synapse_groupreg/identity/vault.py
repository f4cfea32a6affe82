"""Identity plaintext encrypted at rest, and the person hash (A6).

Key file (UTF-8 text; blank lines and lines starting with ``#`` ignored)::

    hash <base64 of 32 random bytes>
    key <key_id> <base64 of 32 random bytes>
    key <key_id> <base64 of 32 random bytes>

- ``hash``, exactly once: the secret behind ``person_hash``. It is a line of
  its own, apart from the encryption keys, because uniqueness (one person, at
  most N accounts) and person blacklist rows are keyed by the hash, and a
  blacklisted person's plaintext may already be deleted (A8), so hashes could
  never be recomputed: rotating an encryption key must not move them. Never
  change this line.
- ``key``, one or more: AES-256-GCM keys. The first encrypts; all decrypt. A
  key id is 1-32 of ``A-Z a-z 0-9 . _ -``.

Rotation: add a new key (``rotate_key_file``), let the re-encryption job move
every ciphertext for which ``needs_reencryption`` is true with ``reencrypt``,
then delete the old key's line by hand. With several workers, stage the new key
first (``rotate_key_file(path, staged=True)`` adds it decrypt-only), restart
every worker, then ``promote_key`` and restart again: no worker ever meets a
ciphertext under a key it has not loaded.

Ciphertext: ``0x01 | len(key_id) | key_id | 12-byte nonce | AES-GCM output``.
The associated data is that header plus ``"{field}:{user_id}"``, so a
ciphertext copied to another field or another user fails to decrypt.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import os
import re
import secrets
import stat
from collections.abc import Sequence
from datetime import datetime, timezone
from hashlib import sha256
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from synapse_groupreg.identity.documents import DocumentType, parse_document_type

logger = logging.getLogger(__name__)

FORMAT_VERSION = 1
KEY_BYTES = 32
NONCE_BYTES = 12  # random per encryption: far below the 2^32 limit per key
_KEY_ID = re.compile(r"[A-Za-z0-9._-]{1,32}")
_FIELD = re.compile(r"[a-z][a-z0-9_]*")  # no ":", so "field:user" is unambiguous
# A new label here would give every person a new hash: it is part of the data.
_PERSON_HASH_INFO = b"synapse-groupreg person_hash v1"
_FILE_COMMENT = """\
# synapse-groupreg identity key file. Keep it secret and back it up: without
# it the identity data cannot be read. Format: synapse_groupreg/identity/vault.py
# "hash": secret of the person hashes; never change it.
# "key": encryption keys; the first encrypts, all decrypt.
"""


class KeyFileError(ValueError):
    """The key file is missing or malformed; the message names the file."""


class DecryptionError(ValueError):
    """A ciphertext could not be decrypted; the message never holds plaintext."""


class Vault:
    """Encrypts identity fields and computes person hashes (A6).

    Args:
        keys: ``(key_id, 32-byte key)`` pairs; the first is current.
        hash_secret: the 32-byte secret of ``person_hash``.

    Raises:
        ValueError: on an empty key list, a bad or repeated key id, or a key
            or secret that is not 32 bytes.
    """

    __slots__ = ("_ciphers", "_current_key_id", "_hash_key")

    def __init__(self, keys: Sequence[tuple[str, bytes]], hash_secret: bytes) -> None:
        if not keys:
            raise ValueError("a vault needs at least one encryption key")
        if len(hash_secret) != KEY_BYTES:
            raise ValueError(f"the hash secret must be {KEY_BYTES} bytes")
        self._ciphers: dict[str, AESGCM] = {}
        for key_id, key in keys:
            if not _KEY_ID.fullmatch(key_id):
                raise ValueError(f"key id {key_id!r} is not 1-32 of A-Z a-z 0-9 . _ -")
            if key_id in self._ciphers:
                raise ValueError(f"key id {key_id!r} appears twice")
            if len(key) != KEY_BYTES:
                raise ValueError(f"key {key_id!r} must be {KEY_BYTES} bytes")
            self._ciphers[key_id] = AESGCM(key)
        self._current_key_id = keys[0][0]
        # HKDF rather than the raw secret, so that the same line could one day
        # feed another purpose under another label without the two colliding.
        self._hash_key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=_PERSON_HASH_INFO
        ).derive(hash_secret)

    def __repr__(self) -> str:
        return (
            f"Vault(current_key_id={self._current_key_id!r}, key_ids={self.key_ids!r})"
        )

    @property
    def current_key_id(self) -> str:
        """The id of the key new ciphertexts are encrypted with."""
        return self._current_key_id

    @property
    def key_ids(self) -> tuple[str, ...]:
        """Every key id this vault can decrypt, current first."""
        return tuple(self._ciphers)

    def encrypt(self, plaintext: str, *, field: str, user_id: str) -> bytes:
        """Encrypt one identity field of one user with the current key.

        Args:
            plaintext: e.g. a real name or a normalised document number.
            field: what the plaintext is, e.g. ``"real_name"``: lower case
                letters, digits and ``_``.
            user_id: the Matrix user the plaintext belongs to.

        Raises:
            ValueError: if ``field`` is not a valid field name.
        """
        header = _header(self._current_key_id)
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[self._current_key_id].encrypt(
            nonce, plaintext.encode("utf-8"), _aad(header, field, user_id)
        )
        return header + nonce + sealed

    def decrypt(self, ciphertext: bytes, *, field: str, user_id: str) -> str:
        """Decrypt what ``encrypt`` returned for the same field and user.

        Raises:
            DecryptionError: if the ciphertext is malformed, was encrypted
                with a key not in the key file, was altered, or belongs to
                another field or user.
            ValueError: if ``field`` is not a valid field name.
        """
        key_id, header, body = _split(ciphertext)
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise DecryptionError(
                f"ciphertext was encrypted with key {key_id!r}, which is not in"
                " the key file; restore that key's line"
            )
        try:
            plain = cipher.decrypt(
                body[:NONCE_BYTES], body[NONCE_BYTES:], _aad(header, field, user_id)
            )
        except InvalidTag:
            raise DecryptionError(
                f"ciphertext of field {field!r} failed authentication: it was"
                " altered, or belongs to another field or user"
            ) from None
        return plain.decode("utf-8")

    def key_id_of(self, ciphertext: bytes) -> str:
        """The id of the key a ciphertext was encrypted with.

        Raises:
            DecryptionError: if the ciphertext is malformed.
        """
        return _split(ciphertext)[0]

    def needs_reencryption(self, ciphertext: bytes) -> bool:
        """Whether a ciphertext is under a key other than the current one.

        Raises:
            DecryptionError: if the ciphertext is malformed.
        """
        return self.key_id_of(ciphertext) != self._current_key_id

    def reencrypt(self, ciphertext: bytes, *, field: str, user_id: str) -> bytes:
        """The same plaintext, encrypted under the current key.

        The field and user are needed because they are authenticated: a
        ciphertext cannot be decrypted without them.

        Raises:
            DecryptionError: as ``decrypt``.
        """
        return self.encrypt(
            self.decrypt(ciphertext, field=field, user_id=user_id),
            field=field,
            user_id=user_id,
        )

    def person_hash(
        self, document_type: DocumentType | str, normalised_number: str
    ) -> str:
        """A keyed hash identifying a person by document, as 64 hex digits.

        Stable across encryption-key rotation (see the module docstring).
        Pass ``Document.number``: a number in another form hashes differently.

        Raises:
            InvalidDocument: if ``document_type`` is unknown.
        """
        kind = parse_document_type(document_type)
        # NUL cannot occur in either part, so no two pairs share a message.
        message = f"{kind.value}\x00{normalised_number}".encode()
        return hmac.new(self._hash_key, message, sha256).hexdigest()


def _header(key_id: str) -> bytes:
    encoded = key_id.encode("ascii")
    return bytes((FORMAT_VERSION, len(encoded))) + encoded


def _aad(header: bytes, field: str, user_id: str) -> bytes:
    if not _FIELD.fullmatch(field):
        raise ValueError(f"field name {field!r} is not lower case letters, digits, _")
    return header + f"{field}:{user_id}".encode()


def _split(ciphertext: bytes) -> tuple[str, bytes, bytes]:
    """Split a ciphertext into key id, header and nonce-plus-sealed body."""
    if len(ciphertext) < 2 or ciphertext[0] != FORMAT_VERSION:
        raise DecryptionError("ciphertext is not in a format this version knows")
    end = 2 + ciphertext[1]
    # 16 is the AES-GCM tag; an empty plaintext still has one.
    if len(ciphertext) < end + NONCE_BYTES + 16:
        raise DecryptionError("ciphertext is truncated")
    try:
        key_id = ciphertext[2:end].decode("ascii")
    except UnicodeDecodeError:
        raise DecryptionError("ciphertext has a malformed key id") from None
    return key_id, ciphertext[:end], ciphertext[end:]


def load_vault(path: str | os.PathLike[str]) -> Vault:
    """Read a key file (format in the module docstring).

    Raises:
        KeyFileError: naming the file, and the line where there is one.
    """
    keys, hash_secret = _read_key_file(Path(path))
    try:
        return Vault(keys, hash_secret)
    except ValueError as e:
        raise KeyFileError(f"identity key file {path}: {e}") from None


def _read_key_file(path: Path) -> tuple[list[tuple[str, bytes]], bytes]:
    try:
        text = path.read_text(encoding="utf-8")
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise KeyFileError(
            f"identity key file {path} does not exist; create one with"
            " generate_key_file()"
        ) from None
    except (OSError, UnicodeDecodeError) as e:
        raise KeyFileError(f"identity key file {path} cannot be read: {e}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        logger.warning(
            "identity key file %s can be read by other users (mode %o); chmod 600 it",
            path,
            stat.S_IMODE(mode),
        )
    keys: list[tuple[str, bytes]] = []
    hash_secrets: list[bytes] = []
    for number, line in enumerate(text.splitlines(), start=1):
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        where = f"identity key file {path}, line {number}"
        if words[0] == "hash" and len(words) == 2:
            hash_secrets.append(_decode_key(words[1], where))
        elif words[0] == "key" and len(words) == 3:
            keys.append((words[1], _decode_key(words[2], where)))
        else:
            raise KeyFileError(
                f"{where}: expected 'hash <base64>' or 'key <key_id> <base64>'"
            )
    if len(hash_secrets) != 1:
        raise KeyFileError(
            f"identity key file {path} has {len(hash_secrets)} 'hash' lines;"
            " it needs exactly one"
        )
    if not keys:
        raise KeyFileError(f"identity key file {path} has no 'key' line")
    return keys, hash_secrets[0]


def _decode_key(encoded: str, where: str) -> bytes:
    try:
        key = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise KeyFileError(f"{where}: the key is not valid base64") from None
    if len(key) != KEY_BYTES:
        raise KeyFileError(f"{where}: the key is {len(key)} bytes, not {KEY_BYTES}")
    return key


def generate_key_file(path: str | os.PathLike[str]) -> str:
    """Create a new key file with mode 0600, holding a hash secret and one key.

    Returns:
        The id of the new key.

    Raises:
        FileExistsError: if the file exists: overwriting it would make every
            ciphertext and person hash made with it useless.
    """
    key_id = _new_key_id(())
    content = _render(_random_key(), [(key_id, _random_key())])
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise FileExistsError(
            f"identity key file {os.fspath(path)} already exists; not overwriting it"
        ) from None
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        file.write(content)
    return key_id


def rotate_key_file(path: str | os.PathLike[str], *, staged: bool = False) -> str:
    """Add a new encryption key to a key file, keeping every other line's key.

    Args:
        path: the key file.
        staged: add the key last, for decryption only, to be made current
            later with ``promote_key``; otherwise it becomes current at once.

    Returns:
        The id of the new key.

    Raises:
        KeyFileError: if the existing file does not load.
    """
    keys, hash_secret = _read_key_file(Path(path))
    new = (_new_key_id([key_id for key_id, _ in keys]), _random_key())
    _replace(Path(path), _render(hash_secret, [*keys, new] if staged else [new, *keys]))
    return new[0]


def promote_key(path: str | os.PathLike[str], key_id: str) -> None:
    """Make a key already in the key file the current one.

    Raises:
        KeyFileError: if the file does not load or has no such key.
    """
    keys, hash_secret = _read_key_file(Path(path))
    chosen = [key for key in keys if key[0] == key_id]
    if not chosen:
        raise KeyFileError(f"identity key file {path} has no key {key_id!r}")
    others = [key for key in keys if key[0] != key_id]
    _replace(Path(path), _render(hash_secret, chosen + others))


def _random_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def _new_key_id(taken: Sequence[str]) -> str:
    # The date tells an operator how old a key is; the suffix keeps ids of
    # keys made on one day apart.
    day = datetime.now(timezone.utc).strftime("%Y%m%d")
    while True:
        key_id = f"{day}-{secrets.token_hex(3)}"
        if key_id not in taken:
            return key_id


def _render(hash_secret: bytes, keys: Sequence[tuple[str, bytes]]) -> str:
    lines = [f"hash {base64.b64encode(hash_secret).decode()}"]
    lines += [f"key {key_id} {base64.b64encode(key).decode()}" for key_id, key in keys]
    return _FILE_COMMENT + "\n".join(lines) + "\n"


def _replace(path: Path, content: str) -> None:
    """Replace a key file atomically, so a crash never leaves half a file."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
