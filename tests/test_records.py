"""Records outlive everything: the audit trail keeps its "who" and is append-only,
appointments cannot be deleted by any path, the worker's own schedules stay, and a
patient's erasure removes who they are while the appointment records stay."""

import importlib
import io

import pytest
from django.apps import apps as django_apps
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.db.models import ProtectedError
from django.urls import reverse
from django_q.models import Schedule

from accounts.models import ApiToken, Patient, User
from accounts.protection import UserInAuditTrail, history_models
from appointments.erasure import ERASED_NAME, UpcomingAppointments, erase_patient
from appointments.models import Appointment, Status, UnauditedWrite
from appointments.services import cancel_appointment
from clinic.api.models import IdempotencyKey
from clinic.audit import rewriting_history
from scheduling.models import Clinic, Doctor
from tests.api.helpers import booking, client_for, post_booking
from tests.factories import book, local, log_in_staff, make_doctor, make_patient, make_staff

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]


@pytest.fixture
def doctor():
    return make_doctor()


@pytest.fixture
def appointment(doctor):
    return book(make_patient(), doctor, local(doctor.clinic, 2026, 3, 9, 10), reason="Cough")


@pytest.fixture
def superuser_client(client):
    user = make_staff("root@example.com", is_superuser=True)
    log_in_staff(client, user)
    return client


# --- The audit trail keeps its "who" ----------------------------------------------------


def test_a_staff_member_who_acted_cannot_be_deleted_only_deactivated(appointment):
    nurse = make_staff("nurse@example.com")
    cancel_appointment(appointment=appointment, cancelled_by=nurse, reason="Ill", by_clinic=True)

    with pytest.raises(UserInAuditTrail), transaction.atomic():
        nurse.delete()

    assert appointment.history.latest().history_user == nurse


def test_the_admin_offers_deactivating_not_deleting_someone_in_the_audit_trail(
    superuser_client, appointment
):
    nurse = make_staff("nurse@example.com")
    cancel_appointment(appointment=appointment, cancelled_by=nurse, reason="Ill", by_clinic=True)

    refused = superuser_client.get(reverse("admin:accounts_user_delete", args=[nurse.pk]))
    deactivated = superuser_client.post(
        reverse("admin:accounts_user_changelist"),
        {"action": "deactivate", "_selected_action": [nurse.pk]},
    )

    assert refused.status_code == 403
    assert deactivated.status_code == 302
    nurse.refresh_from_db()
    assert not nurse.is_active
    assert appointment.history.latest().history_user == nurse


def test_someone_who_never_acted_can_still_be_deleted():
    make_staff("temp@example.com").delete()

    assert not User.objects.filter(email="temp@example.com").exists()


@pytest.mark.postgres
def test_the_database_refuses_to_change_or_delete_a_history_row(appointment):
    table = Appointment.history.model._meta.db_table

    for statement in (f"UPDATE {table} SET status = 'completed'", f"DELETE FROM {table}"):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)

    assert appointment.history.count() == 1


@pytest.mark.postgres
def test_rewriting_history_is_possible_only_inside_its_own_transaction(appointment):
    history = Appointment.history.model

    with rewriting_history():
        history.objects.filter(id=appointment.pk).update(reason="")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        history.objects.filter(id=appointment.pk).update(reason="again")


@pytest.mark.postgres
def test_every_history_table_has_the_append_only_trigger():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT event_object_table FROM information_schema.triggers "
            "WHERE trigger_name LIKE '%%_append_only'"
        )
        guarded = {row[0] for row in cursor.fetchall()}

    assert {model._meta.db_table for model in history_models()} <= guarded


# The migrations that make the app's own schedules: a data migration's rows are gone
# from a worker's database once a transaction=True test there has flushed it.
SCHEDULE_MIGRATIONS = [
    importlib.import_module("appointments.migrations.0005_notification_sweep_schedule"),
    importlib.import_module("accounts.migrations.0010_purge_schedule"),
]


@pytest.fixture
def app_schedules() -> None:
    for migration in SCHEDULE_MIGRATIONS:
        migration.create_schedule(django_apps, None)  # update_or_create: safe if present


@pytest.mark.usefixtures("app_schedules")
def test_the_apps_own_schedules_cannot_be_deleted_in_the_admin(superuser_client):
    own = Schedule.objects.get(name="send due notifications")
    other = Schedule.objects.create(name="an admin's own", func="math.floor", schedule_type="D")

    own_page = superuser_client.get(reverse("admin:django_q_schedule_delete", args=[own.pk]))
    other_page = superuser_client.get(reverse("admin:django_q_schedule_delete", args=[other.pk]))

    assert own_page.status_code == 403
    assert other_page.status_code == 200
    assert {"send due notifications", "purge expired sign-in data"} <= set(
        Schedule.objects.values_list("name", flat=True)
    )


# --- Retention: no path deletes an appointment record ----------------------------------


def test_an_appointment_cannot_be_deleted_through_the_orm(appointment):
    with pytest.raises(UnauditedWrite):
        appointment.delete()
    with pytest.raises(UnauditedWrite):
        Appointment.objects.all().delete()


