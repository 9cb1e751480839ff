"""The rules for a patient's details, on the model fields, so that every way in (the
profile page, staff registering a patient, the API, the admin) checks the same."""

import datetime as dt

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.utils import timezone

validate_phone = RegexValidator(
    regex=r"^\+?[\d\s()./-]{6,30}$",
    message="Enter a phone number, e.g. +49 30 1234567.",
    code="invalid_phone",
)

EARLIEST_BIRTH_DATE = dt.date(1900, 1, 1)


def validate_date_of_birth(value: dt.date) -> None:
    if value > timezone.localdate():
        raise ValidationError(
            "The date of birth cannot be in the future.", code="date_of_birth_in_future"
        )
    if value < EARLIEST_BIRTH_DATE:
        raise ValidationError("Enter a date of birth after 1900.", code="date_of_birth_too_early")
