"""The patient's booking and My-appointments pages.

Each view parses its input, asks one selector or calls one service, and renders; the
booking rules live in ``services.py`` and reach the page as a ``BookingError`` whose
message is shown as it is. After a successful POST a plain form gets a 303 to the
appointment; an htmx form gets ``HX-Redirect`` so that the browser loads the page whole
(htmx would otherwise follow the 303 inside its request and swap a full page into the
form).
"""

import datetime as dt

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect
from django_htmx.middleware import HtmxDetails

from accounts.decorators import current_patient, patient_required
from accounts.models import User
from appointments import selectors
from appointments.calendar import appointment_calendar
from appointments.exceptions import (
    BookingError,
    ChangeWindowClosed,
    NotBookable,
    SlotUnavailable,
)
from appointments.forms import (
    BookingForm,
    BookingQueryForm,
    CancelForm,
    RescheduleForm,
    WeekForm,
    new_booking_key,
)
from appointments.models import Appointment
from appointments.services import book_appointment, cancel_appointment, reschedule_appointment
from scheduling.models import AppointmentType, Doctor

LOCAL_TIME_FORMAT = "l j F Y, H:i T"  # Monday 9 March 2026, 10:00 CET


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def error_status(error: BookingError) -> int:
    # A taken time is a conflict with someone else's booking; every other refusal is a
    # rule about this request.
    return 409 if isinstance(error, SlotUnavailable) else 400


@patient_required
@require_http_methods(["GET", "POST"])
def book(request: HtmxHttpRequest) -> HttpResponse:
    patient = current_patient(request)
    if not patient.is_complete:
        back_here = urlencode({"next": request.get_full_path()})
        return HttpResponseRedirect(f"{reverse('accounts:profile')}?{back_here}", status=303)

    template = "appointments/book.html"
    if request.htmx and request.method == "POST":
        template += "#booking-step"

    query = BookingQueryForm(request.GET)
    if not query.is_valid():
        problems = [error for errors in query.errors.values() for error in errors]
        return render(request, template, {"problems": problems}, status=400)
    try:
        offer = selectors.booking_offer(
            doctor_id=query.cleaned_data["doctor"],
            appointment_type_id=query.cleaned_data["type"],
            starts_at=query.cleaned_data["start"],
        )
    except (Doctor.DoesNotExist, AppointmentType.DoesNotExist) as missing:
        raise Http404("No such doctor or appointment type.") from missing
    except NotBookable as error:
        return render(request, template, {"problems": [error.message]}, status=400)

    context: dict[str, object] = {"offer": offer, "clinic": offer.clinic}
    if request.method == "GET":
        # Warn now rather than after the reason is typed; the service checks again.
        if not selectors.offer_is_free(offer):
            return _booking_refused(request, template, context, offer, SlotUnavailable())
        context["form"] = BookingForm(initial={"booking_key": new_booking_key()})
        return render(request, template, context)

    form = BookingForm(request.POST)
    context["form"] = form
    if not form.is_valid():
        return render(request, template, context, status=400)
    try:
        appointment = book_appointment(
            patient=patient,
            doctor=offer.doctor,
            appointment_type=offer.appointment_type,
            starts_at=offer.starts_at,
            reason=form.cleaned_data["reason"],
            booked_by=_user(request),
            booking_key=form.cleaned_data["booking_key"],
        )
    except BookingError as error:
        return _booking_refused(request, template, context, offer, error)
    if appointment.is_cancelled:
        # This form was sent before (the same booking key): its booking was made then and
        # has been cancelled since. Say so rather than "Booked".
        messages.info(request, "This booking was made earlier and has since been cancelled.")
    else:
        messages.success(request, f"Booked: {describe(appointment)}.")
    return _go_to_appointment(request, appointment)


def _booking_refused(
    request: HttpRequest,
    template: str,
    context: dict[str, object],
    offer: selectors.BookingOffer,
    error: BookingError,
) -> HttpResponse:
    other_times = selectors.free_week(
        doctor=offer.doctor,
        appointment_type=offer.appointment_type,
        day=offer.starts_at.astimezone(offer.clinic.zone).date(),
    )
    context |= {"error": error, "other_times": other_times, "form": None}
    return render(request, template, context, status=error_status(error))


@patient_required
@require_GET
def appointment_list(request: HttpRequest) -> HttpResponse:
    upcoming, past = selectors.patient_appointments(current_patient(request), timezone.now())
    return render(request, "appointments/list.html", {"upcoming": upcoming, "past": past})


@patient_required
@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    appointment = _own_appointment(request, pk)
    return _render_detail(request, appointment, CancelForm())


