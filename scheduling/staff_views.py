"""The staff list of their clinics' doctors, the way to each doctor's hours."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.decorators import staff_required
from scheduling.selectors import staff_doctors


@require_GET
@staff_required
def doctors(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "scheduling/staff/doctors.html",
        {
            "doctors": staff_doctors(request.user).order_by(
                "clinic__name", "clinic__pk", "name", "pk"
            )
        },
    )
