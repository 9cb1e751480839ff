"""Bad input is a 400 or a form error on every page that takes a query or a form, never a
500: NUL characters (no PostgreSQL text can hold one), dates at the edges of Python's
calendar (year 1 and 9999 overflow when turned into instants), names that would break an
email header."""

import pytest
from django.urls import reverse

from accounts.models import Patient
from tests.factories import book, local, log_in, log_in_staff, make_doctor, make_patient, make_staff

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("frozen_now", "fresh_rate_limits"),
]

NUL = "a\x00b"
EDGE_DATES = ["0001-01-01", "9999-12-31"]
EDGE_INSTANTS = ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00"]


@pytest.fixture
def doctor():
    return make_doctor()


@pytest.fixture
def appointment(doctor):
    return book(make_patient(), doctor, local(doctor.clinic, 2026, 3, 9, 10))


def assert_refused_cleanly(response):
    assert response.status_code < 500, response.content[:500]


def query_pages(doctor, appointment):
    """(who, path, the query parameters it reads)."""
    type_id = doctor.appointment_types.first().pk
    return [
        ("anyone", reverse("appointments:doctors"), ["q", "specialty", "clinic", "page"]),
        ("anyone", reverse("appointments:doctor", args=[doctor.pk]), ["type", "week"]),
        ("patient", reverse("appointments:book"), ["doctor", "type", "start"]),
        ("patient", reverse("appointments:reschedule", args=[appointment.pk]), ["week", "start"]),
        ("patient", reverse("accounts:profile"), ["next"]),
        ("staff", reverse("staff_appointments:calendar"), ["clinic", "view", "date", "doctor"]),
        ("staff", reverse("staff_appointments:patients"), ["q", "page"]),
        (
            "staff",
            reverse("staff_appointments:book_for_patient", args=[appointment.patient_id]),
            ["type", "week", "start"],
        ),
        ("anyone", f"{reverse('accounts:login')}?type={type_id}", ["email", "next"]),
    ]


def client_for(kind, client, doctor, appointment):
    if kind == "patient":
        log_in(client, appointment.patient)
    elif kind == "staff":
        log_in_staff(client, make_staff(clinics=(doctor.clinic,)))
    return client


@pytest.mark.parametrize("value", [NUL, *EDGE_DATES, *EDGE_INSTANTS, "9" * 40])
def test_every_query_parameter_of_every_page_refuses_bad_values_cleanly(
    client, doctor, appointment, value
):
    for kind, path, parameters in query_pages(doctor, appointment):
        signed_in = client_for(kind, client, doctor, appointment)
        joiner = "&" if "?" in path else "?"
        for parameter in parameters:
            assert_refused_cleanly(signed_in.get(f"{path}{joiner}{parameter}={value}"))
        client.logout()


def test_a_nul_in_a_query_is_a_400_with_a_message(client):
    response = client.get(reverse("appointments:doctors"), {"q": NUL})

    assert response.status_code == 400
    assert "not allowed" in response.text


def test_a_nul_in_an_api_query_or_body_is_a_problem(client, doctor):
    query = client.get("/api/v1/doctors", {"search": NUL})
    body = client.post(
        "/api/v1/auth/otp/request",
        data='{"email": "a\\u0000@example.com"}',
        content_type="application/json",
    )

    assert query.status_code == 400
    assert query["Content-Type"] == "application/problem+json"
    assert body.status_code == 400
    assert body.json()["code"] == "malformed_request"


@pytest.mark.parametrize(
    ("name", "form"),
    [
        (
            "patient",
            lambda c, day: c.post(
                reverse("accounts:profile"),
                {"full_name": "Ada", "phone": "+49 30 1234567", "date_of_birth": day},
            ),
        ),
        (
            "staff",
            lambda c, day: c.post(
                reverse("staff_appointments:new_patient"),
                {
                    "email": "x@example.com",
                    "full_name": "Ada",
                    "phone": "+49 30 1234567",
                    "date_of_birth": day,
                },
            ),
        ),
    ],
)
@pytest.mark.parametrize("value", [*EDGE_DATES, NUL])
def test_forms_refuse_edge_dates_and_nul(client, doctor, appointment, name, form, value):
    client_for(name, client, doctor, appointment)

    response = form(client, value)

    assert response.status_code == 400


def test_the_hours_forms_refuse_edge_dates(client, doctor, appointment):
    client_for("staff", client, doctor, appointment)
    for day in EDGE_DATES:
        for name, data in (
            ("time-off-add", {"start_date": day, "end_date": day, "reason": "x"}),
            ("extra-hours-add", {"date": day, "start_time": "09:00", "end_time": "10:00"}),
        ):
            response = client.post(reverse(f"staff_appointments:{name}", args=[doctor.pk]), data)
            assert response.status_code == 400, (name, day)


@pytest.mark.parametrize("day", [*EDGE_DATES, "not-a-day"])
def test_the_sick_day_page_refuses_an_edge_date(client, doctor, appointment, day):
    client_for("staff", client, doctor, appointment)

    response = client.get(f"/staff/doctors/{doctor.pk}/days/{day}/cancel/")

    assert response.status_code == 404


@pytest.mark.parametrize("name", ["Ada\nBcc: all@example.com", "Ada\r\nX: y", "=?utf-8?q?Ada?="])
def test_a_name_that_would_break_an_email_header_is_refused(client, name):
    patient = make_patient()
    log_in(client, patient)

    response = client.post(
        reverse("accounts:profile"),
        {"full_name": name, "phone": "+49 30 1234567", "date_of_birth": "1980-01-01"},
    )

    assert response.status_code == 400
    assert Patient.objects.get(pk=patient.pk).full_name != name


def test_the_model_refuses_such_a_name_for_every_way_in():
    patient = make_patient()
    patient.full_name = "Ada\nLovelace"

    with pytest.raises(Exception, match="line breaks"):
        patient.full_clean()