@patient_required
@require_POST
def cancel(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    appointment = _own_appointment(request, pk)
    form = CancelForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, appointment, form, status=400)
    try:
        cancelled = cancel_appointment(
            appointment=appointment,
            cancelled_by=_user(request),
            reason=form.cleaned_data["reason"],
        )
    except BookingError as error:
        return _render_detail(request, appointment, form, error=error)
    # Cancelling a cancelled appointment returns it unchanged: a retried POST lands here too.
    messages.success(request, f"Cancelled: {describe(cancelled)}.")
    return _go_to_appointment(request, cancelled)


def _render_detail(
    request: HttpRequest,
    appointment: Appointment,
    cancel_form: CancelForm,
    *,
    error: BookingError | None = None,
    status: int = 200,
) -> HttpResponse:
    now = timezone.now()
    context = {
        "appointment": appointment,
        "clinic": appointment.doctor.clinic,
        "can_change": selectors.can_change_online(appointment, now),
        "must_call": selectors.must_call_to_change(appointment, now),
        "too_late_message": ChangeWindowClosed().message,
        "cancel_form": cancel_form,
        "error": error,
    }
    if error is not None:
        status = error_status(error)
    return render(request, "appointments/detail.html", context, status=status)


@patient_required
@require_http_methods(["GET", "POST"])
def reschedule(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    appointment = _own_appointment(request, pk)
    now = timezone.now()
    if request.method == "GET" and not selectors.can_change_online(appointment, now):
        # The details page says why (too late: call the clinic; cancelled: nothing to do).
        return HttpResponseRedirect(reverse("appointments:detail", args=[pk]))

    clinic = appointment.doctor.clinic
    week_form = WeekForm(request.GET)
    chosen_day = week_form.cleaned_data["week"] if week_form.is_valid() else None
    status = 200 if week_form.is_valid() else 400
    error: BookingError | None = None
    problem = "" if week_form.is_valid() else week_form.errors["week"][0]

    if request.method == "POST":
        form = RescheduleForm(request.POST)
        if not form.is_valid():
            problem, status = form.errors["start"][0], 400
        else:
            starts_at: dt.datetime = form.cleaned_data["start"]
            try:
                moved = reschedule_appointment(
                    appointment=appointment, starts_at=starts_at, rescheduled_by=_user(request)
                )
            except BookingError as refused:
                error, status = refused, error_status(refused)
                chosen_day = starts_at.astimezone(clinic.zone).date()
            else:
                messages.success(request, f"Rescheduled: {describe(moved)}.")
                return _go_to_appointment(request, moved)

    week = None
    if selectors.can_change_online(appointment, now):
        week = selectors.free_week(
            doctor=appointment.doctor,
            appointment_type=appointment.appointment_type,
            day=chosen_day or appointment.starts_at.astimezone(clinic.zone).date(),
            ignore_appointment_id=appointment.pk,
        )
    context = {
        "appointment": appointment,
        "clinic": clinic,
        "week": week,
        "error": error,
        "problem": problem,
        "must_call": selectors.must_call_to_change(appointment, now),
    }
    template = "appointments/reschedule.html"
    # A history restore asks for the whole page, though it comes from htmx.
    if request.htmx and request.method == "GET" and not request.htmx.history_restore_request:
        template += "#slot-list"
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


@patient_required
@require_GET
def calendar_file(request: HttpRequest, pk: int) -> HttpResponse:
    appointment = _own_appointment(request, pk)
    response = HttpResponse(
        appointment_calendar(appointment), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="appointment-{appointment.pk}.ics"'
    response["Cache-Control"] = "private, no-store"
    return response


def describe(appointment: Appointment) -> str:
    """'Consultation with Dr. Anna Weber on Monday 9 March 2026, 10:00 CET'."""
    when = appointment.starts_at.astimezone(appointment.doctor.clinic.zone)
    return (
        f"{appointment.appointment_type.name} with {appointment.doctor.name} "
        f"on {dateformat.format(when, LOCAL_TIME_FORMAT)}"
    )


def _own_appointment(request: HttpRequest, pk: int) -> Appointment:
    # Another patient's appointment is "not found", not "forbidden": ids reveal nothing.
    return get_object_or_404(selectors.appointments_of(current_patient(request)), pk=pk)


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # patient_required let only a logged-in user through
    return user


def _go_to_appointment(request: HtmxHttpRequest, appointment: Appointment) -> HttpResponse:
    url = reverse("appointments:detail", args=[appointment.pk])
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return HttpResponseRedirect(url, status=303)
