"""Field-level encryption at rest for personal data (docs/security.md, "Encryption at rest").

Values are encrypted with Fernet (AES-128-CBC with HMAC-SHA256, from ``cryptography``)
under ``settings.FIELD_ENCRYPTION_KEYS``: a list of keys in which the first encrypts and
every one decrypts (``MultiFernet``), so a new key can be put first while rows written
under the old one still read; ``manage.py rotate_encryption_keys`` then rewrites every
row under the new key and the old one can go.

Each value gets its own random IV, so equal values give different ciphertexts: an
encrypted column can be read and written, not searched or compared in SQL. What must be
searched keeps a keyed hash beside it (a phone number's lookup digest).

A wrong or missing key fails loudly: a value that does not decrypt raises
``UndecryptableValue`` (a 500 and a log line naming the column), never shows ciphertext as
if it were the data, and never silently reads as empty. The empty string stays the empty
string (it says "not given", nothing more), so blank fields stay blank.
"""

import datetime as dt
from functools import cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper

# Lookups that still mean something on ciphertext: whether there is a value at all.
ALLOWED_LOOKUPS = frozenset({"isnull"})


class UndecryptableValue(Exception):
    """A stored value that none of ``FIELD_ENCRYPTION_KEYS`` decrypts."""


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty: set at least one key.")
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError as error:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS holds a value that is not a Fernet key (32 url-safe "
            "base64-encoded bytes; make one with `python manage.py generate_encryption_key`)."
        ) from error


def keys() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(text: str) -> str:
    return keys().encrypt(text.encode()).decode("ascii")


def decrypt(token: str, *, where: str = "a value") -> str:
    try:
        return keys().decrypt(token.encode("ascii")).decode()
    except (InvalidToken, UnicodeEncodeError) as error:
        raise UndecryptableValue(
            f"{where} does not decrypt with any of FIELD_ENCRYPTION_KEYS: the key it was "
            "written with is missing, or the value was stored unencrypted."
        ) from error


def rotate(token: str) -> str:
    """``token`` re-encrypted under the first key (the same text)."""
    return keys().rotate(token.encode("ascii")).decode("ascii")


def is_under_first_key(token: str) -> bool:
    """Whether the first key alone decrypts ``token`` (no rotation needed)."""
    first = Fernet(settings.FIELD_ENCRYPTION_KEYS[0])
    try:
        first.decrypt(token.encode("ascii"))
    except InvalidToken:
        return False
    return True


def new_key() -> str:
    return Fernet.generate_key().decode("ascii")


class EncryptedMixin:
    """Stores the field's text encrypted in a ``text`` column; see the module docstring.

    Only ``isnull`` lookups are allowed: any other (``exact``, ``icontains``...) would
    compare ciphertext and silently match nothing, so it is refused."""

    def get_internal_type(self) -> str:
        return "TextField"

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name not in ALLOWED_LOOKUPS:
            raise FieldError(
                f"{self} is encrypted: it cannot be searched with {lookup_name!r}. "
                "Search a keyed hash stored beside it instead."
            )
        return super().get_lookup(lookup_name)  # type: ignore[misc]

    def to_text(self, value: Any) -> str:
        """The Python value as the text that is encrypted."""
        return str(value)

    def from_text(self, text: str) -> Any:
        """The Python value of the decrypted text."""
        return text

    def get_db_prep_value(
        self, value: Any, connection: BaseDatabaseWrapper, prepared: bool = False
    ) -> Any:
        value = self.to_python(value)  # type: ignore[attr-defined]
        if value is None or value == "":
            return value
        return encrypt(self.to_text(value))

    def from_db_value(self, value: Any, expression: Any, connection: BaseDatabaseWrapper) -> Any:
        if value is None or value == "":
            return value
        return self.from_text(decrypt(value, where=str(self)))


class EncryptedTextField(EncryptedMixin, models.TextField[Any, Any]):
    """A ``TextField`` encrypted at rest."""


class EncryptedCharField(EncryptedMixin, models.CharField[Any, Any]):
    """A ``CharField`` encrypted at rest: ``max_length`` limits the text, the column is
    ``text`` (ciphertext is longer)."""


class EncryptedDateField(EncryptedMixin, models.DateField[Any, Any]):
    """A ``DateField`` encrypted at rest (the ISO date, ``YYYY-MM-DD``, encrypted)."""

    def to_text(self, value: Any) -> str:
        return str(value.isoformat())

    def from_text(self, text: str) -> dt.date:
        return dt.date.fromisoformat(text)
