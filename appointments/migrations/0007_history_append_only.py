"""History rows are append-only: on PostgreSQL a trigger on each history table refuses
UPDATE and DELETE unless the transaction set ``clinic.history_rewrite`` (clinic/audit.py:
key rotation, a patient's erasure, the demo reset). The SQL is written out here, frozen.
A history table added later needs the trigger too (a test lists them).

SQLite keeps no such trigger: there the application's own refusals stand alone."""

from django.db import migrations

TABLES = [
    "appointments_historicalappointment",
    "scheduling_historicalweeklyavailability",
    "scheduling_historicalextrahours",
    "scheduling_historicaltimeoff",
]

FUNCTION = """
CREATE OR REPLACE FUNCTION history_append_only() RETURNS trigger AS $$
BEGIN
    IF current_setting('clinic.history_rewrite', true) = 'on' THEN
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END IF;
    RAISE EXCEPTION USING
        MESSAGE = 'history rows are append-only: ' || TG_OP || ' on ' || TG_TABLE_NAME,
        ERRCODE = 'insufficient_privilege';
END
$$ LANGUAGE plpgsql
"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION)
    for table in TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION history_append_only()"
        )


def uninstall(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
    schema_editor.execute("DROP FUNCTION IF EXISTS history_append_only()")


class Migration(migrations.Migration):
    dependencies = [
        ("appointments", "0006_encrypt_at_rest"),
        ("scheduling", "0003_encrypt_at_rest"),
    ]

    operations = [migrations.RunPython(install, uninstall)]
