"""Real-name identity (requirements A): the parts that need no Synapse.

``documents`` checks and masks what users type (A2, A4, A6, A7); ``vault``
keeps the plaintext encrypted at rest and computes person hashes (A6).
"""

from synapse_groupreg.identity.documents import (
    Document,
    DocumentType,
    IdentityInputError,
    InvalidDocument,
    InvalidPhoneNumber,
    age_on,
    is_minor_under,
    mask,
    mask_name,
    normalise_phone,
    validate_document,
)
from synapse_groupreg.identity.names import InvalidName, normalise_name
from synapse_groupreg.identity.vault import (
    DecryptionError,
    KeyFileError,
    Vault,
    generate_key_file,
    load_vault,
    promote_key,
    rotate_key_file,
)

__all__ = [
    "DecryptionError",
    "Document",
    "DocumentType",
    "IdentityInputError",
    "InvalidDocument",
    "InvalidName",
    "InvalidPhoneNumber",
    "KeyFileError",
    "Vault",
    "age_on",
    "generate_key_file",
    "is_minor_under",
    "load_vault",
    "mask",
    "mask_name",
    "normalise_name",
    "normalise_phone",
    "promote_key",
    "rotate_key_file",
    "validate_document",
]
