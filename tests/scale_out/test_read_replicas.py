"""Read replicas with read-your-writes, against a real streaming replica.

The test starts two throwaway PostgreSQL 15 clusters in a temporary directory: a primary
(migrated, with a doctor and three patients) and a replica made from it with
``pg_basebackup -R`` that applies every commit ``APPLY_DELAY`` seconds late
(``recovery_min_apply_delay``), so that a read sent to it right after a write is
certainly stale. gunicorn serves the app with ``DATABASE_URL`` the primary and
``DATABASE_REPLICA_URLS`` the replica. Both clusters are removed at the end, whatever
happened.

The controls: a client without the pin cookie reads the replica and does not see the
write it just made (the harness can see a stale read), and a plain read outside a
transaction in a worker process does not see a booking made a moment before.
"""

import datetime as dt
import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
import requests

from tests.scale_out.engines import (
    REPO,
    Child,
    Cluster,
    app_environment,
    service_directory,
    start_gunicorn,
    start_primary,
    start_replica,
    wait_until_serving,
)

# No test database of pytest-django's: these tests bring their own clusters. Marked
# postgres so that they run in the PostgreSQL run only (once), where CI has every engine.
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    # One worker runs the module: its clusters and server are module-wide.
    pytest.mark.xdist_group("read_replicas"),
]

# Seconds. Far longer than a request takes even on a busy machine, so that a read right
# after a write is certainly served before the replica applies it.
APPLY_DELAY = 4
PIN_SECONDS = 15  # longer than the delay, as in production it must exceed the lag


@dataclass
class Deployment:
    primary: Cluster
    replica: Cluster
    web: Child
    seeded: dict[str, Any]
    environment: dict[str, str]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.web.port}{path}"

    def client(self, patient: int) -> requests.Session:
        """A client that keeps cookies, as a browser (and requests.Session) does."""
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {self.seeded['tokens'][patient]}"
        return session


def next_monday_at_ten() -> str:
    """A bookable time in real time (the servers run unfrozen): Monday 10:00 in Berlin,
    at least two days ahead, inside the clinic's 90-day horizon."""
    berlin = ZoneInfo("Europe/Berlin")
    day = dt.datetime.now(berlin).date() + dt.timedelta(days=2)
    day += dt.timedelta(days=(7 - day.weekday()) % 7)
    return dt.datetime.combine(day, dt.time(10), berlin).isoformat()


def run_script(environment: dict[str, str], *arguments: str) -> Any:
    result = subprocess.run(  # noqa: S603 (our interpreter and module)
        [sys.executable, "-m", "tests.scale_out.scripts", *arguments],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def replica_has_caught_up(primary: Cluster, replica: Cluster) -> bool:
    with psycopg.connect(primary.url(), autocommit=True) as connection:
        lsn = connection.execute("SELECT pg_current_wal_lsn()").fetchone()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with psycopg.connect(replica.url(), autocommit=True) as connection:
            row = connection.execute(
                "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [lsn[0] if lsn else None]
            ).fetchone()
        if row and row[0]:
            return True
        time.sleep(0.2)
    return False


@pytest.fixture(scope="module")
def deployment(tmp_path_factory) -> Iterator[Deployment]:
    logs = tmp_path_factory.mktemp("replicas")
    with service_directory("clinic-replicas-") as directory:
        clusters: list[Cluster] = []
        web: Child | None = None
        try:
            primary = start_primary(directory)
            clusters.append(primary)
            on_primary = app_environment(
                DJANGO_SETTINGS_MODULE="clinic.settings", DATABASE_URL=primary.url()
            )
            migrate = subprocess.run(
                [sys.executable, "manage.py", "migrate", "--no-input"],
                cwd=REPO,
                env=on_primary,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            assert migrate.returncode == 0, migrate.stdout + migrate.stderr
            seeded = run_script(on_primary, "seed", next_monday_at_ten())
            replica = start_replica(primary, apply_delay=f"{APPLY_DELAY}s")
            clusters.append(replica)
            assert replica_has_caught_up(primary, replica), replica.log.read_text()
            environment = on_primary | {
                "DATABASE_REPLICA_URLS": replica.url(),
                "REPLICA_PIN_SECONDS": str(PIN_SECONDS),
            }
            web = start_gunicorn("web", environment, logs, workers=2)
            wait_until_serving([web])
            # Warm every worker up (imports, connections), so that the timed requests
            # below measure a request and not a worker's first one.
            for _ in range(4):
                requests.get(f"http://127.0.0.1:{web.port}/api/v1/doctors", timeout=30)
            yield Deployment(primary, replica, web, seeded, environment)
        finally:
            if web is not None:
                web.stop()
            for cluster in reversed(clusters):
                cluster.stop()


def book(deployment: Deployment, client: requests.Session, start: str) -> int:
    response = client.post(
        deployment.url("/api/v1/appointments"),
        json={
            "doctor": deployment.seeded["doctor"],
            "appointment_type": deployment.seeded["appointment_type"],
            "start": start,
        },
        headers={"Idempotency-Key": str(uuid.uuid4())},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def listed(deployment: Deployment, client: requests.Session) -> set[int]:
    response = client.get(deployment.url("/api/v1/appointments"), timeout=10)
    assert response.status_code == 200, response.text
    return {int(item["id"]) for item in response.json()["results"]}


def start_plus(deployment: Deployment, hours: int) -> str:
    start = dt.datetime.fromisoformat(deployment.seeded["start"])
    return (start + dt.timedelta(hours=hours)).isoformat()


def test_a_patient_sees_their_own_booking_on_the_next_request(deployment):
    client = deployment.client(0)
    written = time.monotonic()
    booked = book(deployment, client, start_plus(deployment, 2))

    assert "primary_pin" in client.cookies, "the write pinned this client to the primary"
    assert booked in listed(deployment, client)
    assert time.monotonic() - written < APPLY_DELAY, "read before the replica could have it"


def test_control_without_the_pin_the_same_read_is_stale_until_the_replica_applies_it(
    deployment,
):
    client = deployment.client(0)
    written = time.monotonic()
    booked = book(deployment, client, start_plus(deployment, 3))
    client.cookies.clear()  # the pin is gone: the next read goes to the replica

    stale = listed(deployment, client)
    read_at = time.monotonic() - written
    time.sleep(APPLY_DELAY + 1)
    later = listed(deployment, client)

    assert read_at < APPLY_DELAY
    assert booked not in stale, "the harness sees a stale read"
    assert booked in later, "the replica applied it after its delay"


def test_booking_services_read_only_the_primary_even_outside_a_request(deployment):
    seeded = deployment.seeded | {"start": start_plus(deployment, 5)}

    found = run_script(deployment.environment, "booking_probe", json.dumps(seeded))

    assert found == {
        "book_replica_queries": 0,
        "plain_read_sees_the_booking": False,  # the control: that read went to the replica
        "book_again_replica_queries": 0,
        "second_booking": "slot_unavailable",
        "reschedule_replica_queries": 0,
        "cancel_replica_queries": 0,
    }
