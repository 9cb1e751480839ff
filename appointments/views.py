"""The patient's pages: finding a doctor and a free time, booking, My appointments.

Each view parses its input, asks one selector or calls one service, and renders; the
booking rules live in ``services.py`` and reach the page as a ``DomainError`` (a
``BookingError``, or ``Busy`` when a lock was not granted in time) whose message is shown
as it is, with the error's own status. After a successful POST a plain form gets a 303 to
the appointment; an htmx form gets ``HX-Redirect`` so that the browser loads the page
whole (htmx would otherwise follow the 303 inside its request and swap a full page into
the form).
"""

import datetime as dt
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods
from django_htmx.http import HttpResponseClientRedirect

from accounts.decorators import current_patient, patient_required
from accounts.models import User
from accounts.selectors import dependants_of
from appointments import feeds, free_times, selectors
from appointments import search as free_time_search
from appointments.calendar import appointment_calendar, doctor_feed
from appointments.exceptions import (
    ChangeWindowClosed,
    NotBookable,
    PatientOverlap,
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
from clinic.answers import (
    answer_key,
    earliest,
    keep_answer,
    kept_answer,
    next_date_change,
    render_with_placeholder,
)
from clinic.errors import DomainError
from clinic.fragments import fingerprint, row_facts
from clinic.htmx import HtmxHttpRequest, wants_fragment
from clinic.local_time import local_format
from clinic.templatetags.memo import visitor_kind
from scheduling import selectors as scheduling_selectors
from scheduling.availability import Interval
from scheduling.context_processors import header_name
from scheduling.forms import search_form, search_query
from scheduling.models import AppointmentType, Doctor

# Monday 9 March 2026, 10:00 CET; Montag, 9. März 2026, 10:00 CET (clinic/formats).
LOCAL_TIME_FORMAT = "WEEKDAY_DATETIME_ZONE_FORMAT"
# How far ahead the list of doctors looks for each one's next free time.
NEXT_FREE_DAYS = 14
# Doctors per page of the list: a screenful on a phone, and it bounds the availability
# work of one request whatever the size of the clinic.
DOCTORS_PER_PAGE = 12
# The search page: the first 200 times of 31 days from the date (or from today), 20 a page.
SEARCH_DAYS = dt.timedelta(days=30)
SEARCH_RESULTS = 200
SEARCH_PER_PAGE = 20


def doctor_list(request: HtmxHttpRequest) -> HttpResponse:
    name = request.GET.get("q", "").strip()[:100]
    specialty = request.GET.get("specialty", "")
    clinic_slug = request.GET.get("clinic", "")
    language = request.GET.get("language", "")
    filters = scheduling_selectors.DoctorFilters(
        name=name, specialty=specialty, clinic_slug=clinic_slug, language=language
    )
    # The page's doctors as plain rows with their count, in one query: what the key of
    # the whole answer needs (clinic/answers.py). Only a miss loads the doctors themselves.
    page_number = request.GET.get("page")
    rows = scheduling_selectors.ListedDoctorRows(
        filters,
        scheduling_selectors.LISTED_DOCTOR_KEY_COLUMNS,
        page=page_number,
        per_page=DOCTORS_PER_PAGE,
    )
    page = Paginator(rows, DOCTORS_PER_PAGE).get_page(page_number)
    now = timezone.now()
    key = page_answer_key(
        "doctor-list",
        request,
        tuple(page.object_list),
        page.number,
        page.paginator.count,
    )
    # A visitor's own flash messages are shown on the page they reach: never kept or
    # replaced by a kept page.
    keepable = not len(messages.get_messages(request))
    if keepable and (kept := kept_answer(key, request)) is not None:
        patch_vary_headers(kept, ["HX-Request"])
        return kept

    ids = [row[0] for row in page.object_list]
    loaded = scheduling_selectors.bookable_doctors().in_bulk(ids)
    listed = [loaded[pk] for pk in ids if pk in loaded]
    next_free = free_times.next_free_slots(listed, days=NEXT_FREE_DAYS, now=now)
    template_name = "appointments/doctor_list.html"
    if wants_fragment(request):
        template_name += "#results"
    results = [(doctor, next_free[doctor.pk]) for doctor in listed]
    page_query = urlencode(
        {key: str(value) for key, value in request.GET.items() if key != "page" and value}
    )
    clinics = scheduling_selectors.clinics()
    searched = bool(name or specialty or clinic_slug or language)
    # Where to look for a doctor with nothing free in those days.
    later = now.date() + dt.timedelta(days=NEXT_FREE_DAYS)
    context = {
        "results": results,
        # Everything the results show (clinic/fragments.py).
        "results_key": fingerprint(
            [(doctor_facts(doctor), slot and slot.start) for doctor, slot in results],
            (page.number, page.paginator.num_pages, page.paginator.count, page_query),
            (len(clinics) > 1, searched, NEXT_FREE_DAYS, later, bool(request.htmx)),
        ),
        "page": page,
        "page_query": page_query,
        "clinics": clinics,
        "specialties": scheduling_selectors.specialties(),
        "languages": scheduling_selectors.spoken_languages(),
        "q": name,
        "specialty": specialty,
        "language": language,
        "clinic_slug": clinic_slug,
        "searched": searched,
        "days": NEXT_FREE_DAYS,
        "later": later,
    }
    if not keepable:
        response = render(request, template_name, context)
        patch_vary_headers(response, ["HX-Request"])
        return response
    response = HttpResponse(render_with_placeholder(request, template_name, context))
    patch_vary_headers(response, ["HX-Request"])
    return keep_answer(key, response, until=_list_changes_at(results, now), request=request)


def _list_changes_at(
    results: list[tuple[Doctor, Interval | None]], now: dt.datetime
) -> dt.datetime | None:
    """When the clock alone changes the doctor list: a next free time shown comes within
    the minimum notice, or a clinic's day (or UTC's, the date of "see later times")
    changes, moving the fortnight looked at. A horizon shorter than that fortnight would
    let new times in at any moment: such a list is not kept (``now``)."""
    if any(
        doctor.clinic.booking_horizon < dt.timedelta(days=NEXT_FREE_DAYS) for doctor, _ in results
    ):
        return now
    zones = {doctor.clinic.zone for doctor, _ in results} | {ZoneInfo("UTC")}
    return earliest(
        *(slot.start - doctor.clinic.min_notice for doctor, slot in results if slot),
        *(next_date_change(zone, now) for zone in zones),
    )


def search(request: HtmxHttpRequest) -> HttpResponse:
    """The soonest free times across doctors, or those from a chosen date: a GET form
    that works without JavaScript; with htmx a change swaps only the results."""
    clinics = scheduling_selectors.clinics()
    # What the form makes of the query, without the form: only a miss renders it.
    wanted = search_query(request.GET)
    found: list[free_time_search.FoundTime] = []
    status = 200
    key, until = "", None
    if wanted is None:
        status = 400
    else:
        first_day = wanted.get("date")
        last_day = first_day + SEARCH_DAYS if first_day else None
        # The doctors searched as plain rows (one query): the key of the whole answer
        # (clinic/answers.py); only a miss searches.
        rows = scheduling_selectors.listed_doctor_rows(
            scheduling_selectors.DoctorFilters(
                specialty=wanted.get("specialty", ""),
                clinic_slug=wanted.get("clinic", ""),
                language=wanted.get("language", ""),
            ),
            scheduling_selectors.LISTED_DOCTOR_KEY_COLUMNS,
        )
        key = page_answer_key("search-page", request, rows)
        if not len(messages.get_messages(request)):
            if (kept := kept_answer(key, request)) is not None:
                patch_vary_headers(kept, ["HX-Request"])
                return kept
        else:  # a visitor's own flash messages: neither kept nor hidden by a kept page
            key = ""
        now = timezone.now()
        found = free_time_search.search_free_times(
            specialty=wanted.get("specialty", ""),
            clinic_slug=wanted.get("clinic", ""),
            language=wanted.get("language", ""),
            type_name=wanted.get("type_name", ""),
            first_day=first_day,
            last_day=last_day,
            limit=SEARCH_RESULTS,
            now=now,
        )
        until = free_time_search.search_changes_at(
            clinics=free_time_search.searched_clinics(rows),
            found=found,
            first_day=first_day,
            last_day=last_day,
            now=now,
        )
    form = search_form(request.GET, clinics=clinics)
    page = Paginator(found, SEARCH_PER_PAGE).get_page(request.GET.get("page"))
    template_name = "appointments/search.html"
    if wants_fragment(request):
        template_name += "#search-results"
    results = [(each, booking_url(each.doctor, each.appointment_type)) for each in page]
    page_query = urlencode(
        {key: str(value) for key, value in request.GET.items() if key != "page" and value}
    )
    context = {
        "form": form,
        "page": page,
        "results": results,
        # Everything the results show (clinic/fragments.py).
        "results_key": fingerprint(
            [
                (doctor_facts(each.doctor), row_facts(each.appointment_type), each.start, url)
                for each, url in results
            ],
            (page.number, page.paginator.num_pages, page.paginator.count, page_query),
            (len(clinics) > 1, SEARCH_RESULTS, bool(form.errors)),
        ),
        "several_clinics": len(clinics) > 1,
        "search_results": SEARCH_RESULTS,
        "page_query": page_query,
    }
    if not key:  # refused, or with messages: this request's page alone
        response = render(request, template_name, context, status=status)
        patch_vary_headers(response, ["HX-Request"])
        return response
    response = HttpResponse(render_with_placeholder(request, template_name, context))
    patch_vary_headers(response, ["HX-Request"])
    return keep_answer(key, response, until=until, request=request)


def doctor_detail(request: HtmxHttpRequest, doctor_id: int) -> HttpResponse:
    # The doctor, clinic and types in one query, and with them the kept page's key.
    facts = scheduling_selectors.bookable_doctor_facts(doctor_id)
    if facts is None:
        raise Http404("No such doctor.")
    doctor = facts.doctor
    types = scheduling_selectors.active_types(doctor)
    appointment_type = chosen_type(types, request.GET.get("type", ""))
    week_form = WeekForm(request.GET)
    day = week_form.cleaned_data["week"] if week_form.is_valid() else None
    template_name = "appointments/doctor_detail.html"
    key = None
    if appointment_type is not None and not request.htmx and not messages.get_messages(request):
        key = doctor_page_key(request, facts, appointment_type, day)
        kept = kept_answer(key, request)
        if kept is not None:
            patch_vary_headers(kept, ["HX-Request"])
            return kept
    week = (
        free_times.free_week(doctor=doctor, appointment_type=appointment_type, day=day)
        if appointment_type
        else None
    )
    if wants_fragment(request):
        template_name += "#slot-list"
    context = {
        "doctor": doctor,
        "clinic": doctor.clinic,
        "types": types,
        "appointment_type": appointment_type,
        "week": week,
        "nav_url": query_url("appointments:doctor", doctor.pk, type=appointment_type),
        "slot_url": booking_url(doctor, appointment_type),
    }
    if key is not None and week is not None:
        response = HttpResponse(render_with_placeholder(request, template_name, context))
        keep_answer(key, response, until=week.changes_at, request=request)
    else:
        response = render(request, template_name, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def page_answer_key(kind: str, request: HtmxHttpRequest, *parts: object) -> str:
    """The key of a list page kept whole (clinic/answers.py): ``parts`` (the rows shown)
    and what every such page depends on besides them: the address asked for, whether a
    fragment or htmx asked, the kind of visitor and the catalogue (the form's choices,
    the header's name); the language is part of every key."""
    return answer_key(
        kind,
        request.get_host(),
        request.get_full_path(),
        wants_fragment(request),
        bool(request.htmx),
        visitor_kind(request.user),
        scheduling_selectors.catalogue_digest(),
        *parts,
    )


def doctor_page_key(
    request: HttpRequest,
    facts: scheduling_selectors.DoctorFacts,
    appointment_type: AppointmentType,
    day: dt.date | None,
) -> str:
    """The key of a doctor's whole page (clinic/answers.py): the doctor, clinic and types
    (every column, the availability version among them), the type and the week asked
    for (today's when none), the path, and what the page shell shows of the visitor:
    the kind of visitor and the header's name (the language is part of every key). The
    clock's part (the week moved into the booking window, "today") is the entry's end,
    ``FreeWeek.changes_at``. Nothing else of the visitor is on the page: their CSRF
    token is put in per request, and a request with messages to show is never kept."""
    week = scheduling_selectors.monday_of(
        day or scheduling_selectors.local_today(facts.doctor.clinic)
    )
    return answer_key(
        "doctor-page",
        facts.digest,
        appointment_type.pk,
        week,
        request.path,
        visitor_kind(request.user),
        header_name(),
    )


def doctor_facts(doctor: Doctor) -> tuple[object, ...]:
    """What a list may show of a doctor: their row (but the availability version, which
    the times shown stand for), their clinic's and their active types'."""
    return (
        row_facts(doctor, exclude=("availability_version",)),
        row_facts(doctor.clinic),
        tuple(row_facts(kind) for kind in scheduling_selectors.active_types(doctor)),
    )


def query_url(name: str, *args: object, **query: object) -> str:
    """The address of the URL ``name`` with ``query`` (model instances as their keys),
    ready for one more parameter: ``/doctors/5/?type=3&``, as the week partial
    (appointments/_free_week.html) takes its links."""
    values = {key: str(getattr(value, "pk", value)) for key, value in query.items() if value}
    return f"{reverse(name, args=args)}?{urlencode(values)}{'&' if values else ''}"


def booking_url(doctor: Doctor, appointment_type: AppointmentType | None) -> str:
    """Where a patient's free time leads: the confirm page, up to the time."""
    return query_url("appointments:book", doctor=doctor, type=appointment_type)


def chosen_type(types: list[AppointmentType], requested: str) -> AppointmentType | None:
    """The requested type if it is one of the doctor's active types, else the first: an
    old link to a retired type still shows the doctor's times."""
    for appointment_type in types:
        if str(appointment_type.pk) == requested:
            return appointment_type
    return types[0] if types else None


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
            if own := selectors.own_booking_of(patient, offer):
                # Back after booking, or the same time booked in another tab: theirs.
                return render(request, template, context | {"own_booking": own})
            return _booking_refused(request, template, context, offer, SlotUnavailable())
        dependants = dependants_of(patient)
        initial: dict[str, object] = {"booking_key": new_booking_key()}
        # Back from adding someone to book for (accounts.views.dependant_add): them.
        chosen = request.GET.get("for", "")
        if chosen.isdigit() and dependants.filter(pk=int(chosen)).exists():
            initial["for_whom"] = int(chosen)
        context["form"] = BookingForm(initial=initial, dependants=dependants)
        return render(request, template, context)

    form = BookingForm(request.POST, dependants=dependants_of(patient))
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
            dependant=form.cleaned_data.get("for_whom"),
        )
    except DomainError as error:
        if isinstance(error, SlotUnavailable | PatientOverlap) and (
            own := selectors.own_booking_of(patient, offer)
        ):
            # Booked already from another tab (another form, another booking key).
            return render(request, template, context | {"own_booking": own, "form": None})
        return _booking_refused(request, template, context, offer, error)
    if appointment.is_cancelled:
        # This form was sent before (the same booking key): its booking was made then and
        # has been cancelled since. Say so rather than "Booked".
        messages.info(request, _("This booking was made earlier and has since been cancelled."))
    else:
        messages.success(
            request, _("Booked: %(appointment)s.") % {"appointment": describe(appointment)}
        )
    return _go_to_appointment(request, appointment)


def _booking_refused(
    request: HttpRequest,
    template: str,
    context: dict[str, object],
    offer: selectors.BookingOffer,
    error: DomainError,
) -> HttpResponse:
    other_times = free_times.free_week(
        doctor=offer.doctor,
        appointment_type=offer.appointment_type,
        day=offer.starts_at.astimezone(offer.clinic.zone).date(),
    )
    context |= {
        "error": error,
        "other_times": other_times,
        "form": None,
        # The other weeks are on the doctor's page.
        "nav_url": query_url("appointments:doctor", offer.doctor.pk, type=offer.appointment_type),
        "slot_url": booking_url(offer.doctor, offer.appointment_type),
    }
    return render(request, template, context, status=error.http_status)


@patient_required
@require_GET
def appointment_list(request: HtmxHttpRequest) -> HttpResponse:
    upcoming, past = selectors.patient_appointments(
        _user(request), timezone.now(), page=request.GET.get("page")
    )
    # The page is kept whole per process (CACHES["process"]: it names the people the
    # patient books for) under every value the list shows (the rows, the page, the
    # language) and what the shell shows (page_answer_key): read-your-writes holds, as the
    # rows are read on every request. Nothing else on it depends on the clock.
    list_key = fingerprint(upcoming, past)
    key = page_answer_key("my-appointments", request, list_key)
    # A visitor's own flash messages: neither kept nor hidden by a kept page.
    keepable = not len(messages.get_messages(request))
    if keepable and (kept := kept_answer(key, request, using="process")) is not None:
        return kept
    context = {"upcoming": upcoming, "past": past, "list_key": list_key}
    if not keepable:
        return render(request, "appointments/list.html", context)
    response = HttpResponse(render_with_placeholder(request, "appointments/list.html", context))
    return keep_answer(key, response, until=None, request=request, using="process")


@patient_required
@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    appointment = _own_appointment(request, pk)
    return _render_detail(request, appointment, CancelForm())


@patient_required
@require_http_methods(["GET", "POST"])
def cancel(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """GET asks to confirm (a page of its own, which needs no JavaScript); the POST
    cancels."""
    appointment = _own_appointment(request, pk)
    if request.method == "GET":
        return _render_detail(request, appointment, CancelForm(), confirm_cancel=True)
    form = CancelForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, appointment, form, status=400, confirm_cancel=True)
    try:
        cancelled = cancel_appointment(
            appointment=appointment,
            cancelled_by=_user(request),
            reason=form.cleaned_data["reason"],
        )
    except DomainError as error:
        return _render_detail(request, appointment, form, error=error)
    # Cancelling a cancelled appointment returns it unchanged: a retried POST lands here too.
    messages.success(
        request, _("Cancelled: %(appointment)s.") % {"appointment": describe(cancelled)}
    )
    return _go_to_appointment(request, cancelled)


def _render_detail(
    request: HttpRequest,
    appointment: Appointment,
    cancel_form: CancelForm,
    *,
    error: DomainError | None = None,
    status: int = 200,
    confirm_cancel: bool = False,
) -> HttpResponse:
    now = timezone.now()
    context = {
        "confirm_cancel": confirm_cancel,
        "appointment": appointment,
        "clinic": appointment.doctor.clinic,
        "can_change": selectors.can_change_online(appointment, now),
        "must_call": selectors.must_call_to_change(appointment, now),
        "too_late_message": ChangeWindowClosed().message,
        "cancel_form": cancel_form,
        "error": error,
    }
    if error is not None:
        status = error.http_status
    return render(request, "appointments/detail.html", context, status=status)


@patient_required
@require_http_methods(["GET", "POST"])
def reschedule(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Three steps, as cancelling asks first: a week of free times (``?week=``; htmx swaps
    only ``#slot-list``) whose times are links; the chosen time (``?start=``) asks to
    confirm on a page of its own, which needs no JavaScript; the POST (``start`` in the
    form) moves it. Choosing moves nothing. A time taken meanwhile, or not offered at
    all, is said on the confirm step and again by the service on the POST."""
    appointment = _own_appointment(request, pk)
    now = timezone.now()
    if request.method == "GET" and not selectors.can_change_online(appointment, now):
        # The details page says why (too late: call the clinic; cancelled: nothing to do).
        return HttpResponseRedirect(reverse("appointments:detail", args=[pk]))

    clinic = appointment.doctor.clinic
    week_form = WeekForm(request.GET)
    chosen_day = week_form.cleaned_data["week"] if week_form.is_valid() else None
    status = 200 if week_form.is_valid() else 400
    error: DomainError | None = None
    problem = "" if week_form.is_valid() else week_form.errors["week"][0]
    new_start: dt.datetime | None = None
    template = "appointments/reschedule.html"

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
            except DomainError as refused:
                error, status = refused, refused.http_status
                chosen_day = starts_at.astimezone(clinic.zone).date()
            else:
                messages.success(
                    request, _("Rescheduled: %(appointment)s.") % {"appointment": describe(moved)}
                )
                return _go_to_appointment(request, moved)
    elif "start" in request.GET:
        # The confirm step: ask only about a time the service would take now.
        form = RescheduleForm(request.GET)
        if not form.is_valid():
            problem, status = form.errors["start"][0], 400
        else:
            starts_at = form.cleaned_data["start"]
            chosen_day = starts_at.astimezone(clinic.zone).date()
            if starts_at == appointment.starts_at:
                problem = _("Your appointment is at this time already.")
            elif selectors.is_free_to_move_to(appointment, starts_at, now):
                new_start = starts_at
            else:
                error = SlotUnavailable()
                status = error.http_status

    week = None
    if new_start is None and selectors.can_change_online(appointment, now):
        week = free_times.free_week(
            doctor=appointment.doctor,
            appointment_type=appointment.appointment_type,
            day=chosen_day or appointment.starts_at.astimezone(clinic.zone).date(),
            ignore_appointment_id=appointment.pk,
        )
    context = {
        "appointment": appointment,
        "clinic": clinic,
        "week": week,
        "new_start": new_start,
        "error": error,
        "problem": problem,
        "must_call": selectors.must_call_to_change(appointment, now),
        "slot_url": query_url("appointments:reschedule", appointment.pk),
    }
    if request.method == "GET" and "start" not in request.GET and wants_fragment(request):
        template += "#slot-list"
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


@patient_required
@require_GET
def calendar_file(request: HttpRequest, pk: int) -> HttpResponse:
    appointment = _own_appointment(request, pk)
    # The iTIP method in the Content-Type too (RFC 6047 §2.4), as in the emailed invites.
    response = HttpResponse(
        appointment_calendar(appointment),
        content_type="text/calendar; charset=utf-8; method=PUBLISH",
    )
    response["Content-Disposition"] = f'attachment; filename="appointment-{appointment.pk}.ics"'
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """A doctor's calendar subscription: no sign-in, the token is the key; a revoked or
    unknown one is a 404."""
    feed = feeds.feed_by_token(token)
    if feed is None:
        raise Http404("No such calendar feed.")
    body = doctor_feed(feed.doctor, feeds.feed_appointments(feed, timezone.now()))
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="appointments.ics"'
    response["Cache-Control"] = "private, max-age=300"
    response["X-Robots-Tag"] = "noindex"
    return response


def describe(appointment: Appointment) -> str:
    """'Consultation with Dr. Anna Weber on Monday 9 March 2026, 10:00 CET', in the active
    language."""
    when = local_format(appointment.starts_at, LOCAL_TIME_FORMAT, appointment.doctor.clinic.zone)
    return _("%(type)s with %(doctor)s on %(when)s") % {
        "type": appointment.appointment_type.name,
        "doctor": appointment.doctor.name,
        "when": when,
    }


def _own_appointment(request: HttpRequest, pk: int) -> Appointment:
    # Another patient's appointment is "not found", not "forbidden": ids reveal nothing.
    return selectors.visible_appointment_or_404(_user(request), pk)


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # patient_required let only a logged-in user through
    return user


def _go_to_appointment(request: HtmxHttpRequest, appointment: Appointment) -> HttpResponse:
    url = reverse("appointments:detail", args=[appointment.pk])
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return HttpResponseRedirect(url, status=303)
