"""Phone numbers: one spelling (E.164) for storing, one keyed hash for finding.

People write a number many ways: ``+4915575151122``, ``015575151122``, ``0155 75151122``,
``+49 155 75151122``. ``normalise`` turns each into E.164 (``+4915575151122``) with the
``phonenumbers`` library (Google's libphonenumber), reading a number without a country
code in a default region: the clinic's country (``Clinic.country``) for what staff type,
``settings.PHONE_DEFAULT_REGION`` for what patients type about themselves.

Staff search by phone through ``lookup_hash``, an HMAC-SHA256 of the E.164 number under
``settings.PHONE_LOOKUP_KEY``, stored in ``Patient.phone_lookup`` (indexed): the search
never reads the phone column itself, which may be encrypted at rest. A key of its own,
not SECRET_KEY, so that rotating SECRET_KEY leaves the lookups valid; changing
PHONE_LOOKUP_KEY needs ``manage.py rehash_phone_lookups``.

The names are folded the same way for search (``fold_name``): lower case, accents
removed, one space between words.
"""

import hashlib
import hmac
import re
import unicodedata

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Digits with the separators people type; at least 6 digits (a short local number).
PHONE_LIKE = re.compile(r"^\+?[\d\s()./-]{6,30}$")
INVALID_PHONE = _("Enter a phone number, e.g. +49 30 1234567.")


def normalise(raw: str, region: str | None = None) -> str:
    """``raw`` in E.164, read in ``region`` (ISO 3166 alpha-2) when it has no country
    code; raises ``ValidationError`` (code ``invalid_phone``) for what is not a phone
    number of a possible length. An empty value stays empty."""
    raw = raw.strip()
    if not raw:
        return ""
    number = _parse(raw, region or settings.PHONE_DEFAULT_REGION)
    if number is None:
        raise ValidationError(INVALID_PHONE, code="invalid_phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_or_none(raw: str, region: str | None = None) -> str | None:
    """``normalise``, or None for what is not a phone number (a search term, say)."""
    try:
        return normalise(raw, region) or None
    except ValidationError:
        return None


def lookup_hash(e164: str) -> str:
    """The keyed hash of an E.164 number that ``Patient.phone_lookup`` holds ("" for no
    number)."""
    if not e164:
        return ""
    key = settings.PHONE_LOOKUP_KEY.encode()
    return hmac.new(key, e164.encode(), hashlib.sha256).hexdigest()


def display(e164: str) -> str:
    """E.164 as people read it: ``+49 155 75151122``; anything else as it is."""
    number = _parse(e164, settings.PHONE_DEFAULT_REGION) if e164 else None
    if number is None:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def fold_name(name: str) -> str:
    """A name as search compares it: "  Müller-Lüdenscheidt, José " -> "muller-ludenscheidt,
    jose". Lower case (casefold), accents removed (NFKD without combining marks), one
    space between words."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(plain.split())


def _parse(raw: str, region: str) -> phonenumbers.PhoneNumber | None:
    if not PHONE_LIKE.match(raw):
        return None
    try:
        number = phonenumbers.parse(raw, region.upper())
    except phonenumbers.NumberParseException:
        return None
    # Possible, not valid: the length fits the country's plan. Validity would refuse
    # numbers of ranges newer than the library's metadata, and fictional ones.
    return number if phonenumbers.is_possible_number(number) else None
