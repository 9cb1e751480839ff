"""Migrations keep data: a database filled before a model changed app comes out of
``migrate`` with every row, now seen through the model's new home. And ``migrate`` alone
makes a database that works: nothing else (``createcachetable``) has to run."""

import datetime as dt

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken, Authenticator
from appointments.models import Appointment
from scheduling.models import StaffMembership
from tests.factories import last_emailed_code

# The last migrations before ApiToken moved from api to accounts and StaffMembership from
# accounts to scheduling (accounts 0004/0005, api 0004, scheduling 0002).
BEFORE_THE_MOVE = [
    ("accounts", "0003_patient_detail_validators"),
    ("api", "0003_staff_token_device"),
    ("scheduling", "0001_initial"),
]


@pytest.fixture
def executor():
    executor = MigrationExecutor(connection)
    yield executor
    # Whatever happened, leave the test database as every other test expects it.
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_moving_api_tokens_and_staff_memberships_keeps_their_rows(executor):
    executor.migrate(BEFORE_THE_MOVE)
    old = executor.loader.project_state(BEFORE_THE_MOVE).apps
    user = old.get_model("accounts", "User").objects.create(
        email="desk@example.com", password="!", is_staff=True
    )
    clinic = old.get_model("scheduling", "Clinic").objects.create(name="Lindenhof", slug="l")
    membership = old.get_model("accounts", "StaffMembership").objects.create(
        user=user, clinic=clinic, role="clinic_admin"
    )
    token = old.get_model("api", "ApiToken").objects.create(
        user=user,
        kind="patient",
        digest="d" * 64,
        prefix="abcdefgh",
        auth_hash="h",
        expires_at=timezone.now() + dt.timedelta(days=30),
    )
    ContentType.objects.get_or_create(app_label="api", model="apitoken")
    ContentType.objects.get_or_create(app_label="accounts", model="staffmembership")

    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    moved_membership = StaffMembership.objects.get(pk=membership.pk)
    assert (moved_membership.user.email, moved_membership.clinic.name) == (
        "desk@example.com",
        "Lindenhof",
    )
    assert moved_membership.role == "clinic_admin"
    moved_token = ApiToken.objects.get(pk=token.pk)
    assert (moved_token.user.email, moved_token.digest) == ("desk@example.com", "d" * 64)
    # Their content types (and with them permissions and admin history) moved too.
    assert (
        ContentType.objects.get_for_model(ApiToken).pk
        == ContentType.objects.get(app_label="accounts", model="apitoken").pk
    )
    assert not ContentType.objects.filter(app_label="api", model="apitoken").exists()
    assert not ContentType.objects.filter(app_label="accounts", model="staffmembership").exists()


BEFORE_ENCRYPTION = [
    ("accounts", "0005_staffmembership_moved_to_scheduling"),
    ("appointments", "0005_notification_sweep_schedule"),
    ("scheduling", "0002_staffmembership"),
    ("api", "0004_apitoken_moved_to_accounts"),
]


def raw_value(table: str, column: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table}")
        return str(cursor.fetchone()[0])


@pytest.mark.django_db(transaction=True)
def test_encrypting_at_rest_rewrites_the_plaintext_already_stored_and_back(executor):
    executor.migrate(BEFORE_ENCRYPTION)
    old = executor.loader.project_state(BEFORE_ENCRYPTION).apps
    user = old.get_model("accounts", "User").objects.create(email="ada@example.com", password="!")
    patient = old.get_model("accounts", "Patient").objects.create(
        user=user, full_name="Ada Lovelace", phone="+49 30 1234567", date_of_birth="1961-07-23"
    )
    clinic = old.get_model("scheduling", "Clinic").objects.create(name="Lindenhof", slug="l")
    doctor = old.get_model("scheduling", "Doctor").objects.create(clinic=clinic, name="Dr. A")
    kind = old.get_model("scheduling", "AppointmentType").objects.create(
        doctor=doctor, name="Consultation", duration=dt.timedelta(minutes=30)
    )
    starts = timezone.now() + dt.timedelta(days=3)
    old.get_model("appointments", "Appointment").objects.create(
        patient=patient,
        doctor=doctor,
        appointment_type=kind,
        starts_at=starts,
        ends_at=starts + dt.timedelta(minutes=30),
        reason="Knee pain",
    )

    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert raw_value("appointments_appointment", "reason").startswith("gAAAAA")
    assert raw_value("accounts_patient", "date_of_birth").startswith("gAAAAA")
    moved = Appointment.objects.select_related("patient").get()
    assert moved.reason == "Knee pain"
    assert moved.patient.date_of_birth == dt.date(1961, 7, 23)

    executor.loader.build_graph()
    executor.migrate(BEFORE_ENCRYPTION)
    assert raw_value("appointments_appointment", "reason") == "Knee pain"
    assert raw_value("accounts_patient", "date_of_birth") == "1961-07-23"


