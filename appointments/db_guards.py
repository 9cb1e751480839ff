"""The database's own guard against overlapping appointments: what the code needs to know
of it.

PostgreSQL: two exclusion constraints (btree_gist) over ``tstzrange(starts_at,
ends_at)``, one per doctor and one per person, for active statuses only. A person is a
patient or one of the dependants they book for: the patient guard compares
``patient_id`` and ``COALESCE(dependant_id, 0)`` (0: the patient themself), so a parent
and their child may be seen at the same time, the child not twice (migration
``0010_appointment_dependant``). SQLite: triggers that raise the same constraint names.
Either way a write that bypasses the booking services, a raw ORM ``create()`` or an SQL
``INSERT``, fails with an IntegrityError naming the guard, which the services turn into
a domain error.

Migration ``0002_overlap_guards`` installs them (``0010`` replaces the patient guard),
with its SQL written out in it (a migration never imports live code). Changing a guard
means a new migration. On SQLite, a migration that remakes the appointments table (most
``AlterField``/``AddField`` operations do) drops the triggers with the old table: such a
migration must install them again (tests/appointments/test_db_guards.py fails if one
forgets).
"""

DOCTOR_GUARD = "appointment_doctor_no_overlap"
PATIENT_GUARD = "appointment_patient_no_overlap"
GUARDS = (DOCTOR_GUARD, PATIENT_GUARD)


def violated_guard(error: Exception) -> str | None:
    """The name of the overlap guard an IntegrityError reports, if it is one of ours."""
    message = str(error)
    for name in GUARDS:
        if name in message:
            return name
    return None
