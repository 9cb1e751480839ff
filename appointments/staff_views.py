"""The staff landing page, the calendar, the staff page of one appointment, the sick-day
cancellation of the rest of a doctor's day, and booking for a patient by phone, under
/staff/.

Clinic isolation: every view reads through ``staff_selectors``, ``staff_doctor_or_404``
or ``visible_appointment_or_404``, which see only the clinics the signed-in user works
for, so another clinic's calendar or appointment is a 404 (ids reveal nothing), for pages
and actions alike. The rules for cancelling and marking attendance live in
``services.py``; a refusal is shown on the page with the error's own status.
"""

import datetime as dt

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.decorators import staff_required
from accounts.models import Patient, User
from accounts.selectors import dependants_of
from accounts.services import add_family_member
from accounts.views import safe_next
from appointments import feeds, free_times, selectors, staff_selectors
from appointments.forms import new_booking_key
from appointments.models import Appointment, Status
from appointments.services import (
    EmailTaken,
    book_appointment,
    cancel_appointment,
    cancel_doctor_day,
    create_patient,
    mark_attendance,
    reschedule_appointment,
)
from appointments.staff_forms import (
    BOOKING_KEY,
    AttendanceForm,
    CalendarQueryForm,
    DoctorPickerForm,
    FamilyMemberForm,
    NewPatientForm,
    PatientSearchForm,
    SickDayForm,
    StaffBookingForm,
    StaffBookingQueryForm,
    StaffCancelForm,
    StaffRescheduleForm,
    StaffRescheduleQueryForm,
)
from appointments.views import describe, query_url
from clinic.dates import validate_date_in_range
from clinic.errors import DomainError
from clinic.htmx import HtmxHttpRequest, wants_fragment
from scheduling.models import AppointmentType, Clinic, Doctor
from scheduling.selectors import local_today, staff_clinics, staff_doctor_or_404

PATIENTS_PER_PAGE = 25


@require_GET
@staff_required
def home(request: HttpRequest) -> HttpResponse:
    """The today view: per clinic, today's appointments, those to mark, today's
    cancellations and the conflicts of the coming week."""
    context = {"clinics": staff_selectors.clinics_today(request.user, timezone.now())}
    return render(request, "appointments/staff/home.html", context)


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
            specialty=query.cleaned_data["specialty"].strip(),
        )
    except (Clinic.DoesNotExist, Doctor.DoesNotExist) as missing:
        raise Http404("No such clinic or doctor.") from missing

    template = "appointments/staff/calendar.html"
    if wants_fragment(request):
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
    except DomainError as error:
        return _render_detail(request, appointment, cancel_form=form, error=error)
    messages.success(
        request,
        _("Cancelled: %(appointment)s. The patient will be emailed.")
        % {"appointment": describe(cancelled)},
    )
    return _back_to(appointment, safe_next(request, request.POST.get("next")))


@require_POST
@staff_required
def attendance(request: HttpRequest, pk: int) -> HttpResponse:
    appointment = _staff_appointment(request, pk)
    form = AttendanceForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, appointment, problem=_("Choose completed or no-show."))
    try:
        marked = mark_attendance(
            appointment=appointment,
            status=Status(form.cleaned_data["status"]),
            marked_by=_user(request),
        )
    except DomainError as error:
        return _render_detail(request, appointment, error=error)
    messages.success(
        request,
        _("Marked %(status)s: %(appointment)s.")
        % {"status": marked.get_status_display().lower(), "appointment": describe(marked)},
    )
    return _back_to(appointment, safe_next(request, request.POST.get("next")))


