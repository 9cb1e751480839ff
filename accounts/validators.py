"""The rules for a patient's details, on the model fields, so that every way in (the
profile page, staff registering a patient, the API, the admin) checks the same."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts import phones


def validate_phone(value: str) -> None:
    """A phone number of a possible length, read in ``settings.PHONE_DEFAULT_REGION``
    when it has no country code (``accounts.phones``). Staff entries are read in their
    clinic's country by their own form before they reach the model."""
    phones.normalise(value)


EARLIEST_BIRTH_DATE = dt.date(1900, 1, 1)


def validate_person_name(value: str) -> None:
    """A name goes into email headers ("Ada Lovelace" <ada@...>): a line break or other
    control character would break the header (and every email to the patient would fail),
    and MIME encoded-word syntax (``=?utf-8?q?...?=``) would be decoded by mail programs
    into something else than what was typed."""
    if any(ord(char) < 32 or ord(char) == 127 for char in value):
        raise ValidationError(
            _("A name cannot contain line breaks or other control characters."),
            code="name_control_characters",
        )
    if "=?" in value and "?=" in value:
        raise ValidationError(
            _("A name cannot contain “=?” followed by “?=”."), code="name_encoded_word"
        )


def validate_date_of_birth(value: dt.date) -> None:
    if value > timezone.localdate():
        raise ValidationError(
            _("The date of birth cannot be in the future."), code="date_of_birth_in_future"
        )
    if value < EARLIEST_BIRTH_DATE:
        raise ValidationError(
            _("Enter a date of birth after 1900."), code="date_of_birth_too_early"
        )
