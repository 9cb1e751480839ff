"""Staff pages for a doctor's hours: weekly intervals, time off, extra hours, types, and
the booked appointments a change leaves outside them (the conflicts).

The page is the appointments app's because it shows bookings; the hours themselves are
scheduling's: writes go through ``scheduling.services``, the forms are
``scheduling.forms``. Every view takes the doctor from the URL through
``staff_doctor_or_404``, which answers 404 for a doctor of a clinic the staff member does
not work for. A form that fails comes back with its errors: status 400 for the form's own
checks, the error's status for a service's refusal.
"""

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST
from django_stubs_ext import StrOrPromise

from accounts.decorators import staff_required
from accounts.models import User
from appointments.exceptions import ReasonRequired
from appointments.free_times import availability_conflicts
from appointments.models import Appointment
from appointments.services import ClosedTime, close_doctor_time
from appointments.staff_forms import BookedDecisionForm
from appointments.staff_selectors import booked_during
from clinic.errors import DomainError
from clinic.htmx import HtmxHttpRequest
from scheduling import services
from scheduling.forms import (
    AppointmentTypeForm,
    ExtraHoursForm,
    IntervalChangeForm,
    IntervalForm,
    TimeOffForm,
)
from scheduling.models import (
    AppointmentType,
    Doctor,
    ExtraHours,
    TimeOff,
    Weekday,
    WeeklyAvailability,
)
from scheduling.selectors import local_today, staff_doctor_or_404

TEMPLATE = "appointments/staff/availability.html"


@dataclass
class Forms:
    """Bound forms that failed, to show again with their errors; unbound ones otherwise."""

    add: dict[int, IntervalForm] = field(default_factory=dict)
    change: dict[int, IntervalChangeForm] = field(default_factory=dict)
    time_off: TimeOffForm | None = None
    # The booked appointments inside the time off being added, to confirm what befalls them.
    time_off_inside: list[Appointment] = field(default_factory=list)
    extra_hours: ExtraHoursForm | None = None
    appointment_type: AppointmentTypeForm | None = None
    type_error: str = ""


@dataclass
class WeekdayBlock:
    weekday: int
    label: StrOrPromise
    rows: list[tuple[WeeklyAvailability, IntervalChangeForm]]
    add_form: IntervalForm


@require_GET
@staff_required
def availability(request: HttpRequest, doctor_id: int) -> HttpResponse:
    return _render_page(request, _staff_doctor(request, doctor_id), Forms())


@require_POST
@staff_required
def interval_add(request: HtmxHttpRequest, doctor_id: int) -> HttpResponse:
    doctor = _staff_doctor(request, doctor_id)
    weekday = _posted_weekday(request)
    form = IntervalForm(request.POST, auto_id=f"add-{weekday}-%s")
    status = 400
    if form.is_valid():
        try:
            services.add_weekly_interval(
                doctor=doctor,
                weekday=form.cleaned_data["weekday"],
                start_time=form.cleaned_data["start_time"],
                end_time=form.cleaned_data["end_time"],
                changed_by=_user(request),
            )
        except DomainError as error:
            form.add_error(None, error.message)
            status = error.http_status
        else:
            return _interval_done(request, doctor, weekday)
    return _interval_refused(request, doctor, weekday, Forms(add={weekday: form}), status)


@require_POST
@staff_required
def interval_change(request: HtmxHttpRequest, doctor_id: int, rule_id: int) -> HttpResponse:
    doctor = _staff_doctor(request, doctor_id)
    rule = get_object_or_404(WeeklyAvailability, pk=rule_id, doctor=doctor)
    form = IntervalChangeForm(request.POST, auto_id=f"rule-{rule.pk}-%s")
    status = 400
    if form.is_valid():
        try:
            services.change_weekly_interval(
                rule=rule,
                start_time=form.cleaned_data["start_time"],
                end_time=form.cleaned_data["end_time"],
                changed_by=_user(request),
            )
        except DomainError as error:
            form.add_error(None, error.message)
            status = error.http_status
        else:
            return _interval_done(request, doctor, rule.weekday)
    bound = Forms(change={rule.pk: form})
    return _interval_refused(request, doctor, rule.weekday, bound, status)


@require_POST
@staff_required
def interval_remove(request: HtmxHttpRequest, doctor_id: int, rule_id: int) -> HttpResponse:
    doctor = _staff_doctor(request, doctor_id)
    rule = get_object_or_404(WeeklyAvailability, pk=rule_id, doctor=doctor)
    weekday = rule.weekday
    services.remove_weekly_interval(rule=rule, changed_by=_user(request))
    return _interval_done(request, doctor, weekday)