def test_an_appointment_cannot_be_deleted_through_the_api(appointment):
    api = client_for(make_staff(clinics=(appointment.doctor.clinic,)))

    response = api.delete(f"/api/v1/appointments/{appointment.pk}")

    assert response.status_code == 405
    assert Appointment.objects.filter(pk=appointment.pk).exists()


def test_an_appointment_cannot_be_deleted_in_the_admin(superuser_client, appointment):
    response = superuser_client.get(
        reverse("admin:appointments_appointment_delete", args=[appointment.pk])
    )

    assert response.status_code == 403


@pytest.mark.parametrize("owner", ["patient", "user", "doctor", "clinic"])
def test_deleting_what_an_appointment_belongs_to_does_not_cascade(appointment, owner):
    target = {
        "patient": lambda: Patient.objects.get(pk=appointment.patient_id),
        "user": lambda: User.objects.get(pk=appointment.patient.user_id),
        "doctor": lambda: Doctor.objects.get(pk=appointment.doctor_id),
        "clinic": lambda: Clinic.objects.get(pk=appointment.doctor.clinic_id),
    }[owner]()

    with pytest.raises((ProtectedError, UserInAuditTrail)), transaction.atomic():
        target.delete()

    assert Appointment.objects.filter(pk=appointment.pk).exists()
    assert appointment.history.exists()


def test_the_retention_report_counts_what_is_kept(appointment, settings):
    settings.RETENTION_YEARS = 7
    out = io.StringIO()

    call_command("retention_report", stdout=out)

    report = out.getvalue()
    assert "at least 7 years" in report
    assert "2026             1              1  retention" in report
    assert "1 appointment records kept; none deleted." in report


# --- Erasure ---------------------------------------------------------------------------


def past_appointment_with_personal_data(doctor, frozen_now):
    patient = make_patient("ada@example.com", full_name="Ada Lovelace", phone="+49 30 1234567")
    response = post_booking(client_for(patient.user), **booking(doctor, reason="Migraine"))
    assert response.status_code == 201
    appointment = Appointment.objects.get(patient=patient)
    cancel_appointment(appointment=appointment, cancelled_by=patient.user, reason="Feel better")
    return patient, appointment


def test_erasing_a_patient_keeps_the_record_and_removes_who_and_why(doctor, frozen_now):
    patient, appointment = past_appointment_with_personal_data(doctor, frozen_now)
    staff = make_staff()

    erase_patient(patient=patient, erased_by=staff)

    patient.refresh_from_db()
    user = User.objects.get(pk=patient.user_id)
    assert (patient.full_name, patient.phone, patient.date_of_birth) == (ERASED_NAME, "", None)
    assert patient.erased_at is not None
    assert user.email.endswith("@erased.invalid")
    assert not user.is_active
    kept = Appointment.objects.get(pk=appointment.pk)
    assert (kept.doctor, kept.starts_at, kept.status) == (
        doctor,
        appointment.starts_at,
        Status.CANCELLED_BY_PATIENT,
    )
    assert (kept.reason, kept.cancellation_reason) == ("", "")
    # Frozen time: the records share one history_date, so their ids order them.
    history = list(kept.history.order_by("history_date", "history_id"))
    assert all(record.reason == record.cancellation_reason == "" for record in history)
    assert [record.history_change_reason for record in history] == [
        "booked",
        "cancelled by patient",
        "personal data erased",
    ]
    assert history[-1].history_user == staff
    assert not IdempotencyKey.objects.filter(user=user).exists()
    assert not ApiToken.objects.filter(user=user).exists()


def test_an_erased_patient_leaves_nothing_of_theirs_in_any_table(doctor, frozen_now):
    patient, _appointment = past_appointment_with_personal_data(doctor, frozen_now)

    erase_patient(patient=patient, erased_by=None)

    dump: list[str] = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            dump.extend(str(value) for row in cursor.fetchall() for value in row)
    everything = "\n".join(dump)
    for trace in ("ada@example.com", "Ada Lovelace"):
        assert trace not in everything


def test_a_patient_with_upcoming_appointments_is_not_erased(appointment):
    with pytest.raises(UpcomingAppointments):
        erase_patient(patient=appointment.patient, erased_by=None)

    assert Patient.objects.get(pk=appointment.patient_id).erased_at is None


def test_the_admin_and_the_command_erase_too(superuser_client, doctor, frozen_now):
    patient, _appointment = past_appointment_with_personal_data(doctor, frozen_now)
    other = make_patient("grace@example.com")

    superuser_client.post(
        reverse("admin:accounts_patient_changelist"),
        {"action": "erase_personal_data", "_selected_action": [patient.pk]},
    )
    dry = io.StringIO()
    call_command("erase_patient", "--email", "grace@example.com", "--dry-run", stdout=dry)
    assert Patient.objects.get(pk=other.pk).erased_at is None
    call_command("erase_patient", "--email", "grace@example.com", stdout=io.StringIO())

    assert Patient.objects.get(pk=patient.pk).erased_at is not None
    assert Patient.objects.get(pk=other.pk).erased_at is not None
    assert "Would erase" in dry.getvalue()
