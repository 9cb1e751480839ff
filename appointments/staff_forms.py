"""Parsing what staff send: the calendar's query string and the detail page's actions."""

import re
from typing import Any

from django import forms
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from accounts import phones
from accounts.models import Dependant, Patient
from accounts.selectors import dependants_of
from accounts.validators import validate_date_of_birth, validate_person_name
from appointments.forms import REASON_MAX_LENGTH, AwareDateTimeField
from appointments.models import Status
from clinic.dates import validate_date_in_range


class CalendarQueryForm(forms.Form):
    """``?clinic=<id>&view=day|week&date=YYYY-MM-DD&specialty=&doctor=<id>``, every part
    optional."""

    clinic = forms.IntegerField(required=False, min_value=1)
    view = forms.ChoiceField(
        required=False, choices=[("day", _("Day")), ("week", _("Week"))], initial="day"
    )
    date = forms.DateField(
        required=False,
        validators=[validate_date_in_range],
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": _("Give the date as YYYY-MM-DD, e.g. 2026-03-09.")},
    )
    doctor = forms.IntegerField(required=False, min_value=1)
    specialty = forms.CharField(required=False, max_length=100)


class StaffCancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for cancelling"),
        help_text=_("The patient reads this in the cancellation email."),
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Give the reason: the patient is told it.")},
    )


class AttendanceForm(forms.Form):
    status = forms.ChoiceField(
        choices=[(Status.COMPLETED, _("Completed")), (Status.NO_SHOW, _("No-show"))]
    )


class SickDayForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for cancelling"),
        help_text=_("Every patient reads this in their cancellation email."),
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Give the reason: the patients are told it.")},
    )


class PatientSearchForm(forms.Form):
    q = forms.CharField(label=_("Name, email or phone"), required=False, max_length=200)


class NewPatientForm(forms.Form):
    """A patient registered by staff; the phone is read in ``region`` (the clinic's
    country) when it has no country code."""

    email = forms.EmailField(
        label=_("Email"), help_text=_("The patient signs in with a code sent here.")
    )
    full_name = forms.CharField(
        label=_("Full name"), max_length=200, validators=[validate_person_name]
    )
    phone = forms.CharField(label=_("Phone"), max_length=40)
    date_of_birth = forms.DateField(
        label=_("Date of birth"),
        validators=[validate_date_of_birth],
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Give the date as YYYY-MM-DD, e.g. 1980-01-31.")},
    )

    def __init__(self, *args: Any, region: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.region = region

    def clean_phone(self) -> str:
        return phones.normalise(self.cleaned_data["phone"], self.region)


class StaffBookingQueryForm(forms.Form):
    """``?type=<id>&week=YYYY-MM-DD&start=<ISO 8601>``: the type (which names the doctor),
    the week of free times to show, and the chosen time."""

    type = forms.IntegerField(required=False, min_value=1)
    week = forms.DateField(
        required=False, input_formats=["%Y-%m-%d"], validators=[validate_date_in_range]
    )
    start = AwareDateTimeField(required=False)


# A rendered form's one-time key (``new_booking_key``).
BOOKING_KEY = re.compile(r"[0-9a-f]{32}")


class FamilyMemberChoiceField(forms.ModelChoiceField[Dependant]):
    def label_from_instance(self, obj: Dependant) -> str:
        """A family member as staff choose them: "Mia Wolf, child, born 3 May 2019"."""
        born = formats.date_format(obj.date_of_birth, "DATE_FORMAT") if obj.date_of_birth else ""
        return _("%(name)s, %(relationship)s, born %(born)s") % {
            "name": obj.full_name,
            "relationship": obj.get_relationship_display(),
            "born": born,
        }


class StaffBookingForm(forms.Form):
    """The confirm step of a phone booking: whom the visit is for (``for_whom``: one of
    the patient's family members, or None for the patient themself, the default), the
    reason, and the form's one-time key."""

    for_whom = FamilyMemberChoiceField(
        label=_("Who is the visit for?"),
        queryset=Dependant.objects.none(),
        required=False,
        blank=True,  # RadioSelect drops the empty choice (the patient) without it
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("Choose the patient or one of their family members.")},
    )
    reason = forms.CharField(
        label=_("Reason for the visit (optional)"),
        max_length=REASON_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    # One key per rendered form, so a double submit books once.
    booking_key = forms.RegexField(
        regex=rf"^{BOOKING_KEY.pattern}$",
        widget=forms.HiddenInput,
        error_messages={
            "required": _("This form has expired. Please choose the time again."),
            "invalid": _("This form has expired. Please choose the time again."),
        },
    )

    def __init__(self, *args: Any, patient: Patient, **kwargs: Any) -> None:
        """Only ``patient``'s family members can be chosen: another patient's posted id
        is a form error, never a booking for someone else."""
        super().__init__(*args, **kwargs)
        field = self.fields["for_whom"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = dependants_of(patient)
        field.empty_label = _("%(name)s (the patient)") % {"name": patient}


class FamilyMemberForm(forms.Form):
    """A family member staff add on the phone without leaving the booking: its fields sit
    in the confirm step's form (prefixed ``person-``) and are read only when staff press
    "Add" there."""

    # No ``required`` in the HTML: the fields are empty whenever staff only confirm.
    use_required_attribute = False

    full_name = forms.CharField(
        label=_("Their name"),
        max_length=200,
        validators=[validate_person_name],
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    date_of_birth = forms.DateField(
        label=_("Their birth date"),
        validators=[validate_date_of_birth],
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date", "autocomplete": "off"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Give the date as YYYY-MM-DD, e.g. 2019-01-31.")},
    )
    relationship = forms.ChoiceField(
        label=_("Relation to the patient"),
        choices=Dependant.Relationship.choices,
        initial=Dependant.Relationship.CHILD,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "person")
        super().__init__(*args, **kwargs)


class BookedDecisionForm(forms.Form):
    """What becomes of the booked appointments inside time off being added: nothing asked
    yet (empty), ``cancel`` them (the patients are emailed the reason), or ``keep`` them
    booked (they are listed as conflicts)."""

    booked = forms.ChoiceField(
        required=False,
        choices=[("", _("Not asked yet")), ("cancel", _("Cancel")), ("keep", _("Keep"))],
    )


class StaffRescheduleQueryForm(forms.Form):
    """``?week=YYYY-MM-DD&start=<ISO 8601>``: the week of free times, then the new time."""

    week = forms.DateField(
        required=False,
        input_formats=["%Y-%m-%d"],
        error_messages={"invalid": _("Give the week as a date, e.g. 2026-03-09.")},
    )
    start = AwareDateTimeField(required=False)


class StaffRescheduleForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is it moved?"),
        help_text=_('For the appointment\'s history, e.g. "the patient asked on the phone".'),
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Say why it is moved: the history keeps it.")},
    )


class DoctorPickerForm(forms.Form):
    """``?doctor=<part of the name>&specialty=``: the doctors to book by phone."""

    doctor = forms.CharField(label=_("Doctor's name"), required=False, max_length=100)
    specialty = forms.CharField(label=_("Specialty"), required=False, max_length=100)
