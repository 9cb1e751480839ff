from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from scheduling.models import Clinic


def home(request: HttpRequest) -> HttpResponse:
    clinics = Clinic.objects.prefetch_related("doctors")
    return render(request, "scheduling/home.html", {"clinics": clinics})
