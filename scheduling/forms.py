"""Forms of the staff availability page (the rules they check live in
scheduling.services), and the search across doctors' filters (the home page and /search/)."""

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from clinic.dates import validate_date_in_range
from scheduling import selectors
from scheduling.models import Clinic, Weekday


def _end_after_start(form: forms.Form, cleaned: dict[str, Any]) -> None:
    start, end = cleaned.get("start_time"), cleaned.get("end_time")
    if start and end and end <= start:
        form.add_error("end_time", _("The end must be after the start."))


def time_input() -> forms.TimeInput:
    # Hours and minutes: the seconds a plain TimeInput shows mean nothing here.
    return forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


def date_input() -> forms.DateInput:
    # <input type="date"> takes an ISO date whatever the language (the browser shows it in
    # its own format); Django's German default, 02.12.2026, would leave it empty.
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class IntervalForm(forms.Form):
    weekday = forms.TypedChoiceField(choices=Weekday.choices, coerce=int, widget=forms.HiddenInput)
    start_time = forms.TimeField(label=_("From"), widget=time_input())
    end_time = forms.TimeField(label=_("To"), widget=time_input())

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        _end_after_start(self, cleaned)
        return cleaned


class IntervalChangeForm(IntervalForm):
    weekday = None  # type: ignore[assignment]  # an interval keeps its weekday


class TimeOffForm(forms.Form):
    start_date = forms.DateField(
        label=_("From"),
        validators=[validate_date_in_range],
        widget=date_input(),
    )
    end_date = forms.DateField(
        label=_("Until"),
        validators=[validate_date_in_range],
        widget=date_input(),
    )
    start_time = forms.TimeField(
        label=_("From time"),
        required=False,
        help_text=_("Empty: the whole first day."),
        widget=time_input(),
    )
    end_time = forms.TimeField(
        label=_("Until time"),
        required=False,
        help_text=_("Empty: the whole last day."),
        widget=time_input(),
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=200,
        required=False,
        help_text=_("Needed to cancel booked appointments inside it: each patient is told it."),
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
                self.add_error("end_date", _("The end must be after the start."))
        return cleaned


class ExtraHoursForm(forms.Form):
    date = forms.DateField(
        label=_("Date"), validators=[validate_date_in_range], widget=date_input()
    )
    start_time = forms.TimeField(label=_("From"), widget=time_input())
    end_time = forms.TimeField(label=_("To"), widget=time_input())

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        _end_after_start(self, cleaned)
        return cleaned


class AppointmentTypeForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    duration = forms.IntegerField(label=_("Duration (minutes)"), min_value=5, max_value=12 * 60)


class SearchForm(forms.Form):
    """The search across doctors (``/search/``): every field optional; an empty date
    means "soonest" (from today). The choices are the active doctors' own (the view
    passes them), so a link with a specialty that no longer exists is a form error."""

    specialty = forms.ChoiceField(label=_("Specialty"), required=False)
    language = forms.ChoiceField(label=_("Language spoken"), required=False)
    clinic = forms.ChoiceField(label=_("Clinic"), required=False)
    type_name = forms.ChoiceField(label=_("Appointment type"), required=False)
    date = forms.DateField(
        label=_("From"),
        required=False,
        input_formats=["%Y-%m-%d"],
        validators=[validate_date_in_range],
        help_text=_("Empty: the soonest times."),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Give the date as year-month-day, e.g. 2026-03-09.")},
    )

    def __init__(
        self,
        *args: Any,
        specialties: list[str],
        languages: list[tuple[str, Any]],
        clinics: list[tuple[str, str]],
        type_names: list[str],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        choice_fields = {
            "specialty": (_("All specialties"), [(name, name) for name in specialties]),
            "language": (_("Any language"), languages),
            "clinic": (_("All clinics"), clinics),
            "type_name": (_("Each doctor's default"), [(name, name) for name in type_names]),
        }
        for name, (empty_label, choices) in choice_fields.items():
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = [("", empty_label), *choices]


def search_form(data: Any = None, *, clinics: Sequence[Clinic] | None = None) -> SearchForm:
    """The search form with the active doctors' specialties, languages and types."""
    clinics = selectors.clinics() if clinics is None else clinics
    return SearchForm(
        data or None,
        specialties=selectors.specialties(),
        languages=selectors.spoken_languages(),
        clinics=[(clinic.slug, clinic.name) for clinic in clinics],
        type_names=selectors.appointment_type_names(),
    )


# search_query's answers, by the catalogue they were cleaned against and the query. The
# form's verdict on a query is a function of the query and the choices alone (the
# catalogue's: no clock, no visitor, no language), and making the form (Django copies
# its fields and normalises four lists of choices) cost a kept search page more than
# anything else of its own. A new catalogue (a change, or ``CATALOGUE_SECONDS``) starts
# afresh; any query string makes an entry, so past this many the store is dropped.
MAX_KEPT_SEARCH_QUERIES = 500
_search_queries: tuple[selectors.Catalogue, dict[object, dict[str, Any] | None]] | None = None


def search_query(data: QueryDict) -> dict[str, Any] | None:
    """What ``search_form(data)`` cleans ``data`` to (empty when nothing is asked), or
    None when the form refuses it; remembered per catalogue (the pages that render the
    form still make it, with its errors)."""
    global _search_queries
    current = selectors.catalogue()
    if _search_queries is None or _search_queries[0] is not current:
        _search_queries = (current, {})
    known = _search_queries[1]
    asked = tuple(sorted((name, tuple(values)) for name, values in data.lists()))
    try:  # one lookup: another thread may drop the store between two
        cleaned = known[asked]
    except KeyError:
        form = search_form(data)
        cleaned = (form.cleaned_data if form.is_valid() else None) if form.is_bound else {}
        if len(known) >= MAX_KEPT_SEARCH_QUERIES:
            known.clear()
        known[asked] = cleaned
    return None if cleaned is None else dict(cleaned)
