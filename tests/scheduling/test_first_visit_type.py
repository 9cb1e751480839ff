"""The default appointment type is the doctor's first-visit type (issue 13): marked on
the type (at most one per doctor, by a unique index), in the admin and on the staff
hours page; every place that offers a type when none is chosen offers it, and without
one marked the shortest, as before.

Now is Wed 2026-03-04 09:00 in Berlin; the doctors work Mon-Fri 9-17."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from rest_framework.test import APIClient

from appointments import search, staff_selectors
from scheduling import services
from scheduling.models import AppointmentType, Doctor
from scheduling.selectors import active_types, bookable_doctors
from tests.factories import (
    consultation,
    log_in_staff,
    make_clinic,
    make_doctor,
    make_staff,
    make_type,
)
from tests.test_admin import (  # noqa: F401
    CONSULTATION,
    admin,
    doctor_form,
    inline_forms,
    superuser,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]


@pytest.fixture
def doctor():
    return make_doctor(make_clinic(), name="Dr. Anna Weber", specialty="Dermatology")


@pytest.fixture
def follow_up(doctor):
    return make_type(doctor, 15, name="Follow-up")


@pytest.fixture
def first_visit(doctor, follow_up):
    kind = make_type(doctor, 60, name="First visit")
    kind.is_first_visit = True
    kind.save()
    return kind


# --- The rule ----------------------------------------------------------------------------


def test_the_first_visit_type_comes_first_and_the_rest_keep_their_order(
    doctor, follow_up, first_visit
):
    assert active_types(doctor) == [first_visit, follow_up, consultation(doctor)]
    [prefetched] = bookable_doctors().filter(pk=doctor.pk)
    assert active_types(prefetched) == [first_visit, follow_up, consultation(doctor)]


def test_without_one_marked_the_shortest_is_the_default_as_before(doctor, follow_up):
    assert active_types(doctor)[0] == follow_up


def test_a_retired_first_visit_type_is_unmarked_and_the_default_falls_back(
    doctor, follow_up, first_visit
):
    services.deactivate_appointment_type(appointment_type=first_visit)

    first_visit.refresh_from_db()
    assert first_visit.is_first_visit is False
    assert active_types(doctor)[0] == follow_up


def test_the_database_allows_one_first_visit_type_per_doctor(doctor, first_visit):
    with pytest.raises(IntegrityError), transaction.atomic():
        AppointmentType.objects.filter(pk=consultation(doctor).pk).update(is_first_visit=True)
    other = make_doctor(doctor.clinic)
    AppointmentType.objects.filter(pk=consultation(other).pk).update(is_first_visit=True)


def test_validating_a_second_first_visit_type_says_what_to_do(doctor, first_visit):
    second = consultation(doctor)
    second.is_first_visit = True

    with translation.override("en"):
        with pytest.raises(ValidationError) as refused:
            second.full_clean()
        message = str(refused.value)

    assert "has a first-visit type already: unmark it first" in message


def test_marking_a_type_moves_the_mark_from_the_other(doctor, follow_up, first_visit):
    services.mark_first_visit_type(appointment_type=follow_up)

    first_visit.refresh_from_db()
    follow_up.refresh_from_db()
    assert (first_visit.is_first_visit, follow_up.is_first_visit) == (False, True)
    assert active_types(doctor)[0] == follow_up


def test_marking_a_retired_type_is_refused(doctor, follow_up):
    follow_up.is_active = False
    follow_up.save()

    with pytest.raises(services.InactiveType):
        services.mark_first_visit_type(appointment_type=follow_up)


def test_marking_makes_the_doctors_cached_free_times_stale(doctor, follow_up):
    before = Doctor.objects.get(pk=doctor.pk).availability_version

    services.mark_first_visit_type(appointment_type=follow_up)

    assert Doctor.objects.get(pk=doctor.pk).availability_version > before


# --- Where it is the default -------------------------------------------------------------


def test_the_doctor_page_offers_the_first_visit_type_by_default(client, doctor, first_visit):
    page = client.get(reverse("appointments:doctor", args=[doctor.pk])).text

    assert "First visit, week of" in page
    assert f"type={first_visit.pk}" in page


def test_the_doctor_page_offers_the_shortest_type_when_none_is_marked(client, doctor, follow_up):
    page = client.get(reverse("appointments:doctor", args=[doctor.pk])).text

    assert "Follow-up, week of" in page


def test_the_doctor_page_still_shows_a_type_asked_for(client, doctor, first_visit, follow_up):
    url = reverse("appointments:doctor", args=[doctor.pk])

    assert "Follow-up, week of" in client.get(url, {"type": follow_up.pk}).text


def test_search_results_offer_the_first_visit_type(client, doctor, first_visit):
    found = search.search_free_times(specialty="Dermatology")
    assert found
    assert {each.appointment_type for each in found} == {first_visit}
    assert found[0].end - found[0].start == dt.timedelta(minutes=60)

    page = client.get(reverse("appointments:search"), {"specialty": "Dermatology"}).text
    assert f"type={first_visit.pk}" in page
    assert f"type={consultation(doctor).pk}&" not in page


def test_a_type_named_in_the_search_is_still_the_one_offered(doctor, first_visit, follow_up):
    found = search.search_free_times(specialty="Dermatology", type_name="follow-up")

    assert {each.appointment_type for each in found} == {follow_up}


def test_the_api_availability_without_a_type_is_of_the_first_visit_type(doctor, first_visit):
    response = APIClient().get(
        f"/api/v1/doctors/{doctor.pk}/availability?from=2026-03-09&to=2026-03-09"
    )

    assert response.status_code == 200, response.content
    slots = response.json()
    assert slots
    start, end = (dt.datetime.fromisoformat(slots[0][key]) for key in ("start", "end"))
    assert end - start == dt.timedelta(minutes=60)


def test_the_api_lists_the_first_visit_type_first(doctor, follow_up, first_visit):
    response = APIClient().get(f"/api/v1/doctors/{doctor.pk}")

    assert [kind["name"] for kind in response.json()["appointment_types"]] == [
        "First visit",
        "Follow-up",
        "Consultation",
    ]


def test_booking_by_phone_offers_the_first_visit_type_of_the_soonest_doctor(doctor, first_visit):
    found = staff_selectors.first_free_in_specialty([doctor], timezone.now())

    assert found is not None
    assert found.appointment_type == first_visit


def test_the_staff_calendar_offers_the_first_visit_types_free_times(client, doctor, first_visit):
    log_in_staff(client, make_staff(clinics=(doctor.clinic,)))

    page = client.get(
        reverse("staff_appointments:calendar"),
        {"clinic": doctor.clinic.pk, "date": "2026-03-09"},
    ).text

    assert f'<input type="hidden" name="type" value="{first_visit.pk}">' in page


# --- Marking it: the staff hours page and the admin --------------------------------------


def hours_page(doctor):
    return reverse("staff_appointments:availability", args=[doctor.pk])


def mark_url(doctor, kind):
    return reverse("staff_appointments:type-first-visit", args=[doctor.pk, kind.pk])


def test_staff_mark_the_first_visit_type_on_the_hours_page(client, doctor, follow_up, first_visit):
    log_in_staff(client, make_staff(clinics=(doctor.clinic,)))
    page = client.get(hours_page(doctor)).text
    assert "first-visit type, offered by default" in page
    assert f'action="{mark_url(doctor, follow_up)}"' in page
    assert f'action="{mark_url(doctor, first_visit)}"' not in page  # marked already

    response = client.post(mark_url(doctor, follow_up))

    assert response.status_code == 302
    assert active_types(doctor)[0] == follow_up


def test_staff_cannot_mark_a_retired_type(client, doctor, follow_up):
    log_in_staff(client, make_staff(clinics=(doctor.clinic,)))
    follow_up.is_active = False
    follow_up.save()

    response = client.post(mark_url(doctor, follow_up))

    assert response.status_code == 422
    assert "retired" in response.text
    follow_up.refresh_from_db()
    assert follow_up.is_first_visit is False


def test_staff_of_another_clinic_cannot_mark_a_type(client, doctor, follow_up):
    log_in_staff(client, make_staff(clinics=(make_clinic(),)))

    assert client.post(mark_url(doctor, follow_up)).status_code == 404
    follow_up.refresh_from_db()
    assert follow_up.is_first_visit is False


def test_marking_needs_a_post(client, doctor, follow_up):
    log_in_staff(client, make_staff(clinics=(doctor.clinic,)))

    assert client.get(mark_url(doctor, follow_up)).status_code == 405


def test_the_admin_marks_a_first_visit_type_with_a_new_doctor(admin):  # noqa: F811
    clinic = make_clinic()
    data = doctor_form(
        clinic,
        types=[CONSULTATION, CONSULTATION | {"name": "First visit", "is_first_visit": "on"}],
        weekly=[],
    )

    response = admin.post(reverse("admin:scheduling_doctor_add"), data)

    assert response.status_code == 302
    doctor = Doctor.objects.get(clinic=clinic)
    assert active_types(doctor)[0].name == "First visit"


def test_the_admin_refuses_two_first_visit_types_ticked_together_without_an_error_page(
    admin,  # noqa: F811
):
    clinic = make_clinic()
    ticked = CONSULTATION | {"is_first_visit": "on"}
    data = doctor_form(clinic, types=[ticked, ticked | {"name": "First visit"}], weekly=[])

    response = admin.post(reverse("admin:scheduling_doctor_add"), data)

    assert response.status_code == 200
    assert "Mark one first-visit type at most." in response.text
    assert not Doctor.objects.filter(clinic=clinic).exists()


def doctor_change_form(doctor, ticked):
    """The doctor's admin page as posted, with the first-visit box ticked on ``ticked``."""
    rows = [
        {
            "id": str(kind.pk),
            "doctor": str(doctor.pk),
            "name": kind.name,
            "duration": str(kind.duration),
            "slot_step": "",
            "is_active": "on",
            **({"is_first_visit": "on"} if kind in ticked else {}),
        }
        for kind in AppointmentType.objects.filter(doctor=doctor).order_by("pk")
    ]
    data = doctor_form(doctor.clinic, types=[], weekly=[]) | inline_forms(
        "appointment_types", rows, initial=len(rows)
    )
    return data | {"name": doctor.name, "specialty": doctor.specialty}


