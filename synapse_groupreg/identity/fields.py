"""The identity fields as the vault encrypts them (A6)."""

from __future__ import annotations

from synapse_groupreg.identity.vault import Vault
from synapse_groupreg.store.identity import IdentityRow

#: Ciphertext field names; part of the authenticated data, never change them.
NAME_FIELD = "real_name"
NUMBER_FIELD = "document_number"


def decrypt_row(vault: Vault, row: IdentityRow) -> tuple[str, str]:
    """(name, normalised number) of a row that still holds its plaintext."""
    assert row.name_ct is not None and row.number_ct is not None
    return (
        vault.decrypt(row.name_ct, field=NAME_FIELD, user_id=row.user_id),
        vault.decrypt(row.number_ct, field=NUMBER_FIELD, user_id=row.user_id),
    )
