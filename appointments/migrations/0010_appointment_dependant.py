"""Appointments for a patient's dependants (accounts.Dependant): ``Appointment.dependant``
names whom the visit is for (NULL: the account holder), and the patient overlap guard
becomes per person: one patient and each of their dependants are separate people, whose
appointments may overlap each other's but not their own.

PostgreSQL: the exclusion constraint over (patient_id, COALESCE(dependant_id, 0), time);
0 is no row's id, so it stands for "the patient themself". SQLite: the triggers compare
``dependant_id IS NEW.dependant_id`` (IS matches NULL with NULL). The SQL is written out
here, frozen (see 0002_overlap_guards). The doctor guard is unchanged.
"""

import django.db.models.deletion
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

ACTIVE = "('booked', 'completed', 'no_show')"
OVERLAP = (
    "julianday(other.starts_at) < julianday(NEW.ends_at) AND julianday(NEW.starts_at) "
    "< julianday(other.ends_at)"
)


def sqlite_patient_trigger(*, event: str, suffix: str, person: str) -> str:
    """A patient guard trigger; ``person`` matches the other rows of the same person."""
    not_itself = " AND other.id != NEW.id" if suffix == "update" else ""
    return (
        f"CREATE TRIGGER appointment_patient_no_overlap_{suffix} BEFORE {event} ON "
        f"appointments_appointment WHEN NEW.status IN {ACTIVE} BEGIN SELECT RAISE(ABORT, "
        "'conflicting key value violates appointment_patient_no_overlap') WHERE EXISTS "
        f"(SELECT 1 FROM appointments_appointment AS other WHERE {person}{not_itself} AND "
        f"other.status IN {ACTIVE} AND {OVERLAP}); END"
    )


PER_PERSON = "other.patient_id = NEW.patient_id AND other.dependant_id IS NEW.dependant_id"
PER_PATIENT = "other.patient_id = NEW.patient_id"

GUARDS = {
    "per_person": {
        "postgresql": [
            "ALTER TABLE appointments_appointment ADD CONSTRAINT "
            "appointment_patient_no_overlap EXCLUDE USING gist (patient_id WITH =, "
            "(COALESCE(dependant_id, 0)) WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&) "
            f"WHERE (status IN {ACTIVE})",
        ],
        "sqlite": [
            sqlite_patient_trigger(event="INSERT", suffix="insert", person=PER_PERSON),
            sqlite_patient_trigger(
                event="UPDATE OF patient_id, dependant_id, starts_at, ends_at, status",
                suffix="update",
                person=PER_PERSON,
            ),
        ],
    },
    # What 0002 installed, for going back.
    "per_patient": {
        "postgresql": [
            "ALTER TABLE appointments_appointment ADD CONSTRAINT "
            "appointment_patient_no_overlap EXCLUDE USING gist (patient_id WITH =, "
            f"tstzrange(starts_at, ends_at, '[)') WITH &&) WHERE (status IN {ACTIVE})",
        ],
        "sqlite": [
            sqlite_patient_trigger(event="INSERT", suffix="insert", person=PER_PATIENT),
            sqlite_patient_trigger(
                event="UPDATE OF patient_id, starts_at, ends_at, status",
                suffix="update",
                person=PER_PATIENT,
            ),
        ],
    },
}

DROP = {
    "postgresql": [
        "ALTER TABLE appointments_appointment DROP CONSTRAINT IF EXISTS "
        "appointment_patient_no_overlap",
    ],
    "sqlite": [
        "DROP TRIGGER IF EXISTS appointment_patient_no_overlap_insert",
        "DROP TRIGGER IF EXISTS appointment_patient_no_overlap_update",
    ],
}


def _replace_patient_guard(schema_editor: BaseDatabaseSchemaEditor, kind: str) -> None:
    vendor = schema_editor.connection.vendor
    for statement in [*DROP[vendor], *GUARDS[kind][vendor]]:
        schema_editor.execute(statement)


def per_person(apps: StateApps | None, schema_editor: BaseDatabaseSchemaEditor) -> None:
    _replace_patient_guard(schema_editor, "per_person")


def per_patient(apps: StateApps | None, schema_editor: BaseDatabaseSchemaEditor) -> None:
    _replace_patient_guard(schema_editor, "per_patient")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0017_dependant"),
        ("appointments", "0009_notification_channel"),
    ]

    operations = [
        migrations.AddField(
            model_name="appointment",
            name="dependant",
            field=models.ForeignKey(
                blank=True,
                help_text="Whom the visit is for, when not the account holder themself.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="appointments",
                to="accounts.dependant",
            ),
        ),
        migrations.AddField(
            model_name="historicalappointment",
            name="dependant",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                help_text="Whom the visit is for, when not the account holder themself.",
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="accounts.dependant",
            ),
        ),
        # After the column exists (on SQLite the AddField may have remade the table and
        # dropped every trigger with it: the doctor's are untouched by ADD COLUMN, and
        # tests/appointments/test_db_guards.py checks that all four are in place).
        migrations.RunPython(per_person, per_patient),
    ]