def test_the_admin_refuses_ticking_a_second_type_of_a_saved_doctor_with_a_message(
    admin,  # noqa: F811
    doctor,
    first_visit,
):
    data = doctor_change_form(doctor, ticked=[first_visit, consultation(doctor)])

    response = admin.post(reverse("admin:scheduling_doctor_change", args=[doctor.pk]), data)

    assert response.status_code == 200
    assert "Mark one first-visit type at most." in response.text
    assert [kind for kind in active_types(doctor) if kind.is_first_visit] == [first_visit]


def test_moving_the_mark_on_the_doctors_page_takes_one_save(
    admin,  # noqa: F811
    doctor,
    first_visit,
):
    """Untick the old, tick the new, save once: as the hours page's button does."""
    data = doctor_change_form(doctor, ticked=[consultation(doctor)])

    response = admin.post(reverse("admin:scheduling_doctor_change", args=[doctor.pk]), data)

    assert response.status_code == 302
    assert [kind for kind in active_types(doctor) if kind.is_first_visit] == [consultation(doctor)]
    first_visit.refresh_from_db()
    assert first_visit.is_first_visit is False


def test_ticking_a_type_on_its_own_page_moves_the_mark_in_one_save(admin, doctor, first_visit):  # noqa: F811
    second = consultation(doctor)

    response = admin.post(
        reverse("admin:scheduling_appointmenttype_change", args=[second.pk]),
        {"name": "Consultation", "duration": "00:30:00", "slot_step": "", "is_active": "on",
         "is_first_visit": "on", "_save": "Save"},
    )  # fmt: skip

    assert response.status_code == 302
    assert active_types(doctor)[0] == second
    first_visit.refresh_from_db()
    assert first_visit.is_first_visit is False