@require_http_methods(["GET", "POST"])
@staff_required
def reschedule(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Move an appointment for the patient (on the phone, or out of a conflict): a week
    of the doctor's free times of the same type (``?week=``, htmx swaps ``#slot-list``),
    then the chosen time (``?start=``) with the reason, then POST. Staff are not bound by
    the patients' cutoff; the patient is emailed the change with an updated invite."""
    appointment = _staff_appointment(request, pk)
    clinic = appointment.doctor.clinic
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next"))
    template = "appointments/staff/reschedule.html"
    context: dict[str, object] = {
        "appointment": appointment,
        "clinic": clinic,
        "next_url": next_url or "",
    }
    query = StaffRescheduleQueryForm(request.GET)
    if not query.is_valid():
        problems = [error for errors in query.errors.values() for error in errors]
        return render(request, template, context | {"problems": problems}, status=400)
    if appointment.status != Status.BOOKED:
        return render(request, template, context, status=409)

    starts_at = query.cleaned_data["start"]
    if starts_at is None:
        week = free_times.free_week(
            doctor=appointment.doctor,
            appointment_type=appointment.appointment_type,
            day=query.cleaned_data["week"] or appointment.starts_at.astimezone(clinic.zone).date(),
            ignore_appointment_id=appointment.pk,
        )
        base = {"next": next_url} if next_url else {}
        links = query_url("staff_appointments:reschedule", appointment.pk, **base)
        if wants_fragment(request):
            template += "#slot-list"
        response = render(
            request, template, context | {"week": week, "nav_url": links, "slot_url": links}
        )
        patch_vary_headers(response, ["HX-Request"])
        return response

    context["starts_at"] = starts_at
    form = StaffRescheduleForm(request.POST if request.method == "POST" else None)
    context["form"] = form
    if request.method == "GET":
        return render(request, template, context)
    if not form.is_valid():
        return render(request, template, context, status=400)
    try:
        moved = reschedule_appointment(
            appointment=appointment,
            starts_at=starts_at,
            rescheduled_by=_user(request),
            by_clinic=True,
            reason=form.cleaned_data["reason"],
        )
    except DomainError as error:
        context |= {"error": error, "form": None}
        return render(request, template, context, status=error.http_status)
    messages.success(
        request,
        _("Moved: %(appointment)s. The patient is being emailed.")
        % {"appointment": describe(moved)},
    )
    return _back_to(moved, next_url)


@require_http_methods(["GET", "POST"])
@staff_required
def cancel_day(request: HttpRequest, doctor_id: int, day: str) -> HttpResponse:
    """A sick day: GET shows which appointments would go and asks for the reason (the
    confirm step); POST cancels them all."""
    doctor = staff_doctor_or_404(request.user, doctor_id)
    try:
        local_day = dt.date.fromisoformat(day)
        validate_date_in_range(local_day)
    except (ValueError, ValidationError) as missing:
        raise Http404("No such day.") from missing

    form = SickDayForm(request.POST if request.method == "POST" else None)
    error: DomainError | None = None
    if request.method == "POST" and form.is_valid():
        try:
            cancelled = cancel_doctor_day(
                doctor=doctor,
                day=local_day,
                reason=form.cleaned_data["reason"],
                cancelled_by=_user(request),
            )
        except DomainError as refused:
            error = refused
        else:
            messages.success(
                request,
                ngettext(
                    "Closed the rest of the day and cancelled %(count)d appointment; "
                    "the patient is being emailed.",
                    "Closed the rest of the day and cancelled %(count)d appointments; "
                    "the patients are being emailed.",
                    len(cancelled),
                )
                % {"count": len(cancelled)},
            )
            return _calendar_redirect(doctor, local_day)

    remaining = staff_selectors.remaining_booked_on_day(
        doctor=doctor, day=local_day, now=timezone.now()
    )
    context = {
        "doctor": doctor,
        "clinic": doctor.clinic,
        "day": local_day,
        "form": form,
        "error": error,
        "appointments": list(remaining),
        "is_over": local_day < local_today(doctor.clinic),
    }
    status = error.http_status if error else 400 if form.errors else 200
    return render(request, "appointments/staff/cancel_day.html", context, status=status)


def _calendar_redirect(doctor: Doctor, day: dt.date) -> HttpResponse:
    query: dict[str, str | int] = {
        "clinic": doctor.clinic_id,
        "date": day.isoformat(),
        "doctor": doctor.pk,
    }
    calendar_url = reverse("staff_appointments:calendar")
    return HttpResponseRedirect(f"{calendar_url}?{urlencode(query)}", status=303)


@require_http_methods(["GET", "POST"])
@staff_required
def calendar_feed(request: HttpRequest, doctor_id: int) -> HttpResponse:
    """A doctor's calendar subscription: whether one is live; POST ``action=new`` makes a
    new address (shown once, on this answer; the old one ends), ``action=revoke`` ends it."""
    doctor = staff_doctor_or_404(request.user, doctor_id)
    token = ""
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "new":
            _feed, token = feeds.create_feed(doctor=doctor, created_by=_user(request))
        elif action == "revoke":
            feeds.revoke_feeds(doctor=doctor, revoked_by=_user(request))
            messages.success(request, _("The calendar feed is ended: its address no longer works."))
            url = reverse("staff_appointments:calendar_feed", args=[doctor.pk])
            return HttpResponseRedirect(url, status=303)
        else:
            return render(
                request,
                "appointments/staff/calendar_feed.html",
                {"doctor": doctor, "feed": feeds.live_feed(doctor), "problem": True},
                status=400,
            )
    context = {
        "doctor": doctor,
        "feed": feeds.live_feed(doctor),
        "feed_url": feeds.feed_url(token) if token else "",
        "webcal_url": feeds.webcal_url(token) if token else "",
    }
    response = render(request, "appointments/staff/calendar_feed.html", context)
    if token:
        response["Cache-Control"] = "no-store"  # the address is a key
    return response


@require_GET
@staff_required
def patients(request: HttpRequest) -> HttpResponse:
    """Find a patient who phoned: by name (any order, accents ignored), phone (any
    spelling), email or date of birth, or by the name of someone they book for (a child,
    a relative), who is then named beside them. Coming from a free time on the calendar,
    the booking it started (``?type=&start=``) travels on to the patient chosen."""
    form = PatientSearchForm(request.GET)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    found = staff_selectors.search_patients(request.user, query)
    page = Paginator(found, PATIENTS_PER_PAGE).get_page(request.GET.get("page"))
    offer = _started_booking(request)
    kept = {"q": query} if query else {}
    family = staff_selectors.family_members_found(query, page.object_list)
    context = {
        "form": form,
        "page": page,
        # Each patient found with the family members the query matched (by their name).
        "rows": [(patient, family.get(patient.pk, [])) for patient in page.object_list],
        "page_query": urlencode(kept | _offer_query(offer)),
        "offer": offer,
        "offer_query": urlencode(_offer_query(offer)),
    }
    return render(request, "appointments/staff/patients.html", context)


@require_GET
@staff_required
def patient(request: HttpRequest, patient_id: int) -> HttpResponse:
    """One patient: contact details, their appointments at the user's clinics (upcoming,
    then past with their outcome), and the way to book for them."""
    found = get_object_or_404(
        staff_selectors.patients_for_staff(request.user).select_related("user"), pk=patient_id
    )
    record = staff_selectors.patient_record(request.user, found, timezone.now())
    return render(
        request,
        "appointments/staff/patient.html",
        {"patient": found, "record": record, "dependants": dependants_of(found)},
    )


@require_http_methods(["GET", "POST"])
@staff_required
def new_patient(request: HttpRequest) -> HttpResponse:
    region = staff_selectors.phone_region(request.user)
    form = NewPatientForm(request.POST if request.method == "POST" else None, region=region)
    offer = _started_booking(request)
    if request.method == "POST" and form.is_valid():
        try:
            registered = create_patient(**form.cleaned_data, region=region)
        except EmailTaken as error:
            form.add_error("email", error.message)
        else:
            messages.success(request, _("Registered %(name)s.") % {"name": registered.full_name})
            url = reverse("staff_appointments:book_for_patient", args=[registered.pk])
            if offer is not None:
                url += "?" + urlencode(_offer_query(offer))
            return HttpResponseRedirect(url, status=303)
    status = 400 if form.errors else 200
    context = {"form": form, "offer": offer, "offer_query": urlencode(_offer_query(offer))}
    return render(request, "appointments/staff/new_patient.html", context, status=status)


def _started_booking(request: HttpRequest) -> staff_selectors.StartedBooking | None:
    """The doctor, type and time a free time on the calendar chose (``?type=&start=``),
    if they are one of the user's clinics' bookable types; None otherwise."""
    query = StaffBookingQueryForm(request.GET)
    if not query.is_valid() or not query.cleaned_data["type"] or not query.cleaned_data["start"]:
        return None
    appointment_type = (
        staff_selectors.bookable_types_for_staff(request.user)
        .filter(pk=query.cleaned_data["type"])
        .first()
    )
    if appointment_type is None:
        return None
    return staff_selectors.StartedBooking(appointment_type, query.cleaned_data["start"])


def _offer_query(offer: staff_selectors.StartedBooking | None) -> dict[str, str]:
    if offer is None:
        return {}
    return {"type": str(offer.appointment_type.pk), "start": offer.start_param}


@require_http_methods(["GET", "POST"])
@staff_required
def book_for_patient(request: HtmxHttpRequest, patient_id: int) -> HttpResponse:
    """Book for a patient on the phone, in three steps on one page: choose the doctor and
    type, then a free time from a week of them, then confirm: who the visit is for (the
    patient or one of their family members, whom staff can add there and then) and why.
    The booking rules hold per person (``book_appointment``)."""
    patient = get_object_or_404(
        staff_selectors.patients_for_staff(request.user).select_related("user"), pk=patient_id
    )
    template = "appointments/staff/book.html"
    context: dict[str, object] = {"patient": patient}
    query = StaffBookingQueryForm(request.GET)
    if not query.is_valid():
        problems = [error for errors in query.errors.values() for error in errors]
        return render(request, template, context | {"problems": problems}, status=400)

    types = staff_selectors.bookable_types_for_staff(request.user)
    if query.cleaned_data["type"] is None:
        picker = DoctorPickerForm(request.GET)
        wanted = picker.cleaned_data if picker.is_valid() else {"doctor": "", "specialty": ""}
        found = staff_selectors.doctors_to_book(
            request.user, name=wanted["doctor"], specialty=wanted["specialty"]
        )
        first_free = (
            staff_selectors.first_free_in_specialty(found, timezone.now())
            if wanted["specialty"]
            else None
        )
        return render(
            request,
            template,
            context
            | {
                "picker": picker,
                "found": found,
                "first_free": first_free,
                "specialties": staff_selectors.specialties_for_staff(request.user),
                "searched": bool(wanted["doctor"] or wanted["specialty"]),
            },
        )
    try:
        appointment_type = types.get(pk=query.cleaned_data["type"])
    except AppointmentType.DoesNotExist as missing:
        raise Http404("No such appointment type at your clinics.") from missing
    doctor = appointment_type.doctor
    context |= {"appointment_type": appointment_type, "doctor": doctor, "clinic": doctor.clinic}

    starts_at = query.cleaned_data["start"]
    if starts_at is None:
        week = free_times.free_week(
            doctor=doctor, appointment_type=appointment_type, day=query.cleaned_data["week"]
        )
        links = query_url("staff_appointments:book_for_patient", patient.pk, type=appointment_type)
        return render(
            request, template, context | {"week": week, "nav_url": links, "slot_url": links}
        )

    context |= {"starts_at": starts_at, "person_form": FamilyMemberForm()}
    if request.method == "GET":
        initial = {"booking_key": new_booking_key(), "for_whom": ""}
        form = StaffBookingForm(initial=initial, patient=patient)
        return render(request, template, context | {"form": form})
    if request.POST.get("action") == "add-person":
        return _add_family_member(request, patient, template, context)
    form = StaffBookingForm(request.POST, patient=patient)
    context["form"] = form
    if not form.is_valid():
        return render(request, template, context, status=400)
    try:
        appointment = book_appointment(
            patient=patient,
            dependant=form.cleaned_data["for_whom"],
            doctor=doctor,
            appointment_type=appointment_type,
            starts_at=starts_at,
            reason=form.cleaned_data["reason"],
            booked_by=_user(request),
            booking_key=form.cleaned_data["booking_key"],
        )
    except DomainError as error:
        context |= {"error": error, "form": None}
        return render(request, template, context, status=error.http_status)
    messages.success(
        request,
        _("Booked for %(person)s: %(appointment)s.")
        % {"person": appointment.for_whom, "appointment": describe(appointment)},
    )
    return _back_to(appointment)


def _add_family_member(
    request: HtmxHttpRequest, patient: Patient, template: str, context: dict[str, object]
) -> HttpResponse:
    """The confirm step's "Add" button: a family member of ``patient`` added on the phone,
    then the same step again with them chosen, and the reason typed so far and the form's
    one-time key kept. htmx swaps only the "who is it for" part (``#for-whom``)."""
    person_form = FamilyMemberForm(request.POST)
    added = None
    if person_form.is_valid():
        added = add_family_member(patient=patient, **person_form.cleaned_data)
        person_form = FamilyMemberForm()
    posted_key = request.POST.get("booking_key", "")
    initial = {
        "booking_key": posted_key if BOOKING_KEY.fullmatch(posted_key) else new_booking_key(),
        "reason": request.POST.get("reason", ""),
        "for_whom": added.pk if added else request.POST.get("for_whom", ""),
    }
    context |= {
        "form": StaffBookingForm(initial=initial, patient=patient),
        "person_form": person_form,
        "added": added,
    }
    if wants_fragment(request):
        template += "#for-whom"
    return render(request, template, context, status=400 if person_form.errors else 200)


def _render_detail(
    request: HttpRequest,
    appointment: Appointment,
    *,
    cancel_form: StaffCancelForm | None = None,
    error: DomainError | None = None,
    problem: str = "",
    status: int = 200,
) -> HttpResponse:
    context = {
        "record": staff_selectors.appointment_record(appointment),
        "appointment": appointment,
        "clinic": appointment.doctor.clinic,
        "can_mark_attendance": staff_selectors.can_mark_attendance(appointment, timezone.now()),
        "can_correct_attendance": staff_selectors.can_correct_attendance(
            appointment, timezone.now()
        ),
        "cancel_form": cancel_form or StaffCancelForm(),
        "problem": error.message if error is not None else problem,
    }
    if error is not None:
        status = error.http_status
    elif problem:
        status = 400
    return render(request, "appointments/staff/detail.html", context, status=status)


def _staff_appointment(request: HttpRequest, pk: int) -> Appointment:
    return selectors.visible_appointment_or_404(_user(request), pk)


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # staff_required let only a signed-in user through
    return user


def _back_to(appointment: Appointment, next_url: str | None = None) -> HttpResponse:
    url = next_url or reverse("staff_appointments:detail", args=[appointment.pk])
    return HttpResponseRedirect(url, status=303)
