"""A page whose session ended meanwhile (signed out in another tab, timed out): its next
htmx request is told to load the sign-in page as a whole page (``HX-Redirect``), not
given a redirect that htmx would follow and swap into a part of the page; without
JavaScript the same request is a plain redirect, as before (accounts/decorators.py)."""

import pytest
from django.urls import reverse

from tests.factories import log_in, log_in_staff, make_doctor, make_patient, make_staff

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def doctor():
    return make_doctor()


def booking_page(doctor) -> str:
    kind = doctor.appointment_types.first()
    return f"/appointments/new/?doctor={doctor.pk}&type={kind.pk}&start=2026-03-09T09:00:00Z"


def test_an_htmx_booking_after_signing_out_elsewhere_loads_the_sign_in_page_whole(client, doctor):
    log_in(client, make_patient())
    client.post("/logout/")  # as another tab would

    response = client.post(booking_page(doctor), {"booking_key": "k"}, **HTMX)

    assert response.status_code == 200
    assert response["HX-Redirect"].startswith(reverse("accounts:login") + "?next=")
    assert "/appointments/new/" in response["HX-Redirect"]
    assert not response.content  # nothing to swap in


def test_without_javascript_the_same_request_is_a_plain_redirect(client, doctor):
    response = client.post(booking_page(doctor), {"booking_key": "k"})

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login") + "?next=")
    assert "HX-Redirect" not in response


def test_a_staff_htmx_request_after_signing_out_loads_the_staff_sign_in_whole(client, doctor):
    log_in_staff(client, make_staff(clinics=(doctor.clinic,)))
    client.post("/logout/")

    response = client.post(
        reverse("staff_appointments:interval-add", args=[doctor.pk]),
        {"weekday": "0", "start_time": "09:00", "end_time": "12:00"},
        **HTMX,
    )

    assert response.status_code == 200
    assert response["HX-Redirect"].startswith(reverse("staff:login") + "?next=")