def test_a_new_type_added_as_the_first_visit_type_takes_the_mark(admin, doctor, first_visit):  # noqa: F811
    response = admin.post(
        reverse("admin:scheduling_appointmenttype_add"),
        {"doctor": doctor.pk, "name": "New patient", "duration": "00:45:00", "slot_step": "",
         "is_active": "on", "is_first_visit": "on", "_save": "Save"},
    )  # fmt: skip

    assert response.status_code == 302
    assert active_types(doctor)[0].name == "New patient"
    first_visit.refresh_from_db()
    assert first_visit.is_first_visit is False


def test_moving_the_mark_in_the_admin_makes_the_cached_free_times_stale(
    admin,  # noqa: F811
    doctor,
    first_visit,
):
    doctor.refresh_from_db()
    before = doctor.availability_version

    admin.post(
        reverse("admin:scheduling_appointmenttype_change", args=[consultation(doctor).pk]),
        {"name": "Consultation", "duration": "00:30:00", "slot_step": "", "is_active": "on",
         "is_first_visit": "on", "_save": "Save"},
    )  # fmt: skip

    doctor.refresh_from_db()
    assert doctor.availability_version > before


def test_the_admin_refuses_a_retired_first_visit_type_with_a_message(admin, doctor, first_visit):  # noqa: F811
    second = consultation(doctor)

    response = admin.post(
        reverse("admin:scheduling_appointmenttype_change", args=[second.pk]),
        {"name": "Consultation", "duration": "00:30:00", "slot_step": "", "is_first_visit": "on",
         "_save": "Save"},
    )  # fmt: skip

    assert response.status_code == 200
    assert "This appointment type is retired: it cannot be offered first." in response.text
    assert [kind for kind in active_types(doctor) if kind.is_first_visit] == [first_visit]
