"""Parsing what staff send: the calendar's query string and the detail page's actions."""

from django import forms

from accounts.validators import validate_date_of_birth, validate_person_name, validate_phone
from appointments.forms import REASON_MAX_LENGTH, AwareDateTimeField
from appointments.models import Status
from clinic.dates import validate_date_in_range


class CalendarQueryForm(forms.Form):
    """``?clinic=<id>&view=day|week&date=YYYY-MM-DD&doctor=<id>``, every part optional."""

    clinic = forms.IntegerField(required=False, min_value=1)
    view = forms.ChoiceField(
        required=False, choices=[("day", "Day"), ("week", "Week")], initial="day"
    )
    date = forms.DateField(
        required=False,
        validators=[validate_date_in_range],
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


class SickDayForm(forms.Form):
    reason = forms.CharField(
        label="Reason for cancelling",
        help_text="Every patient reads this in their cancellation email.",
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Give the reason: the patients are told it."},
    )


class PatientSearchForm(forms.Form):
    q = forms.CharField(label="Name, email or phone", required=False, max_length=200)


class NewPatientForm(forms.Form):
    email = forms.EmailField(label="Email", help_text="The patient signs in with a code sent here.")
    full_name = forms.CharField(
        label="Full name", max_length=200, validators=[validate_person_name]
    )
    phone = forms.CharField(label="Phone", max_length=40, validators=[validate_phone])
    date_of_birth = forms.DateField(
        label="Date of birth",
        validators=[validate_date_of_birth],
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": "Give the date as YYYY-MM-DD, e.g. 1980-01-31."},
    )


class StaffBookingQueryForm(forms.Form):
    """``?type=<id>&week=YYYY-MM-DD&start=<ISO 8601>``: the type (which names the doctor),
    the week of free times to show, and the chosen time."""

    type = forms.IntegerField(required=False, min_value=1)
    week = forms.DateField(
        required=False, input_formats=["%Y-%m-%d"], validators=[validate_date_in_range]
    )
    start = AwareDateTimeField(required=False)


class StaffBookingForm(forms.Form):
    reason = forms.CharField(
        label="Reason for the visit (optional)",
        max_length=REASON_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    # One key per rendered form, so a double submit books once.
    booking_key = forms.RegexField(
        regex=r"^[0-9a-f]{32}$",
        widget=forms.HiddenInput,
        error_messages={
            "required": "This form has expired. Please choose the time again.",
            "invalid": "This form has expired. Please choose the time again.",
        },
    )