@require_POST
@staff_required
def time_off_add(request: HttpRequest, doctor_id: int) -> HttpResponse:
    """Add time off. When booked appointments fall inside it, the first POST only lists
    them and asks (``booked`` = ``cancel``: cancel them and tell the patients, with the
    reason; ``keep``: leave them booked, listed as conflicts to move or cancel one by
    one); the answer adds it, in one transaction with the cancellations."""
    doctor = _staff_doctor(request, doctor_id)
    form = TimeOffForm(request.POST, auto_id="time-off-%s")
    decision = BookedDecisionForm(request.POST)
    status = 400
    inside: list[Appointment] = []
    if form.is_valid() and decision.is_valid():
        booked = decision.cleaned_data["booked"]
        proposed = TimeOff(doctor=doctor, **form.cleaned_data)
        if not booked:
            inside = list(booked_during(doctor=doctor, time_off=proposed, now=timezone.now()))
        if inside:
            status = 200  # asked, not refused
        else:
            try:
                closed = close_doctor_time(
                    doctor=doctor,
                    cancel_booked=booked == "cancel",
                    changed_by=_user(request),
                    **form.cleaned_data,
                )
            except DomainError as error:
                field_name = "reason" if isinstance(error, ReasonRequired) else None
                form.add_error(field_name, error.message)
                inside = list(booked_during(doctor=doctor, time_off=proposed, now=timezone.now()))
                status = error.http_status
            else:
                _say_what_closing_did(request, closed)
                return _page_redirect(doctor, "time-off")
    bound = Forms(time_off=form, time_off_inside=inside)
    return _render_page(request, doctor, bound, status=status)


def _say_what_closing_did(request: HttpRequest, closed: ClosedTime) -> None:
    if closed.cancelled:
        count = len(closed.cancelled)
        messages.success(
            request,
            ngettext(
                "Time off added; %(count)d appointment cancelled, the patient is being emailed.",
                "Time off added; %(count)d appointments cancelled, the patients are being emailed.",
                count,
            )
            % {"count": count},
        )
    elif closed.conflicts:
        count = len(closed.conflicts)
        messages.warning(
            request,
            ngettext(
                "Time off added; %(count)d booked appointment inside it is listed under "
                "conflicts: move or cancel it.",
                "Time off added; %(count)d booked appointments inside it are listed under "
                "conflicts: move or cancel them.",
                count,
            )
            % {"count": count},
        )
    else:
        messages.success(request, _("Time off added."))


@require_POST
@staff_required
def time_off_remove(request: HttpRequest, doctor_id: int, time_off_id: int) -> HttpResponse:
    doctor = _staff_doctor(request, doctor_id)
    time_off = get_object_or_404(TimeOff, pk=time_off_id, doctor=doctor)
    services.remove_time_off(time_off=time_off, changed_by=_user(request))
    return _page_redirect(doctor, "time-off")


@require_POST
@staff_required
def extra_hours_add(request: HttpRequest, doctor_id: int) -> HttpResponse:
    doctor = _staff_doctor(request, doctor_id)
    form = ExtraHoursForm(request.POST, auto_id="extra-%s")
    status = 400
    if form.is_valid():
        try:
            services.add_extra_hours(doctor=doctor, changed_by=_user(request), **form.cleaned_data)
        except DomainError as error:
            form.add_error(None, error.message)
            status = error.http_status
        else:
            return _page_redirect(doctor, "extra-hours")
    return _render_page(request, doctor, Forms(extra_hours=form), status=status)


@require_POST
@staff_required
def extra_hours_remove(request: HttpRequest, doctor_id: int, extra_hours_id: int) -> HttpResponse:
    doctor = _staff_doctor(request, doctor_id)
    extra_hours = get_object_or_404(ExtraHours, pk=extra_hours_id, doctor=doctor)
    services.remove_extra_hours(extra_hours=extra_hours, changed_by=_user(request))
    return _page_redirect(doctor, "extra-hours")


@require_POST
@staff_required
def type_add(request: HttpRequest, doctor_id: int) -> HttpResponse:
    doctor = _staff_doctor(request, doctor_id)
    form = AppointmentTypeForm(request.POST, auto_id="type-%s")
    if not form.is_valid():
        return _render_page(request, doctor, Forms(appointment_type=form), status=400)
    services.add_appointment_type(
        doctor=doctor,
        name=form.cleaned_data["name"],
        duration=dt.timedelta(minutes=form.cleaned_data["duration"]),
    )
    return _page_redirect(doctor, "types")


