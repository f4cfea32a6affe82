"""Encryption at rest, key files, rotation and the person hash (A6)."""

from __future__ import annotations

import base64
import os
import stat
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from synapse_groupreg.identity.documents import DocumentType, validate_document
from synapse_groupreg.identity.vault import (
    DecryptionError,
    KeyFileError,
    Vault,
    generate_key_file,
    load_vault,
    promote_key,
    rotate_key_file,
)

KEY = bytes(range(32))
HASH_SECRET = bytes(range(32, 64))
VAULT = Vault([("k1", KEY)], HASH_SECRET)
ALICE = "@alice:example.org"
NUMBER = "11010519491231002X"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path


@given(st.text(), st.sampled_from(["real_name", "document_number"]), st.text())
def test_a6_round_trip(plaintext: str, field: str, user_id: str) -> None:
    """A6: any text, any field, any user: decrypt gives back what went in."""
    sealed = VAULT.encrypt(plaintext, field=field, user_id=user_id)
    assert VAULT.decrypt(sealed, field=field, user_id=user_id) == plaintext


def test_a6_ciphertext_hides_the_plaintext_and_never_repeats() -> None:
    """A6: the stored bytes hold no plaintext, and a fresh nonce each time
    means two users with the same name do not have equal ciphertexts."""
    first = VAULT.encrypt(NUMBER, field="document_number", user_id=ALICE)
    second = VAULT.encrypt(NUMBER, field="document_number", user_id=ALICE)
    assert NUMBER.encode() not in first
    assert first != second


