"""Parsing what patients send: query strings and the booking, cancel and reschedule forms.

Only shape is checked here (a number, an ISO 8601 time with its offset); whether a
time can be booked is the services' decision.
"""

import datetime as dt
import uuid
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.models import Dependant
from clinic.dates import validate_date_in_range, validate_instant_in_range

REASON_MAX_LENGTH = 500


class AwareDateTimeField(forms.Field):
    """An ISO 8601 date and time with its UTC offset (``2026-03-09T09:00:00Z``), in UTC.

    Django's DateTimeField would read a time without an offset in the server's zone;
    a link that does not say which instant it means is refused instead."""

    default_error_messages = {
        "invalid": _("Give the time in ISO 8601 form, e.g. 2026-03-09T09:00:00Z."),
        "naive": _("Give the time with its UTC offset, e.g. 2026-03-09T09:00:00Z."),
    }

    def to_python(self, value: Any) -> dt.datetime | None:
        if value in self.empty_values:
            return None
        text = str(value).strip()
        try:
            # Short inputs only: fromisoformat's work grows with the length.
            parsed = dt.datetime.fromisoformat(text) if len(text) <= 40 else None
        except ValueError:
            parsed = None
        if parsed is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        if parsed.tzinfo is None or parsed.utcoffset() is None:
            raise forms.ValidationError(self.error_messages["naive"], code="naive")
        # Before turning it into UTC, which overflows at the edges of Python's dates.
        validate_instant_in_range(parsed)
        return parsed.astimezone(dt.UTC)


class BookingQueryForm(forms.Form):
    """The query string of the booking page: ``?doctor=<id>&type=<id>&start=<ISO 8601>``."""

    doctor = forms.IntegerField(min_value=1, error_messages={"required": _("Choose a doctor.")})
    type = forms.IntegerField(
        min_value=1, error_messages={"required": _("Choose an appointment type.")}
    )
    start = AwareDateTimeField(error_messages={"required": _("Choose a time.")})


def new_booking_key() -> str:
    return uuid.uuid4().hex


class BookingForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for your visit (optional)"),
        help_text=_("A few words help the doctor prepare. Only the clinic sees this."),
        max_length=REASON_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    # One key per rendered form: a second submit of the same form (double click, back
    # and resubmit, a retried POST) finds the booking the first one made.
    booking_key = forms.RegexField(
        regex=r"^[0-9a-f]{32}$",
        widget=forms.HiddenInput,
        error_messages={
            "required": _("This form has expired. Please open the booking page again."),
            "invalid": _("This form has expired. Please open the booking page again."),
        },
    )

    def __init__(self, *args: Any, dependants: QuerySet[Dependant] | None = None, **kwargs: Any):
        """``dependants``: the people the patient books for. When there are any, the form
        asks whom the appointment is for (``for_whom``: a dependant, or None for the
        patient themself, the default); a posted id that is not one of them is refused."""
        super().__init__(*args, **kwargs)
        if dependants is not None and dependants.exists():
            self.fields["for_whom"] = forms.ModelChoiceField(
                label=_("Who is this appointment for?"),
                queryset=dependants,
                required=False,
                empty_label=_("Myself"),
                blank=True,  # RadioSelect drops the empty choice ("Myself") without it
                initial="",
                widget=forms.RadioSelect,
                error_messages={
                    "invalid_choice": _("Choose yourself or one of the people you book for.")
                },
            )


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for cancelling (optional)"),
        max_length=REASON_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class RescheduleForm(forms.Form):
    start = AwareDateTimeField(error_messages={"required": _("Choose a new time.")})


class WeekForm(forms.Form):
    """``?week=YYYY-MM-DD``: any day of the week to show; empty for the default week."""

    week = forms.DateField(
        required=False,
        validators=[validate_date_in_range],
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": _("Give the week as a date, e.g. 2026-03-09.")},
    )
