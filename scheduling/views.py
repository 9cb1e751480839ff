"""The home page: the search, the specialties and the clinics; the clinics' legal pages.
Finding a free time is the appointments app's (``appointments.views.search``,
``doctor_list``, ``doctor_detail``)."""

import datetime as dt

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from clinic.answers import answer_key, keep_answer, kept_answer, render_with_placeholder
from clinic.templatetags.memo import visitor_kind
from scheduling import selectors
from scheduling.forms import search_form
from scheduling.models import Clinic, LegalDocument


def home(request: HttpRequest) -> HttpResponse:
    """The search first, then the specialties (each a link to its soonest times and to
    its doctors) and the clinics: a page whose size does not grow with the number of
    doctors, in a few queries whatever their number.

    Kept whole (clinic/answers.py, docs/performance.md "The home page, kept whole"):
    everything it shows is the catalogue's (the clinics with their contact facts and
    active doctors, the specialties, the form's choices: ``catalogue_digest``), the kind
    of visitor and the language; the one clinic's page also shows its wall clock to the
    minute, so that one is kept until the next minute."""
    catalogue = selectors.catalogue()
    clinics = list(catalogue.clinics_by_name)
    key = answer_key(
        "home",
        request.get_host(),
        request.get_full_path(),
        bool(getattr(request, "htmx", False)),
        visitor_kind(request.user),
        selectors.catalogue_digest(),
    )
    # A visitor's own flash messages are shown on the page they reach: never kept.
    keepable = not len(messages.get_messages(request))
    if keepable and (kept := kept_answer(key, request)) is not None:
        return kept
    context = {
        "clinics": clinics,
        "several_clinics": len(clinics) > 1,
        "form": search_form(clinics=clinics),
        "home": True,
        "specialties": selectors.specialty_counts(),
    }
    if not keepable:
        return render(request, "scheduling/home.html", context)
    response = HttpResponse(render_with_placeholder(request, "scheduling/home.html", context))
    return keep_answer(key, response, until=_clock_shown_until(clinics), request=request)


def _clock_shown_until(clinics: list[Clinic]) -> dt.datetime | None:
    """When the page's clock (one clinic's local time, to the minute) moves on; None
    when there is no clock (no clinic, or a list of them)."""
    if len(clinics) != 1:
        return None
    now = timezone.now()
    return now.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)


def legal_document(request: HttpRequest, kind: str, slug: str | None = None) -> HttpResponse:
    """/privacy/, /imprint/, /terms/: each clinic's text of that kind (one clinic: its
    own); /privacy/<slug>/ and so on: one clinic's. Stable addresses, linked from every
    page's footer."""
    label = LegalDocument.Kind(kind).label
    clinics = Clinic.objects.order_by("name")
    if slug is not None:
        clinics = clinics.filter(slug=slug)
    documents = {
        document.clinic_id: document
        for document in LegalDocument.objects.filter(kind=kind, clinic__in=clinics)
    }
    sections = [(clinic, documents.get(clinic.pk)) for clinic in clinics]
    if slug is not None and not sections:
        raise Http404
    return render(
        request,
        "scheduling/legal_document.html",
        {"kind": kind, "label": label, "sections": sections, "one_clinic": slug is not None},
    )
