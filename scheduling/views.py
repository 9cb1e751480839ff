"""The home page: the search, the specialties and the clinics; the clinics' legal pages.
Finding a free time is the appointments app's (``appointments.views.search``,
``doctor_list``, ``doctor_detail``)."""

from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from scheduling import selectors
from scheduling.forms import search_form
from scheduling.models import Clinic, LegalDocument


def home(request: HttpRequest) -> HttpResponse:
    """The search first, then the specialties (each a link to its soonest times and to
    its doctors) and the clinics: a page whose size does not grow with the number of
    doctors, in a few queries whatever their number."""
    clinics = list(
        Clinic.objects.annotate(doctor_count=Count("doctors", filter=Q(doctors__is_active=True)))
    )
    return render(
        request,
        "scheduling/home.html",
        {
            "clinics": clinics,
            "several_clinics": len(clinics) > 1,
            "form": search_form(clinics=clinics),
            "home": True,
            "specialties": selectors.specialty_counts(),
        },
    )


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
