"""Personal data is encrypted at rest, field by field (clinic.encryption): reads give the
data back, the tables hold none of it, a wrong key fails loudly, and keys rotate."""

import datetime as dt
import io
import re

import pytest
from django.core.exceptions import FieldError
from django.core.management import call_command
from django.db import connection

from appointments.models import Appointment
from appointments.services import cancel_appointment
from clinic.encryption import UndecryptableValue, new_key
from tests.api.helpers import booking, client_for, post_booking
from tests.factories import book, local, make_doctor, make_patient, make_staff

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]

REASON = "Knee pain since the ski accident"
CANCELLATION = "Patient is in hospital"
BIRTH_DATE = dt.date(1961, 7, 23)
PHONE = "+4915575151122"


def every_value_in_the_database() -> str:
    """Every value of every row of every table, as text: what a dump would show."""
    quote = connection.ops.quote_name
    found: list[str] = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {quote(table)}")
            found.extend(str(value) for row in cursor.fetchall() for value in row)
    return "\n".join(found)


def raw(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])
        return str(cursor.fetchone()[0])


@pytest.fixture
def doctor():
    return make_doctor()


def test_an_encrypted_field_reads_back_what_was_written(doctor):
    patient = make_patient(date_of_birth=BIRTH_DATE)
    appointment = book(patient, doctor, local(doctor.clinic, 2026, 3, 9, 10), reason=REASON)

    appointment = Appointment.objects.get(pk=appointment.pk)
    assert appointment.reason == REASON
    assert type(patient).objects.get(pk=patient.pk).date_of_birth == BIRTH_DATE
    assert raw("appointments_appointment", "reason", appointment.pk).startswith("gAAAAA")
    assert raw("accounts_patient", "date_of_birth", patient.pk).startswith("gAAAAA")


def test_no_table_holds_the_encrypted_values_in_plaintext(doctor):
    """The bookings, their history copies and audit reasons, the stored API answer of an
    idempotent booking and time off: a scan of every table finds none of what was said."""
    patient = make_patient(date_of_birth=BIRTH_DATE, phone=PHONE)
    response = post_booking(client_for(patient.user), **booking(doctor, reason=REASON))
    assert response.status_code == 201, response.content
    appointment = Appointment.objects.get()
    cancel_appointment(
        appointment=appointment, cancelled_by=make_staff(), reason=CANCELLATION, by_clinic=True
    )
    doctor.time_off.create(
        start_date=dt.date(2026, 3, 20), end_date=dt.date(2026, 3, 20), reason="Chemotherapy"
    )

    dump = every_value_in_the_database()

    secrets = (REASON, CANCELLATION, "Chemotherapy", BIRTH_DATE.isoformat(), PHONE)
    for secret in (*secrets, PHONE[1:], "75151122"):
        assert secret not in dump, f"{secret!r} is stored in plaintext"
    # The birth year on its own, as a word: inside a token, hash or ciphertext (base64 or
    # hex) four digits occur by chance, which made a plain substring check flaky.
    assert not re.search(r"(?<![\w+/=-])1961(?![\w+/=-])", dump), "the birth year is stored"
    assert patient.user.email in dump, "control: the scan sees what is not encrypted"


def test_a_value_under_a_key_that_is_gone_fails_loudly(doctor, settings):
    appointment = book(make_patient(), doctor, local(doctor.clinic, 2026, 3, 9, 10), reason=REASON)
    settings.FIELD_ENCRYPTION_KEYS = [new_key()]

    with pytest.raises(UndecryptableValue, match="reason"):
        Appointment.objects.get(pk=appointment.pk)


def test_an_encrypted_field_refuses_a_search_that_could_never_match():
    with pytest.raises(FieldError, match="encrypted"):
        # Spelled as a dict: mypy's Django plugin resolves a literal lookup, and is refused.
        list(Appointment.objects.filter(**{"reason__icontains": "knee"}))


def test_empty_values_stay_empty_and_searchable_as_missing(doctor):
    appointment = book(make_patient(), doctor, local(doctor.clinic, 2026, 3, 9, 10))
    new_patient = make_patient(date_of_birth=None)

    assert raw("appointments_appointment", "reason", appointment.pk) == ""
    assert Appointment.objects.get(pk=appointment.pk).reason == ""
    assert list(type(new_patient).objects.filter(date_of_birth__isnull=True)) == [new_patient]


def test_rotating_keys_rewrites_every_value_under_the_first_key(doctor, settings):
    old, new = settings.FIELD_ENCRYPTION_KEYS[0], new_key()
    appointment = book(make_patient(), doctor, local(doctor.clinic, 2026, 3, 9, 10), reason=REASON)
    cancel_appointment(appointment=appointment, cancelled_by=None, reason=CANCELLATION)
    settings.FIELD_ENCRYPTION_KEYS = [new, old]

    dry = io.StringIO()
    call_command("rotate_encryption_keys", "--dry-run", stdout=dry)
    assert raw("appointments_appointment", "reason", appointment.pk) != ""
    assert "would re-encrypt" in dry.getvalue()
    out = io.StringIO()
    call_command("rotate_encryption_keys", "--batch-size", "1", stdout=out)
    again = io.StringIO()
    call_command("rotate_encryption_keys", stdout=again)

    assert "re-encrypted 0 values" not in out.getvalue()
    assert "re-encrypted 0 values in 0 rows" in again.getvalue(), "a second run has nothing to do"
    settings.FIELD_ENCRYPTION_KEYS = [new]  # the old key retired
    rotated = Appointment.objects.get(pk=appointment.pk)
    assert (rotated.reason, rotated.cancellation_reason) == (REASON, CANCELLATION)
    history = rotated.history.order_by("history_date")
    assert [record.reason for record in history] == [REASON, REASON]


def test_a_dry_run_changes_nothing(doctor, settings):
    appointment = book(make_patient(), doctor, local(doctor.clinic, 2026, 3, 9, 10), reason=REASON)
    before = raw("appointments_appointment", "reason", appointment.pk)
    settings.FIELD_ENCRYPTION_KEYS = [new_key(), *settings.FIELD_ENCRYPTION_KEYS]

    call_command("rotate_encryption_keys", "--dry-run", stdout=io.StringIO())

    assert raw("appointments_appointment", "reason", appointment.pk) == before
