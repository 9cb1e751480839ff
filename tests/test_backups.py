"""scripts/backup and scripts/restore against the local PostgreSQL: a round trip keeps
every appointment and every history row, and a restore never lands on a database that
holds data unless told to."""

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from django.db import connection

from appointments.services import cancel_appointment
from tests.factories import book, local, make_doctor, make_patient

pytestmark = [pytest.mark.postgres, pytest.mark.usefixtures("frozen_now")]

REPO = Path(__file__).resolve().parents[1]
TABLES = ("appointments_appointment", "appointments_historicalappointment", "scheduling_clinic")


def database_url(name: str) -> str:
    settings = connection.settings_dict
    password = f":{quote(settings['PASSWORD'], safe='')}" if settings["PASSWORD"] else ""
    return (
        f"postgres://{quote(settings['USER'], safe='')}{password}"
        f"@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/{name}"
    )


def script(name: str, *arguments: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    # Our own scripts, with arguments the test made.
    return subprocess.run(  # noqa: S603
        [str(REPO / "scripts" / name), *arguments],
        env=environment | env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def rows(url: str) -> dict[str, list[tuple[object, ...]]]:
    with psycopg.connect(url) as database:
        return {
            table: database.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
            for table in TABLES
        }


@pytest.fixture
def empty_database(transactional_db) -> Iterator[str]:
    """A new, empty database on the test server; dropped afterwards."""
    name = f"{connection.settings_dict['NAME']}_restored"
    with psycopg.connect(database_url("postgres"), autocommit=True) as server:
        server.execute(f'DROP DATABASE IF EXISTS "{name}"')
        server.execute(f'CREATE DATABASE "{name}"')
    yield database_url(name)
    with psycopg.connect(database_url("postgres"), autocommit=True) as server:
        server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def appointments(transactional_db) -> None:
    doctor = make_doctor()
    for index, hour in enumerate((9, 10, 11)):
        patient = make_patient(f"patient{index}@example.com")
        appointment = book(patient, doctor, local(doctor.clinic, 2026, 3, 9, hour))
    cancel_appointment(
        appointment=appointment, cancelled_by=appointment.patient.user, reason="Better"
    )


def test_a_backup_restored_into_an_empty_database_keeps_every_appointment_and_history_row(
    appointments, empty_database, tmp_path
):
    source = database_url(connection.settings_dict["NAME"])
    before = rows(source)
    assert len(before["appointments_appointment"]) == 3
    assert len(before["appointments_historicalappointment"]) >= 4
    dump = tmp_path / "clinic.dump"

    backup = script("backup", str(dump), DATABASE_URL=source)
    restore = script("restore", "--database-url", empty_database, str(dump))

    assert backup.returncode == 0, backup.stderr
    assert dump.stat().st_mode & 0o077 == 0, "a backup is readable by its owner only"
    assert restore.returncode == 0, restore.stderr
    assert rows(empty_database) == before


def test_a_restore_over_a_database_with_data_is_refused_without_force(
    appointments, empty_database, tmp_path
):
    source = database_url(connection.settings_dict["NAME"])
    dump = tmp_path / "clinic.dump"
    assert script("backup", "--database-url", source, str(dump)).returncode == 0
    assert script("restore", "--database-url", empty_database, str(dump)).returncode == 0
    # A change made in the restored database since (history rows cannot be changed).
    with psycopg.connect(empty_database) as restored:
        restored.execute("UPDATE scheduling_clinic SET name = 'Changed since'")

    refused = script("restore", "--database-url", empty_database, str(dump))

    assert refused.returncode != 0
    assert "is not empty" in refused.stderr
    assert rows(empty_database) != rows(source), "the refused restore changed nothing"

    forced = script("restore", "--database-url", empty_database, "--force", str(dump))

    assert forced.returncode == 0, forced.stderr
    assert rows(empty_database) == rows(source)


def test_a_file_that_is_not_a_backup_is_refused(empty_database, tmp_path):
    junk = tmp_path / "junk.dump"
    junk.write_text("not a dump")

    result = script("restore", "--database-url", empty_database, str(junk))

    assert result.returncode != 0
    assert "not a backup" in result.stderr
