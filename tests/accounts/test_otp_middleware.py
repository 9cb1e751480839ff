"""The device that verified a session is loaded when a page asks (accounts/otp.py), and
every page that asks still gets the same answer as from django-otp's own middleware."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_email.models import EmailDevice

from accounts.models import Authenticator
from tests.factories import log_in, log_in_staff, make_clinic, make_doctor, make_patient, make_staff

pytestmark = pytest.mark.django_db


def device_queries(client: Client, path: str) -> tuple[int, int]:
    """(status, queries of a device table) of GET ``path``."""
    with CaptureQueriesContext(connection) as captured:
        status = client.get(path).status_code
    tables = (EmailDevice._meta.db_table, Authenticator._meta.db_table)
    return status, sum(any(table in query["sql"] for table in tables) for query in captured)


def test_a_page_that_does_not_ask_loads_no_device(client):
    make_doctor(make_clinic())
    log_in(client, make_patient())

    assert device_queries(client, "/doctors/") == (200, 0)


def test_a_patient_page_checks_the_device_on_every_request(client):
    log_in(client, make_patient())

    assert device_queries(client, reverse("appointments:list")) == (200, 1)


def test_a_patient_whose_device_was_removed_must_sign_in_again(client):
    patient = make_patient()
    log_in(client, patient)
    assert client.get(reverse("appointments:list")).status_code == 200

    EmailDevice.objects.filter(user=patient.user).delete()

    assert client.get(reverse("appointments:list"))["Location"].startswith(
        reverse("accounts:login")
    )
    assert DEVICE_ID_SESSION_KEY not in client.session


def test_an_unconfirmed_device_or_another_users_does_not_verify_the_session(client):
    patient, other = make_patient(), make_patient()
    log_in(client, patient)
    EmailDevice.objects.filter(user=patient.user).update(confirmed=False)
    assert client.get(reverse("appointments:list")).status_code == 302

    foreign = EmailDevice.objects.create(user=other.user, name="email", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = foreign.persistent_id
    session.save()

    assert client.get(reverse("appointments:list")).status_code == 302


def test_staff_whose_authenticator_was_removed_are_sent_to_the_staff_sign_in(client):
    staff = make_staff(clinics=(make_clinic(),))
    device = log_in_staff(client, staff)
    home = reverse("staff_appointments:home")
    assert client.get(home).status_code == 200

    Authenticator.objects.filter(pk=device.pk).delete()

    assert client.get(home)["Location"].startswith(reverse("staff:login"))