BEFORE_AUTHENTICATORS = [("accounts", "0006_encrypt_at_rest")]


@pytest.mark.django_db(transaction=True)
def test_authenticators_move_out_of_plaintext_with_their_api_tokens(executor):
    executor.migrate(BEFORE_AUTHENTICATORS)
    old = executor.loader.project_state(BEFORE_AUTHENTICATORS).apps
    user = old.get_model("accounts", "User").objects.create(
        email="nurse@example.com", password="!", is_staff=True
    )
    key = "3132333435363738393031323334353637383930"
    device = old.get_model("otp_totp", "TOTPDevice").objects.create(
        user=user, name="Authenticator app", confirmed=True, key=key
    )
    token = old.get_model("accounts", "ApiToken").objects.create(
        user=user,
        kind="staff",
        device=device,
        digest="e" * 64,
        prefix="abcdefgh",
        auth_hash="h",
        expires_at=timezone.now() + dt.timedelta(days=30),
    )

    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    moved = Authenticator.objects.get(user__email="nurse@example.com")
    assert moved.key == key
    assert raw_value("accounts_authenticator", "key").startswith("gAAAAA")
    assert ApiToken.objects.get(pk=token.pk).device == moved
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM otp_totp_totpdevice")
        assert cursor.fetchone()[0] == 0, "no plaintext key is left behind"


BEFORE_THE_CACHE_TABLE = [("api", "0005_encrypt_at_rest")]


def cache_table_exists() -> bool:
    return "cache_entries" in connection.introspection.table_names()


@pytest.mark.django_db(transaction=True)
def test_migrate_alone_makes_a_database_where_patients_sign_in_and_write_through_the_api(
    executor,
):
    # The test database was made by migrate and then createcachetable (Django's test
    # runner runs both): take the table away and migrate as a fresh deployment does.
    executor.migrate(BEFORE_THE_CACHE_TABLE)
    with connection.cursor() as cursor:
        cursor.execute('DROP TABLE "cache_entries"')
    assert not cache_table_exists()

    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert cache_table_exists()
    client = APIClient()
    email = "fresh@example.com"
    assert client.post("/api/v1/auth/otp/request", {"email": email}).status_code == 202
    assert mail.outbox, "the sign-in code was not sent"
    verified = client.post("/api/v1/auth/otp/verify", {"email": email, "code": last_emailed_code()})
    assert verified.status_code == 200, verified.content
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {verified.json()['token']}")
    written = client.put(
        "/api/v1/me",
        {"full_name": "Fresh Start", "phone": "+49 30 1234567", "date_of_birth": "1990-01-01"},
    )
    assert written.status_code == 200, written.content


@pytest.mark.django_db(transaction=True)
def test_the_cache_table_migration_passes_over_a_table_that_exists(executor):
    executor.migrate(BEFORE_THE_CACHE_TABLE)
    assert cache_table_exists()  # unapplying keeps it


@pytest.mark.django_db(transaction=True)
def test_existing_phones_are_stored_in_e164_with_their_search_keys(executor):
    from accounts import phones
    from accounts.models import Patient

    before = [("accounts", "0012_patient_search_keys")]
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    User, OldPatient = old.get_model("accounts", "User"), old.get_model("accounts", "Patient")
    leon = OldPatient.objects.create(
        user=User.objects.create(email="leon@example.com", password="!"),
        full_name="Léon Wolf",
        phone="0155 75151122",
    )
    odd = OldPatient.objects.create(
        user=User.objects.create(email="odd@example.com", password="!"),
        full_name="Odd Number",
        phone="ask at the desk",
    )

    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert cache_table_exists()

    leon = Patient.objects.get(pk=leon.pk)
    assert (leon.phone, leon.name_search) == ("+4915575151122", "leon wolf")
    assert leon.phone_lookup == phones.lookup_hash("+4915575151122")
    odd = Patient.objects.get(pk=odd.pk)
    assert (odd.phone, odd.phone_lookup) == ("ask at the desk", "")
