"""The booking stays in view (issue 13): an anonymous patient who picks a time goes
through sign-in (email, then code) and, new, the profile step; each screen says what is
being booked, read from its `next` (the booking page's address), and the profile step
leads on to the confirm page with the choice intact. Any other `next` shows nothing.

Now is Wed 2026-03-04 09:00 in Berlin; Monday 9 March 10:00 CET is free."""

import datetime as dt
import re
from urllib.parse import quote

import pytest
from django.urls import reverse

from appointments.selectors import booking_offer_in_url
from tests.factories import (
    consultation,
    last_emailed_code,
    log_in,
    make_clinic,
    make_doctor,
    make_patient,
    make_type,
)
from tests.test_german_pages import GERMAN, assert_all_german

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("frozen_now", "fresh_rate_limits"),
]

MONDAY_10_UTC = "2026-03-09T09:00:00Z"
IN_VIEW = 'class="booking-in-view"'


@pytest.fixture
def doctor():
    clinic = make_clinic(name="Lindenhof Practice", address="Lindenstraße 5, Berlin")
    return make_doctor(clinic, name="Dr. Anna Weber", specialty="Dermatology")


def booking_path(doctor, appointment_type=None, start=MONDAY_10_UTC):
    kind = appointment_type or consultation(doctor)
    return f"{reverse('appointments:book')}?doctor={doctor.pk}&type={kind.pk}&start={start}"


def start_sign_in(client, email, next_url):
    return client.post(reverse("accounts:login"), {"email": email, "next": next_url})


def assert_booking_shown(page: str, type_label="Consultation, 30 min"):
    assert IN_VIEW in page
    assert "Your booking" in page
    assert "Dr. Anna Weber" in page
    assert "(Dermatology)" in page
    assert "Lindenhof Practice" in page
    assert type_label in page
    assert "Monday 9 March 2026, 10:00 CET" in page


def test_picking_a_time_signed_out_leads_to_a_sign_in_page_that_shows_the_booking(client, doctor):
    response = client.get(booking_path(doctor))
    assert response.status_code == 302

    page = client.get(response["Location"]).text

    assert "<h1>Sign in</h1>" in page
    assert_booking_shown(page)


def test_the_code_step_shows_the_booking(client, doctor):
    start_sign_in(client, "ada@example.com", booking_path(doctor))

    page = client.get(reverse("accounts:login-verify")).text

    assert "<h1>Check your email</h1>" in page
    assert_booking_shown(page)


def test_a_refused_code_still_shows_the_booking(client, doctor):
    start_sign_in(client, "ada@example.com", booking_path(doctor))

    response = client.post(reverse("accounts:login-verify"), {"code": "000000"})

    assert_booking_shown(response.text)


def test_a_new_patient_sees_the_booking_on_the_profile_step_and_lands_on_the_confirm_page(
    client, doctor
):
    longer = make_type(doctor, 60, name="First visit")
    wanted = booking_path(doctor, longer)
    client.post(reverse("accounts:login"), {"email": "new@example.com", "next": wanted})
    signed_in = client.post(reverse("accounts:login-verify"), {"code": last_emailed_code()})
    assert signed_in["Location"] == f"{reverse('accounts:profile')}?next={quote(wanted, safe='')}"

    profile = client.get(signed_in["Location"]).text
    assert "<h1>Your details</h1>" in profile
    assert_booking_shown(profile, type_label="First visit, 60 min")

    saved = client.post(
        signed_in["Location"],
        {
            "full_name": "Ada Lovelace",
            "phone": "+49 170 1234567",
            "date_of_birth": "1985-04-12",
            "next": wanted,
        },
    )
    assert saved.status_code == 302
    assert saved["Location"] == wanted
    confirm = client.get(saved["Location"]).text
    assert "<h1>Confirm your booking</h1>" in confirm
    assert "First visit, 60 min" in confirm
    assert "Monday 9 March 2026, 10:00 CET" in confirm
    assert 'name="booking_key"' in confirm


def test_a_refused_profile_still_shows_the_booking(client, doctor):
    start_sign_in(client, "new@example.com", booking_path(doctor))
    client.post(reverse("accounts:login-verify"), {"code": last_emailed_code()})

    response = client.post(
        reverse("accounts:profile"), {"full_name": "", "next": booking_path(doctor)}
    )

    assert response.status_code == 400
    assert_booking_shown(response.text)


def test_a_signed_in_patient_with_an_incomplete_profile_sees_the_booking_on_the_profile_step(
    client, doctor
):
    log_in(client, make_patient(full_name="", phone="", date_of_birth=None))

    response = client.get(booking_path(doctor))
    assert response.status_code == 303

    assert_booking_shown(client.get(response["Location"]).text)


def test_a_next_that_is_not_a_booking_shows_nothing_on_any_step(client, doctor):
    page = client.get(f"{reverse('accounts:login')}?next=/doctors/{doctor.pk}/").text

    assert IN_VIEW not in page
    assert "<h1>Sign in</h1>" in page


@pytest.mark.parametrize(
    "next_url",
    [
        "",
        "garbage",
        "/appointments/new/",
        "/appointments/new/?doctor=x&type=y&start=z",
        "/appointments/new/?doctor=999999&type=999999&start=2026-03-09T09:00:00Z",
        "/appointments/new/?doctor=99999999999999999999999&type=1&start=2026-03-09T09:00:00Z",
        "/appointments/new/?doctor=1&type=1&start=" + "9" * 600,
        "https://evil.example.net/appointments/new/?doctor=1&type=1&start=2026-03-09T09:00:00Z",
        "//evil.example.net/appointments/new/?doctor=1&type=1&start=2026-03-09T09:00:00Z",
        "http://[::1/appointments/new/",
        "/%00/appointments/new/",
        "javascript:alert(1)",
    ],
)
def test_a_garbage_or_foreign_next_shows_nothing_and_never_fails(client, doctor, next_url):
    response = client.get(reverse("accounts:login"), {"next": next_url})

    assert response.status_code == 200
    assert IN_VIEW not in response.text


