"""The home page: the clinics and their doctors; the clinics' legal pages. Finding a free
time is the appointments app's (``appointments.views.doctor_list``, ``doctor_detail``)."""

from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from scheduling.models import Clinic, Doctor, LegalDocument
from scheduling.selectors import active_types_prefetch


def home(request: HttpRequest) -> HttpResponse:
    # Three queries whatever the number of clinics and doctors: clinics, their active
    # doctors, those doctors' active appointment types.
    active_doctors = Prefetch(
        "doctors",
        queryset=Doctor.objects.filter(is_active=True).prefetch_related(active_types_prefetch()),
        to_attr="active_doctors",
    )
    clinics = list(Clinic.objects.prefetch_related(active_doctors))
    return render(request, "scheduling/home.html", {"clinics": clinics})


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
