"""The database's own guard against overlapping appointments (see appointments.db_guards).

PostgreSQL: two exclusion constraints (btree_gist) over ``tstzrange(starts_at, ends_at)``,
one per doctor and one per patient, for active statuses only. SQLite: triggers that raise
the same constraint names. The SQL is written out here, frozen: a migration runs the same
way for ever, whatever the application code becomes. Changing a guard means a new
migration that drops these and creates the new ones.
"""

from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

INSTALL = {
    "postgresql": [
        "ALTER TABLE appointments_appointment ADD CONSTRAINT appointment_doctor_no_overlap "
        "EXCLUDE USING gist (doctor_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&) "
        "WHERE (status IN ('booked', 'completed', 'no_show'))",
        "ALTER TABLE appointments_appointment ADD CONSTRAINT appointment_patient_no_overlap "
        "EXCLUDE USING gist (patient_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&) "
        "WHERE (status IN ('booked', 'completed', 'no_show'))",
    ],
    # julianday() compares instants whatever text format a raw INSERT used.
    "sqlite": [
        "CREATE TRIGGER appointment_doctor_no_overlap_insert BEFORE INSERT ON "
        "appointments_appointment WHEN NEW.status IN ('booked', 'completed', 'no_show') "
        "BEGIN SELECT RAISE(ABORT, 'conflicting key value violates "
        "appointment_doctor_no_overlap') WHERE EXISTS (SELECT 1 FROM "
        "appointments_appointment AS other WHERE other.doctor_id = NEW.doctor_id  AND "
        "other.status IN ('booked', 'completed', 'no_show') AND julianday(other.starts_at) "
        "< julianday(NEW.ends_at) AND julianday(NEW.starts_at) < julianday(other.ends_at)); "
        "END",
        "CREATE TRIGGER appointment_doctor_no_overlap_update BEFORE UPDATE OF doctor_id, "
        "starts_at, ends_at, status ON appointments_appointment WHEN NEW.status IN "
        "('booked', 'completed', 'no_show') BEGIN SELECT RAISE(ABORT, 'conflicting key "
        "value violates appointment_doctor_no_overlap') WHERE EXISTS (SELECT 1 FROM "
        "appointments_appointment AS other WHERE other.doctor_id = NEW.doctor_id AND "
        "other.id != NEW.id AND other.status IN ('booked', 'completed', 'no_show') AND "
        "julianday(other.starts_at) < julianday(NEW.ends_at) AND julianday(NEW.starts_at) "
        "< julianday(other.ends_at)); END",
        "CREATE TRIGGER appointment_patient_no_overlap_insert BEFORE INSERT ON "
        "appointments_appointment WHEN NEW.status IN ('booked', 'completed', 'no_show') "
        "BEGIN SELECT RAISE(ABORT, 'conflicting key value violates "
        "appointment_patient_no_overlap') WHERE EXISTS (SELECT 1 FROM "
        "appointments_appointment AS other WHERE other.patient_id = NEW.patient_id  AND "
        "other.status IN ('booked', 'completed', 'no_show') AND julianday(other.starts_at) "
        "< julianday(NEW.ends_at) AND julianday(NEW.starts_at) < julianday(other.ends_at)); "
        "END",
        "CREATE TRIGGER appointment_patient_no_overlap_update BEFORE UPDATE OF patient_id, "
        "starts_at, ends_at, status ON appointments_appointment WHEN NEW.status IN "
        "('booked', 'completed', 'no_show') BEGIN SELECT RAISE(ABORT, 'conflicting key "
        "value violates appointment_patient_no_overlap') WHERE EXISTS (SELECT 1 FROM "
        "appointments_appointment AS other WHERE other.patient_id = NEW.patient_id AND "
        "other.id != NEW.id AND other.status IN ('booked', 'completed', 'no_show') AND "
        "julianday(other.starts_at) < julianday(NEW.ends_at) AND julianday(NEW.starts_at) "
        "< julianday(other.ends_at)); END",
    ],
}

UNINSTALL = {
    "postgresql": [
        "ALTER TABLE appointments_appointment DROP CONSTRAINT IF EXISTS "
        "appointment_doctor_no_overlap",
        "ALTER TABLE appointments_appointment DROP CONSTRAINT IF EXISTS "
        "appointment_patient_no_overlap",
    ],
    "sqlite": [
        "DROP TRIGGER IF EXISTS appointment_doctor_no_overlap_insert",
        "DROP TRIGGER IF EXISTS appointment_doctor_no_overlap_update",
        "DROP TRIGGER IF EXISTS appointment_patient_no_overlap_insert",
        "DROP TRIGGER IF EXISTS appointment_patient_no_overlap_update",
    ],
}


def install(apps: StateApps | None, schema_editor: BaseDatabaseSchemaEditor) -> None:
    for statement in INSTALL[schema_editor.connection.vendor]:
        schema_editor.execute(statement)


def uninstall(apps: StateApps | None, schema_editor: BaseDatabaseSchemaEditor) -> None:
    for statement in UNINSTALL[schema_editor.connection.vendor]:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("appointments", "0001_initial")]

    operations = [
        # A no-op on SQLite. On PostgreSQL it needs a role allowed to create extensions
        # (btree_gist is a trusted extension, so a database owner is enough on PG 13+).
        BtreeGistExtension(),
        migrations.RunPython(install, uninstall),
    ]
