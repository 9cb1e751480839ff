"""The home page: the clinics and their doctors. Finding a free time is the
appointments app's (``appointments.views.doctor_list``, ``doctor_detail``)."""

from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from scheduling.models import Clinic, Doctor
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
