import datetime as dt
from zoneinfo import ZoneInfo

from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import urlencode
from django_htmx.middleware import HtmxDetails

from scheduling import selectors
from scheduling.models import AppointmentType, Clinic, Doctor


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


# How far ahead the list of doctors looks for each one's next free time.
NEXT_FREE_DAYS = 14
# Doctors per page of the list: a screenful on a phone, and it bounds the availability
# work of one request whatever the size of the clinic.
DOCTORS_PER_PAGE = 12


def home(request: HttpRequest) -> HttpResponse:
    # Three queries whatever the number of clinics and doctors: clinics, their active
    # doctors, those doctors' active appointment types.
    active_types = Prefetch(
        "appointment_types",
        queryset=AppointmentType.objects.filter(is_active=True),
        to_attr="active_types",
    )
    active_doctors = Prefetch(
        "doctors",
        queryset=Doctor.objects.filter(is_active=True).prefetch_related(active_types),
        to_attr="active_doctors",
    )
    clinics = list(Clinic.objects.prefetch_related(active_doctors))
    return render(request, "scheduling/home.html", {"clinics": clinics})


def doctor_list(request: HtmxHttpRequest) -> HttpResponse:
    name = request.GET.get("q", "").strip()[:100]
    specialty = request.GET.get("specialty", "")
    clinic_slug = request.GET.get("clinic", "")
    doctors = selectors.find_doctors(name=name, specialty=specialty, clinic_slug=clinic_slug)
    page = Paginator(doctors, DOCTORS_PER_PAGE).get_page(request.GET.get("page"))
    next_free = selectors.next_free_slots(list(page), days=NEXT_FREE_DAYS)
    template_name = "scheduling/doctor_list.html"
    if wants_fragment(request):
        template_name += "#results"
    response = render(
        request,
        template_name,
        {
            "results": [(doctor, next_free[doctor.pk]) for doctor in page],
            "page": page,
            "page_query": urlencode(
                {key: str(value) for key, value in request.GET.items() if key != "page" and value}
            ),
            "clinics": list(Clinic.objects.all()),
            "specialties": selectors.specialties(),
            "q": name,
            "specialty": specialty,
            "clinic_slug": clinic_slug,
            "searched": bool(name or specialty or clinic_slug),
            "days": NEXT_FREE_DAYS,
            # Where to look for a doctor with nothing free in those days.
            "later": timezone.now().date() + dt.timedelta(days=NEXT_FREE_DAYS),
        },
    )
    patch_vary_headers(response, ["HX-Request"])
    return response


def doctor_detail(request: HtmxHttpRequest, doctor_id: int) -> HttpResponse:
    doctor = get_object_or_404(selectors.bookable_doctors(), pk=doctor_id)
    clinic = doctor.clinic
    types = selectors.active_types(doctor)
    appointment_type = chosen_type(types, request.GET.get("type", ""))
    first_week, last_week = selectors.booking_weeks(clinic)
    week_start = chosen_week(request.GET.get("week", ""), first_week, last_week)
    days = (
        selectors.week_of_slots(
            doctor=doctor, appointment_type=appointment_type, week_start=week_start
        )
        if appointment_type
        else []
    )
    template_name = "scheduling/doctor_detail.html"
    if wants_fragment(request):
        template_name += "#slot-list"
    one_week = dt.timedelta(days=7)
    response = render(
        request,
        template_name,
        {
            "doctor": doctor,
            "clinic": clinic,
            "types": types,
            "appointment_type": appointment_type,
            "days": days,
            "week_start": week_start,
            "week_end": week_start + dt.timedelta(days=6),
            "previous_week": week_start - one_week if week_start > first_week else None,
            "next_week": week_start + one_week if week_start < last_week else None,
            "zone_note": zone_note(clinic.zone, week_start),
            "book_url": reverse("appointments:book"),
        },
    )
    patch_vary_headers(response, ["HX-Request"])
    return response


def wants_fragment(request: HtmxHttpRequest) -> bool:
    # After htmx has pushed a URL, going back to it with htmx's history cache missed
    # asks for it again, marked as a history restore: that needs the whole page.
    return bool(request.htmx) and not request.htmx.history_restore_request


def chosen_type(types: list[AppointmentType], requested: str) -> AppointmentType | None:
    """The requested type if it is one of the doctor's active types, else the first: an
    old link to a retired type still shows the doctor's times."""
    for appointment_type in types:
        if str(appointment_type.pk) == requested:
            return appointment_type
    return types[0] if types else None


def chosen_week(requested: str, first_week: dt.date, last_week: dt.date) -> dt.date:
    """The Monday of the requested date's week, kept within the weeks that can be booked;
    this week when the date is missing or not a date."""
    try:
        week = selectors.monday_of(dt.date.fromisoformat(requested))
    except ValueError:
        return first_week
    return min(max(week, first_week), last_week)


def zone_note(zone: ZoneInfo, week_start: dt.date) -> str:
    """'Berlin time (CET)'; in a week with a clock change, 'Berlin time (CET, and CEST
    from Sunday 29 March)'."""
    place = str(zone).rsplit("/", 1)[-1].replace("_", " ")
    names: list[str] = []
    previous = ""
    for offset in range(7):
        day = week_start + dt.timedelta(days=offset)
        # Noon: clocks change at night, so noon has the abbreviation of the day.
        name = dt.datetime.combine(day, dt.time(12), tzinfo=zone).tzname() or ""
        if not names:
            names.append(name)
        elif name != previous:
            names.append(f"{name} from {day:%A} {day.day} {day:%B}")
        previous = name
    return f"{place} time ({', and '.join(names)})"