def test_a_foreign_copy_of_a_real_booking_address_shows_nothing(doctor):
    path = booking_path(doctor)

    assert booking_offer_in_url(path) is not None
    assert booking_offer_in_url("https://evil.example.net" + path) is None
    assert booking_offer_in_url("//evil.example.net" + path) is None
    assert booking_offer_in_url("/\x00" + path) is None


def test_a_retired_doctor_or_type_or_a_type_of_another_doctor_shows_nothing(doctor):
    other = make_doctor(name="Dr. Other")
    retired = make_type(doctor, 45, name="Retired")
    retired.is_active = False
    retired.save()

    assert booking_offer_in_url(booking_path(doctor, retired)) is None
    assert booking_offer_in_url(booking_path(doctor, consultation(other))) is None
    doctor.is_active = False
    doctor.save()
    assert booking_offer_in_url(booking_path(doctor)) is None


def test_the_booking_in_view_is_german_for_a_german_browser(client, doctor):
    client.post(
        reverse("accounts:login"),
        {"email": "grete@example.com", "next": booking_path(doctor)},
        **GERMAN,
    )

    pages = {
        "login": client.get(reverse("accounts:login"), {"next": booking_path(doctor)}, **GERMAN),
        "code": client.get(reverse("accounts:login-verify"), **GERMAN),
    }

    for name, response in pages.items():
        page = response.text
        assert IN_VIEW in page, name
        assert "Ihre Buchung" in page, name
        assert "Montag, 9. März 2026, 10:00 CET" in page, name
        assert "Noch nichts gebucht" in page, name
        start = page.index("<section " + IN_VIEW)
        section = page[start : page.index("</section>", start)]
        assert_all_german(section, name)


# --- The confirm step: the exact deadline, and someone to book for added on the way ----------


def test_the_confirm_page_says_until_when_the_booking_could_be_changed(client, doctor):
    log_in(client, make_patient())

    page = client.get(booking_path(doctor)).text

    # The clinic's two-hour cutoff before Monday 10:00, on its wall clock.
    assert "You can cancel or change it online until Mon 9 Mar, 08:00 CET." in page
    assert "shortly before" not in page


def test_the_confirm_page_says_so_when_the_booking_could_not_be_changed_online(client, doctor):
    # Bookable from an hour ahead, changeable online until a day ahead: a time this
    # afternoon can be booked, and no longer changed online once it is.
    doctor.clinic.min_notice = dt.timedelta(hours=1)
    doctor.clinic.cancellation_cutoff = dt.timedelta(hours=24)
    doctor.clinic.save()
    log_in(client, make_patient())

    page = client.get(booking_path(doctor, start="2026-03-04T13:00:00Z")).text

    assert "Confirm booking" in page
    assert "too close to change online: to cancel or move it, call the clinic." in page
    assert "You can cancel or change it online until" not in page


def test_the_confirm_page_offers_to_add_someone_to_book_for_and_come_back(client, doctor):
    log_in(client, make_patient())
    here = booking_path(doctor)

    page = client.get(here).text

    add = f"{reverse('accounts:dependant-add')}?next={quote(here, safe='')}"
    assert f'<a href="{add}">Add them</a> first: you come back here.' in page


def test_someone_added_from_the_confirm_page_is_the_one_it_then_books_for(client, doctor):
    patient = make_patient()
    log_in(client, patient)
    here = booking_path(doctor)

    form_page = client.get(reverse("accounts:dependant-add"), {"next": here}).text
    assert_booking_shown(form_page)
    assert f'<input type="hidden" name="next" value="{here.replace("&", "&amp;")}">' in form_page
    response = client.post(
        reverse("accounts:dependant-add"),
        {"person-full_name": "Mia Wolf", "person-date_of_birth": "2019-06-01",
         "person-relationship": "child",
         "next": here},
    )  # fmt: skip

    mia = patient.dependants.get()
    assert response.status_code == 302
    assert response["Location"] == f"{here}&for={mia.pk}"
    confirm = client.get(response["Location"]).text
    assert re.search(rf'<input[^>]*value="{mia.pk}"[^>]*checked', confirm)
    assert "Booking for someone else in your care?" in confirm


def test_a_for_that_is_not_one_of_the_patients_people_chooses_no_one(client, doctor):
    from tests.factories import make_dependant

    stranger = make_dependant(make_patient(), "Ben Roth")
    patient = make_patient()
    make_dependant(patient, "Mia Wolf")
    log_in(client, patient)

    page = client.get(booking_path(doctor) + f"&for={stranger.pk}").text

    assert "Ben Roth" not in page
    assert re.search(r'<input[^>]*value=""[^>]*checked', page)  # "Myself", the default


def test_adding_someone_without_a_booking_still_goes_back_to_the_profile(client):
    patient = make_patient()
    log_in(client, patient)

    response = client.post(
        reverse("accounts:dependant-add"),
        {"person-full_name": "Mia Wolf", "person-date_of_birth": "2019-06-01",
         "person-relationship": "child",
         "next": "https://evil.example.com/"},
    )  # fmt: skip

    assert response["Location"] == reverse("accounts:profile") + "#people"