@require_POST
@staff_required
def type_deactivate(request: HttpRequest, doctor_id: int, type_id: int) -> HttpResponse:
    doctor = _staff_doctor(request, doctor_id)
    appointment_type = get_object_or_404(AppointmentType, pk=type_id, doctor=doctor)
    try:
        services.deactivate_appointment_type(appointment_type=appointment_type)
    except DomainError as error:
        bound = Forms(type_error=error.message)
        return _render_page(request, doctor, bound, status=error.http_status)
    return _page_redirect(doctor, "types")


@require_POST
@staff_required
def type_first_visit(request: HttpRequest, doctor_id: int, type_id: int) -> HttpResponse:
    """Make a type the doctor's first-visit type: the one patients are offered by default."""
    doctor = _staff_doctor(request, doctor_id)
    appointment_type = get_object_or_404(AppointmentType, pk=type_id, doctor=doctor)
    try:
        services.mark_first_visit_type(appointment_type=appointment_type)
    except DomainError as error:
        bound = Forms(type_error=error.message)
        return _render_page(request, doctor, bound, status=error.http_status)
    return _page_redirect(doctor, "types")


def _staff_doctor(request: HttpRequest, doctor_id: int) -> Doctor:
    return staff_doctor_or_404(request.user, doctor_id)


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User), "call only behind staff_required"
    return request.user


def _posted_weekday(request: HttpRequest) -> int:
    try:
        weekday = int(request.POST.get("weekday", ""))
    except ValueError:
        return Weekday.MONDAY
    return weekday if weekday in Weekday.values else Weekday.MONDAY


def _page_redirect(doctor: Doctor, anchor: str) -> HttpResponse:
    url = reverse("staff_appointments:availability", args=[doctor.pk])
    return redirect(f"{url}#{anchor}")


def _interval_done(request: HtmxHttpRequest, doctor: Doctor, weekday: int) -> HttpResponse:
    if request.htmx:
        return _render_weekday(request, doctor, weekday, Forms())
    return _page_redirect(doctor, f"weekday-{weekday}")


def _interval_refused(
    request: HtmxHttpRequest, doctor: Doctor, weekday: int, bound: Forms, status: int
) -> HttpResponse:
    if request.htmx:
        return _render_weekday(request, doctor, weekday, bound, status=status)
    return _render_page(request, doctor, bound, status=status)


def _weekday_blocks(doctor: Doctor, bound: Forms) -> list[WeekdayBlock]:
    blocks = [
        WeekdayBlock(
            weekday=weekday,
            label=label,
            rows=[],
            add_form=bound.add.get(weekday)
            or IntervalForm(initial={"weekday": weekday}, auto_id=f"add-{weekday}-%s"),
        )
        for weekday, label in Weekday.choices
    ]
    for rule in doctor.weekly_rules.order_by("weekday", "start_time"):
        form = bound.change.get(rule.pk) or IntervalChangeForm(
            initial={"start_time": rule.start_time, "end_time": rule.end_time},
            auto_id=f"rule-{rule.pk}-%s",
        )
        blocks[rule.weekday].rows.append((rule, form))
    return blocks


def _conflicts_context(doctor: Doctor) -> dict[str, Any]:
    return {
        "doctor": doctor,
        "clinic": doctor.clinic,
        "conflicts": availability_conflicts(doctor, timezone.now()),
    }


def _render_weekday(
    request: HttpRequest, doctor: Doctor, weekday: int, bound: Forms, *, status: int = 200
) -> HttpResponse:
    context = _conflicts_context(doctor) | {
        "day": _weekday_blocks(doctor, bound)[weekday],
        "swap_conflicts": True,
    }
    response = render(request, f"{TEMPLATE}#weekday", context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _render_page(
    request: HttpRequest, doctor: Doctor, bound: Forms, *, status: int = 200
) -> HttpResponse:
    today = local_today(doctor.clinic)
    context = _conflicts_context(doctor) | {
        "days": _weekday_blocks(doctor, bound),
        "time_off": TimeOff.objects.filter(doctor=doctor, end_date__gte=today).order_by(
            "start_date", "start_time", "pk"
        ),
        "extra_hours": ExtraHours.objects.filter(doctor=doctor, date__gte=today).order_by(
            "date", "start_time", "pk"
        ),
        "types": doctor.appointment_types.order_by("-is_active", "duration", "name"),
        "time_off_form": bound.time_off or TimeOffForm(auto_id="time-off-%s"),
        "time_off_inside": bound.time_off_inside,
        "extra_hours_form": bound.extra_hours or ExtraHoursForm(auto_id="extra-%s"),
        "type_form": bound.appointment_type or AppointmentTypeForm(auto_id="type-%s"),
        "type_error": bound.type_error,
    }
    response = render(request, TEMPLATE, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response
