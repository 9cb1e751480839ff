"""The database's own guard against overlapping appointments.

PostgreSQL: two exclusion constraints (btree_gist) over ``tstzrange(starts_at, ends_at)``,
one per doctor and one per patient, for active statuses only. SQLite: triggers that
raise the same constraint names. Either way a write that bypasses the booking services,
a raw ORM ``create()`` or an SQL ``INSERT``, fails with an IntegrityError naming the
guard, which the services turn into a domain error.

Migration ``0002_overlap_guards`` installs this SQL. Changing it means a new migration
that uninstalls and reinstalls it.
"""

from django.db.backends.base.schema import BaseDatabaseSchemaEditor

DOCTOR_GUARD = "appointment_doctor_no_overlap"
PATIENT_GUARD = "appointment_patient_no_overlap"
GUARDS = {"doctor_id": DOCTOR_GUARD, "patient_id": PATIENT_GUARD}

TABLE = "appointments_appointment"
ACTIVE = "('booked', 'completed', 'no_show')"


def postgres_install_sql() -> list[str]:
    return [
        f"ALTER TABLE {TABLE} ADD CONSTRAINT {name} EXCLUDE USING gist "
        f"({column} WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&) "
        f"WHERE (status IN {ACTIVE})"
        for column, name in GUARDS.items()
    ]


def postgres_uninstall_sql() -> list[str]:
    return [f"ALTER TABLE {TABLE} DROP CONSTRAINT IF EXISTS {name}" for name in GUARDS.values()]


def sqlite_install_sql() -> list[str]:
    # julianday() compares instants whatever text format a raw INSERT used.
    statements = []
    for column, name in GUARDS.items():
        for event, self_clause in (
            ("INSERT", ""),
            (f"UPDATE OF {column}, starts_at, ends_at, status", "AND other.id != NEW.id"),
        ):
            suffix = "insert" if event == "INSERT" else "update"
            statements.append(
                f"CREATE TRIGGER {name}_{suffix} BEFORE {event} ON {TABLE} "
                f"WHEN NEW.status IN {ACTIVE} BEGIN "
                f"SELECT RAISE(ABORT, 'conflicting key value violates {name}') "
                f"WHERE EXISTS (SELECT 1 FROM {TABLE} AS other "
                f"WHERE other.{column} = NEW.{column} {self_clause} "
                f"AND other.status IN {ACTIVE} "
                f"AND julianday(other.starts_at) < julianday(NEW.ends_at) "
                f"AND julianday(NEW.starts_at) < julianday(other.ends_at)); "
                f"END"
            )
    return statements


def sqlite_uninstall_sql() -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS {name}_{suffix}"
        for name in GUARDS.values()
        for suffix in ("insert", "update")
    ]


def install(schema_editor: BaseDatabaseSchemaEditor) -> None:
    vendor = schema_editor.connection.vendor
    statements = {"postgresql": postgres_install_sql, "sqlite": sqlite_install_sql}[vendor]()
    for statement in statements:
        schema_editor.execute(statement)


def uninstall(schema_editor: BaseDatabaseSchemaEditor) -> None:
    vendor = schema_editor.connection.vendor
    statements = {"postgresql": postgres_uninstall_sql, "sqlite": sqlite_uninstall_sql}[vendor]()
    for statement in statements:
        schema_editor.execute(statement)


def violated_guard(error: Exception) -> str | None:
    """The name of the overlap guard an IntegrityError reports, if it is one of ours."""
    message = str(error)
    for name in GUARDS.values():
        if name in message:
            return name
    return None
