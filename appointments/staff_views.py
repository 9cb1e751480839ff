"""The staff calendar and the staff page of one appointment, under /staff/.

Clinic isolation: every view reads through ``staff_selectors``, which see only the
clinics the signed-in user works for, so another clinic's calendar or appointment is a
404 (ids reveal nothing), for pages and actions alike. The rules for cancelling and
marking attendance live in ``services.py``; a refusal is shown on the page with a 400.
"""

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_POST
from django_htmx.middleware import HtmxDetails

from accounts.decorators import staff_required
from accounts.models import User
from accounts.selectors import staff_clinics
from appointments import staff_selectors
from appointments.exceptions import BookingError
from appointments.models import Appointment, Status
from appointments.services import cancel_appointment, mark_attendance
from appointments.staff_forms import AttendanceForm, CalendarQueryForm, StaffCancelForm
from appointments.views import describe
from scheduling.models import Clinic, Doctor


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


@require_GET
@staff_required
def calendar(request: HtmxHttpRequest) -> HttpResponse:
    query = CalendarQueryForm(request.GET)
    if not query.is_valid():
        problems = [error for errors in query.errors.values() for error in errors]
        return render(
            request, "appointments/staff/calendar.html", {"problems": problems}, status=400
        )
    try:
        clinic = staff_selectors.calendar_clinic(request.user, query.cleaned_data["clinic"])
        schedule = staff_selectors.clinic_calendar(
            clinic=clinic,
            view=query.cleaned_data["view"] or "day",
            day=query.cleaned_data["date"],
            doctor_id=query.cleaned_data["doctor"],
        )
    except (Clinic.DoesNotExist, Doctor.DoesNotExist) as missing:
        raise Http404("No such clinic or doctor.") from missing

    template = "appointments/staff/calendar.html"
    # A history restore asks for the whole page, though it comes from htmx.
    if request.htmx and not request.htmx.history_restore_request:
        template += "#calendar"
    response = render(
        request,
        template,
        {"calendar": schedule, "clinic": clinic, "clinics": staff_clinics(request.user)},
    )
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_GET
@staff_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    appointment = _staff_appointment(request, pk)
    return _render_detail(request, appointment)


@require_POST
@staff_required
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    appointment = _staff_appointment(request, pk)
    form = StaffCancelForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, appointment, cancel_form=form, status=400)
    try:
        cancelled = cancel_appointment(
            appointment=appointment,
            cancelled_by=_user(request),
            reason=form.cleaned_data["reason"],
            by_clinic=True,
        )
    except BookingError as error:
        return _render_detail(request, appointment, cancel_form=form, error=error)
    messages.success(request, f"Cancelled: {describe(cancelled)}. The patient will be emailed.")
    return _back_to(appointment)


@require_POST
@staff_required
def attendance(request: HttpRequest, pk: int) -> HttpResponse:
    appointment = _staff_appointment(request, pk)
    form = AttendanceForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, appointment, problem="Choose completed or no-show.")
    try:
        marked = mark_attendance(
            appointment=appointment,
            status=Status(form.cleaned_data["status"]),
            marked_by=_user(request),
        )
    except BookingError as error:
        return _render_detail(request, appointment, error=error)
    messages.success(request, f"Marked {marked.get_status_display().lower()}: {describe(marked)}.")
    return _back_to(appointment)


def _render_detail(
    request: HttpRequest,
    appointment: Appointment,
    *,
    cancel_form: StaffCancelForm | None = None,
    error: BookingError | None = None,
    problem: str = "",
    status: int = 200,
) -> HttpResponse:
    context = {
        "record": staff_selectors.appointment_record(appointment),
        "appointment": appointment,
        "clinic": appointment.doctor.clinic,
        "can_mark_attendance": staff_selectors.can_mark_attendance(appointment, timezone.now()),
        "cancel_form": cancel_form or StaffCancelForm(),
        "problem": error.message if error is not None else problem,
    }
    if error is not None or problem:
        status = 400
    return render(request, "appointments/staff/detail.html", context, status=status)


def _staff_appointment(request: HttpRequest, pk: int) -> Appointment:
    return get_object_or_404(staff_selectors.appointments_for_staff(request.user), pk=pk)


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # staff_required let only a signed-in user through
    return user


def _back_to(appointment: Appointment) -> HttpResponse:
    url = reverse("staff_appointments:detail", args=[appointment.pk])
    return HttpResponseRedirect(url, status=303)
