"""Forms of the staff availability page; the rules they check live in scheduling.services."""

import datetime as dt
from typing import Any

from django import forms

from clinic.dates import validate_date_in_range
from scheduling.models import Weekday


def _end_after_start(form: forms.Form, cleaned: dict[str, Any]) -> None:
    start, end = cleaned.get("start_time"), cleaned.get("end_time")
    if start and end and end <= start:
        form.add_error("end_time", "The end must be after the start.")


def time_input() -> forms.TimeInput:
    # Hours and minutes: the seconds a plain TimeInput shows mean nothing here.
    return forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class IntervalForm(forms.Form):
    weekday = forms.TypedChoiceField(choices=Weekday.choices, coerce=int, widget=forms.HiddenInput)
    start_time = forms.TimeField(label="From", widget=time_input())
    end_time = forms.TimeField(label="To", widget=time_input())

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        _end_after_start(self, cleaned)
        return cleaned


class IntervalChangeForm(IntervalForm):
    weekday = None  # type: ignore[assignment]  # an interval keeps its weekday


class TimeOffForm(forms.Form):
    start_date = forms.DateField(
        label="From",
        validators=[validate_date_in_range],
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    end_date = forms.DateField(
        label="Until",
        validators=[validate_date_in_range],
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    start_time = forms.TimeField(
        label="From time",
        required=False,
        help_text="Empty: the whole first day.",
        widget=time_input(),
    )
    end_time = forms.TimeField(
        label="Until time",
        required=False,
        help_text="Empty: the whole last day.",
        widget=time_input(),
    )
    reason = forms.CharField(
        label="Reason",
        max_length=200,
        required=False,
        help_text="Needed to cancel booked appointments inside it: each patient is told it.",
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start_date, end_date = cleaned.get("start_date"), cleaned.get("end_date")
        if start_date and end_date:
            start = dt.datetime.combine(start_date, cleaned.get("start_time") or dt.time.min)
            end_time = cleaned.get("end_time")
            end = (
                dt.datetime.combine(end_date, end_time)
                if end_time
                else dt.datetime.combine(end_date + dt.timedelta(days=1), dt.time.min)
            )
            if end <= start:
                self.add_error("end_date", "The end must be after the start.")
        return cleaned


class ExtraHoursForm(forms.Form):
    date = forms.DateField(
        validators=[validate_date_in_range], widget=forms.DateInput(attrs={"type": "date"})
    )
    start_time = forms.TimeField(label="From", widget=time_input())
    end_time = forms.TimeField(label="To", widget=time_input())

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        _end_after_start(self, cleaned)
        return cleaned


class AppointmentTypeForm(forms.Form):
    name = forms.CharField(max_length=100)
    duration = forms.IntegerField(label="Duration (minutes)", min_value=5, max_value=12 * 60)