@given(st.data())
def test_a6_flipping_any_bit_is_detected(data: st.DataObject) -> None:
    """A6: a change to any bit, header included, fails to decrypt."""
    sealed = VAULT.encrypt("张三", field="real_name", user_id=ALICE)
    bit = data.draw(st.integers(0, len(sealed) * 8 - 1))
    tampered = bytearray(sealed)
    tampered[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(DecryptionError):
        VAULT.decrypt(bytes(tampered), field="real_name", user_id=ALICE)


@pytest.mark.parametrize(
    "ciphertext", [b"", b"\x01", b"\x02\x02k1" + bytes(40), b"\x01\x02k1" + bytes(10)]
)
def test_a6_malformed_ciphertexts_are_refused(ciphertext: bytes) -> None:
    """A6: empty, unknown version and truncated ciphertexts are errors."""
    with pytest.raises(DecryptionError):
        VAULT.decrypt(ciphertext, field="real_name", user_id=ALICE)


def test_a6_ciphertext_swapped_between_users_or_fields_fails() -> None:
    """A6: the associated data binds a ciphertext to its field and user, so
    copying Bob's row onto Alice's (or a name into the number) fails."""
    sealed = VAULT.encrypt("张三", field="real_name", user_id=ALICE)
    with pytest.raises(DecryptionError, match="real_name"):
        VAULT.decrypt(sealed, field="real_name", user_id="@bob:example.org")
    with pytest.raises(DecryptionError):
        VAULT.decrypt(sealed, field="document_number", user_id=ALICE)


def test_a6_field_names_cannot_blur_the_binding() -> None:
    """A6: a field name with ':' could make two (field, user) pairs equal."""
    with pytest.raises(ValueError, match="field name"):
        VAULT.encrypt("张三", field="real:name", user_id=ALICE)


def test_a6_errors_and_reprs_hold_no_secrets() -> None:
    """A6: neither keys nor plaintext show in a repr or an error message."""
    assert b64(KEY) not in repr(VAULT) and b64(HASH_SECRET) not in repr(VAULT)
    assert repr(VAULT) == "Vault(current_key_id='k1', key_ids=('k1',))"
    sealed = VAULT.encrypt(NUMBER, field="document_number", user_id=ALICE)
    with pytest.raises(DecryptionError) as caught:
        VAULT.decrypt(sealed, field="document_number", user_id="@bob:example.org")
    assert NUMBER not in str(caught.value)


def test_a6_person_hash_is_keyed_and_separates_types() -> None:
    """A6: the hash depends on type, number and the secret, nothing else."""
    digest = VAULT.person_hash(DocumentType.RESIDENT_ID, NUMBER)
    assert len(digest) == 64 and int(digest, 16) >= 0
    assert digest == VAULT.person_hash("resident_id", NUMBER)
    assert digest != VAULT.person_hash("passport", NUMBER)
    assert digest != VAULT.person_hash("resident_id", "440524188001010014")
    other_secret = Vault([("k1", KEY)], bytes(32))
    assert digest != other_secret.person_hash("resident_id", NUMBER)


def test_a6_legacy_and_new_numbers_of_one_person_hash_alike() -> None:
    """A6: uniqueness sees through 15 vs 18 digits because both normalise."""
    today = date(2025, 1, 1)
    old = validate_document("resident_id", "110105491231002", today)
    new = validate_document("resident_id", "11010519491231002x", today)
    assert VAULT.person_hash(old.type, old.number) == VAULT.person_hash(
        new.type, new.number
    )


def test_a6_generated_key_file_is_private_and_loads(tmp_path: Path) -> None:
    """A6: generate_key_file makes a 0600 file the loader accepts."""
    path = tmp_path / "identity.key"
    key_id = generate_key_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    vault = load_vault(path)
    assert vault.current_key_id == key_id
    sealed = vault.encrypt("张三", field="real_name", user_id=ALICE)
    assert load_vault(path).decrypt(sealed, field="real_name", user_id=ALICE) == "张三"


def test_a6_generate_never_overwrites_a_key_file(tmp_path: Path) -> None:
    """A6: overwriting a key file would lose every identity: refuse."""
    path = tmp_path / "identity.key"
    generate_key_file(path)
    before = path.read_bytes()
    with pytest.raises(FileExistsError, match=str(path)):
        generate_key_file(path)
    assert path.read_bytes() == before


def test_a6_rotation_keeps_old_ciphertexts_and_hashes(tmp_path: Path) -> None:
    """A6: after a new key: old ciphertexts still decrypt, need re-encryption,
    re-encrypt under the new key id, and person hashes do not move."""
    path = tmp_path / "identity.key"
    old_id = generate_key_file(path)
    before = load_vault(path)
    sealed = before.encrypt(NUMBER, field="document_number", user_id=ALICE)
    digest = before.person_hash("resident_id", NUMBER)

    new_id = rotate_key_file(path)
    after = load_vault(path)
    assert after.key_ids == (new_id, old_id)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert after.decrypt(sealed, field="document_number", user_id=ALICE) == NUMBER
    assert after.needs_reencryption(sealed)

    moved = after.reencrypt(sealed, field="document_number", user_id=ALICE)
    assert after.key_id_of(moved) == new_id
    assert not after.needs_reencryption(moved)
    assert after.decrypt(moved, field="document_number", user_id=ALICE) == NUMBER
    assert after.person_hash("resident_id", NUMBER) == digest


def test_a6_staged_rotation_then_promotion(tmp_path: Path) -> None:
    """A6: a staged key decrypts but does not encrypt until promoted, so
    every worker can load it before any ciphertext depends on it."""
    path = tmp_path / "identity.key"
    old_id = generate_key_file(path)
    new_id = rotate_key_file(path, staged=True)
    staged = load_vault(path)
    assert staged.current_key_id == old_id
    assert staged.key_ids == (old_id, new_id)
    promote_key(path, new_id)
    assert load_vault(path).key_ids == (new_id, old_id)
    with pytest.raises(KeyFileError, match="no key 'nope'"):
        promote_key(path, "nope")


def test_a6_ciphertext_under_a_removed_key_names_the_key(tmp_path: Path) -> None:
    """A6: dropping a key too early is reported with the key id to restore."""
    old = Vault([("2024-old", KEY)], HASH_SECRET)
    sealed = old.encrypt("张三", field="real_name", user_id=ALICE)
    new = Vault([("2025-new", bytes(32))], HASH_SECRET)
    with pytest.raises(DecryptionError, match=r"'2024-old'.*restore"):
        new.decrypt(sealed, field="real_name", user_id=ALICE)


def test_a6_missing_key_file_is_named(tmp_path: Path) -> None:
    """A6: a missing file is named, with how to make one."""
    path = tmp_path / "absent.key"
    with pytest.raises(KeyFileError, match=f"{path} does not exist.*generate_key_file"):
        load_vault(path)


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        (f"hash {b64(HASH_SECRET)}\nkey k1\n", r"line 2: expected"),
        (f"hash {b64(HASH_SECRET)}\nsecret k1 {b64(KEY)}\n", r"line 2: expected"),
        (
            f"hash {b64(HASH_SECRET)}\nkey k1 not*base64\n",
            r"line 2: .*not valid base64",
        ),
        (f"hash {b64(HASH_SECRET)}\nkey k1 {b64(KEY[:16])}\n", r"line 2: .*16 bytes"),
        (f"# comment\n\nhash {b64(bytes(31))}\n", r"line 3: .*31 bytes, not 32"),
        (f"key k1 {b64(KEY)}\n", r"0 'hash' lines"),
        (f"hash {b64(KEY)}\nhash {b64(KEY)}\nkey k1 {b64(KEY)}\n", r"2 'hash' lines"),
        (f"hash {b64(HASH_SECRET)}\n", r"no 'key' line"),
        (
            f"hash {b64(KEY)}\nkey k1 {b64(KEY)}\nkey k1 {b64(KEY)}\n",
            r"'k1' appears twice",
        ),
        (f"hash {b64(KEY)}\nkey k/1 {b64(KEY)}\n", r"key id 'k/1'"),
    ],
)
def test_a6_malformed_key_files_are_explained(
    tmp_path: Path, text: str, complaint: str
) -> None:
    """A6: each key file mistake is named with the file and, where it has
    one, the line; the bad key material itself is never quoted."""
    path = write(tmp_path / "identity.key", text)
    with pytest.raises(KeyFileError, match=complaint) as caught:
        load_vault(path)
    assert str(path) in str(caught.value)
    assert b64(KEY) not in str(caught.value)


def test_a6_readable_key_file_is_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A6: a key file others can read still loads, with a warning to fix it."""
    path = write(tmp_path / "identity.key", f"hash {b64(KEY)}\nkey k1 {b64(KEY)}\n")
    os.chmod(path, 0o644)
    load_vault(path)
    assert "chmod 600" in caplog.text
    assert b64(KEY) not in caplog.text
