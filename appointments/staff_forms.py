"""Parsing what staff send: the calendar's query string and the detail page's actions."""

from django import forms

from appointments.forms import REASON_MAX_LENGTH
from appointments.models import Status


class CalendarQueryForm(forms.Form):
    """``?clinic=<id>&view=day|week&date=YYYY-MM-DD&doctor=<id>``, every part optional."""

    clinic = forms.IntegerField(required=False, min_value=1)
    view = forms.ChoiceField(
        required=False, choices=[("day", "Day"), ("week", "Week")], initial="day"
    )
    date = forms.DateField(
        required=False,
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": "Give the date as YYYY-MM-DD, e.g. 2026-03-09."},
    )
    doctor = forms.IntegerField(required=False, min_value=1)


class StaffCancelForm(forms.Form):
    reason = forms.CharField(
        label="Reason for cancelling",
        help_text="The patient reads this in the cancellation email.",
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Give the reason: the patient is told it."},
    )


class AttendanceForm(forms.Form):
    status = forms.ChoiceField(
        choices=[(Status.COMPLETED, "Completed"), (Status.NO_SHOW, "No-show")]
    )
