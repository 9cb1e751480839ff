"""Two gunicorn instances and two ``qcluster`` workers against one PostgreSQL through
PgBouncer in transaction pooling mode (Debian's binary, started here with a generated
ini and userlist), configured as docs/pooling-and-replicas.md says
(``DATABASE_POOLER=pgbouncer``).

PgBouncer keeps fewer server connections (``POOL_SIZE``) than it has clients, and hands
them out in turn, so consecutive transactions of one client run on different server
connections: anything that relies on a session (a session-level lock, a prepared
statement, a WITH HOLD cursor) would break here. Through it:

- of many concurrent HTTP bookings of one time, exactly one wins and the others get a
  clean 409;
- concurrent requests with one Idempotency-Key book once, and every later retry gets
  the stored response (the in-flight lock is transaction-scoped);
- each due email is sent exactly once by the two clusters, to a real SMTP server.

The control runs a web app whose in-flight lock is session-level: later retries are
wrongly refused as "still in flight", so the harness would see the mistake.
"""

import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any
from urllib.parse import quote

import psycopg
import pytest
import requests
from aiosmtpd.controller import Controller
from django.conf import settings
from django.db import connection

from appointments.emails import message_id
from appointments.models import Appointment, Notification
from tests.api.helpers import token_for
from tests.appointments.test_worker_processes import Listener, Record, due_burst, wake_ups_every
from tests.conftest import free_port
from tests.factories import consultation, make_doctor, make_patient
from tests.scale_out.engines import (
    Bouncer,
    Child,
    app_environment,
    pgbouncer,
    start_gunicorn,
    start_qcluster,
    stop_all,
    wait_for,
    wait_until_running,
    wait_until_serving,
)
from tests.scale_out.test_read_replicas import next_monday_at_ten

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
    # One worker runs the module (its processes are module-wide) and the other tests
    # that hold many connections, one at a time.
    pytest.mark.xdist_group("postgres_races"),
]

POOL_SIZE = 5  # server connections; the clients: 2 x 3 web workers, 2 clusters, this test
RACERS = 16
SENT_SECONDS = 45


@dataclass
class Stack:
    bouncer: Bouncer
    webs: list[Child]
    clusters: list[Child]
    record: Record
    environment: dict[str, str]
    logs: Any

    def url(self, number: int, path: str) -> str:
        return f"http://127.0.0.1:{self.webs[number % len(self.webs)].port}{path}"

    def log_tails(self) -> str:
        return "\n".join(child.log_tail() for child in [*self.webs, *self.clusters])


def the_test_database() -> dict[str, str]:
    """pytest-django's test database (test_<name>, one per xdist worker)."""
    db = connection.settings_dict
    return {
        "name": db["NAME"],
        "host": db["HOST"] or "127.0.0.1",
        "port": str(db["PORT"] or 5432),
        "user": db["USER"] or "postgres",
        "password": db["PASSWORD"] or "",
    }


@pytest.fixture(scope="module")
def stack(django_db_setup, tmp_path_factory) -> Iterator[Stack]:
    logs = tmp_path_factory.mktemp("pgbouncer")
    db = the_test_database()
    record = Record()
    controllers: list[Controller] = []
    children: list[Child] = []
    with pgbouncer(
        server_host=db["host"],
        server_port=int(db["port"]),
        user=db["user"],
        password=db["password"],
        pool_size=POOL_SIZE,
    ) as bouncer:
        try:
            password = f":{quote(db['password'], safe='')}" if db["password"] else ""
            environment = app_environment(
                DJANGO_SETTINGS_MODULE="clinic.settings",
                DATABASE_URL=(
                    f"postgres://{quote(db['user'], safe='')}{password}@127.0.0.1:"
                    f"{bouncer.port}/{db['name']}"
                ),
                DATABASE_POOLER="pgbouncer",
                SITE_URL=settings.SITE_URL,
            )
            webs = [start_gunicorn(f"web-{n}", environment, logs, workers=3) for n in "AB"]
            children += webs
            clusters = []
            for name in "AB":
                listener = Listener(name, record, delay=0.05)
                controller = Controller(listener, hostname="127.0.0.1", port=free_port())
                controller.start()
                controllers.append(controller)
                cluster_env = environment | {
                    "EMAIL_URL": f"smtp://127.0.0.1:{controller.port}?timeout=30"
                }
                clusters.append(start_qcluster(f"qcluster-{name}", cluster_env, logs))
            children += clusters
            wait_until_serving(webs)
            wait_until_running(clusters)
            yield Stack(bouncer, webs, clusters, record, environment, logs)
        finally:
            stop_all(children)
            for controller in controllers:
                controller.stop()


def race(calls: list[Callable[[], requests.Response]]) -> list[requests.Response]:
    """Send every request at the same moment, each from its own thread."""
    barrier = threading.Barrier(len(calls))
    results: list[requests.Response | BaseException] = [RuntimeError("not run")] * len(calls)

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = calls[index]()
        except BaseException as error:
            results[index] = error

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results  # type: ignore[return-value]


def post_booking(
    stack: Stack, server: int, token: str, body: dict[str, Any], key: str
) -> requests.Response:
    return requests.post(
        stack.url(server, "/api/v1/appointments"),
        json=body,
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key},
        timeout=30,
    )


def booking_body(doctor, start: str) -> dict[str, Any]:
    return {"doctor": doctor.pk, "appointment_type": consultation(doctor).pk, "start": start}


def summary(responses: list[requests.Response]) -> Counter[tuple[int, str]]:
    def code(response: requests.Response) -> str:
        if response.status_code < 400:
            return "replayed" if response.headers.get("Idempotent-Replayed") else "new"
        return str(response.json().get("code"))

    return Counter((response.status_code, code(response)) for response in responses)


def wait_until_sent(stack: Stack, keys: set[str]) -> None:
    """Until the emails with these keys are sent (due_burst's reminders go by SMS too,
    to the console backend here: they are not counted)."""

    def sent() -> bool:
        rows = Notification.objects.filter(
            key__in=keys, channel=Notification.Channel.EMAIL, state=Notification.State.SENT
        )
        return rows.count() == len(keys)

    wait_for(sent, f"{len(keys)} emails to be sent", stack.log_tails)


def test_one_of_many_concurrent_http_bookings_of_one_time_wins_and_its_email_goes_once(stack):
    doctor = make_doctor()
    body = booking_body(doctor, next_monday_at_ten())
    tokens = [token_for(make_patient().user) for _ in range(RACERS)]

    responses = race(
        [
            partial(post_booking, stack, n, token, body, str(uuid.uuid4()))
            for n, token in enumerate(tokens)
        ]
    )

    outcomes = summary(responses)
    assert outcomes[(201, "new")] == 1, outcomes
    assert sum(n for (status, _), n in outcomes.items() if status == 409) == RACERS - 1, outcomes
    assert {code for (status, code) in outcomes if status == 409} <= {"slot_unavailable", "busy"}
    assert Appointment.objects.filter(doctor=doctor).count() == 1
    # The booking's confirmation, queued through the ORM broker behind PgBouncer.
    [booked] = Appointment.objects.filter(doctor=doctor)
    confirmation = Notification.objects.get(appointment=booked, kind=Notification.Kind.BOOKED)
    wait_until_sent(stack, {confirmation.key})
    assert stack.record.message_ids()[message_id(confirmation)] == 1
    print(f"\n{RACERS} bookings through PgBouncer: {dict(outcomes)}")


def same_key_burst_then_retries(stack: Stack) -> tuple[Counter[Any], Counter[Any], set[int]]:
    """RACERS concurrent identical bookings with one key, spread over both servers, then
    as many retries one after another; returns both outcomes and the booked ids."""
    doctor = make_doctor()
    token = token_for(make_patient().user)
    body = booking_body(doctor, next_monday_at_ten())
    key = str(uuid.uuid4())

    burst = race([partial(post_booking, stack, n, token, body, key) for n in range(RACERS // 2)])
    retries = [post_booking(stack, n, token, body, key) for n in range(RACERS)]

    booked = {int(r.json()["id"]) for r in [*burst, *retries] if r.status_code == 201}
    assert set(Appointment.objects.filter(doctor=doctor).values_list("pk", flat=True)) == booked
    return summary(burst), summary(retries), booked


def test_one_idempotency_key_books_once_and_every_later_retry_gets_the_stored_answer(stack):
    burst, retries, booked = same_key_burst_then_retries(stack)

    assert len(booked) == 1
    assert burst[(201, "new")] == 1, burst
    assert set(burst) <= {(201, "new"), (201, "replayed"), (409, "idempotency_key_in_flight")}
    assert retries == Counter({(201, "replayed"): RACERS}), retries
    print(f"\nsame key through PgBouncer: burst {dict(burst)}, retries {dict(retries)}")


def test_each_due_email_is_sent_exactly_once_by_the_two_clusters(stack):
    expected = due_burst()
    keys = set(
        Notification.objects.filter(channel=Notification.Channel.EMAIL).values_list(
            "key", flat=True
        )
    )

    with wake_ups_every(0.2):
        wait_until_sent(stack, keys)

    ours = [d for d in stack.record.deliveries if d.message_id in set(expected.values())]
    counts = Counter(d.message_id for d in ours)
    assert counts == Counter(set(expected.values())), "each email exactly once"
    senders = Counter(d.listener for d in ours)
    assert set(senders) == {"A", "B"}, f"both clusters sent some: {senders}"
    assert (
        not Notification.objects.exclude(state=Notification.State.SENT)
        .filter(channel=Notification.Channel.EMAIL)
        .exists()
    )
    print(f"\n{len(expected)} emails through PgBouncer: {dict(senders)}")


def test_control_a_session_level_in_flight_lock_refuses_later_retries_through_pgbouncer(
    stack,
):
    broken = start_gunicorn(
        "web-session-lock",
        stack.environment,
        stack.logs,
        workers=3,
        app="tests.scale_out.session_lock_wsgi:application",
    )
    try:
        wait_until_serving([broken])
        control = Stack(stack.bouncer, [broken], [], stack.record, stack.environment, stack.logs)
        _burst, retries, booked = same_key_burst_then_retries(control)
    finally:
        broken.stop()

    assert len(booked) == 1, "still one booking: the unique key stops a second"
    stuck = retries[(409, "idempotency_key_in_flight")]
    assert stuck > 0, f"the harness sees the lock stick on a server connection: {retries}"
    print(f"\ncontrol, session-level lock through PgBouncer: retries {dict(retries)}")


def prepared_statement_errors(stack: Stack, prepare_threshold: int | None) -> list[str]:
    """Four clients each run one query 50 times through PgBouncer, psycopg preparing it
    after ``prepare_threshold`` runs (None: never)."""
    db = the_test_database()
    errors: list[str] = []

    def client() -> None:
        try:
            with psycopg.connect(
                host="127.0.0.1",
                port=stack.bouncer.port,
                dbname=db["name"],
                user=db["user"],
                password=db["password"],
                prepare_threshold=prepare_threshold,
                autocommit=True,
            ) as session:
                for number in range(50):
                    session.execute("SELECT %s::int + 1", [number]).fetchone()
        except psycopg.Error as error:
            errors.append(str(error))

    threads = [threading.Thread(target=client) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return errors


def test_with_prepared_statements_off_as_the_pooler_setting_says_queries_run_through_pgbouncer(
    stack,
):
    assert prepared_statement_errors(stack, None) == []


def test_control_prepared_statements_fail_through_pgbouncer(stack):
    errors = prepared_statement_errors(stack, 0)

    assert errors, "PgBouncer 1.18 passes prepared statements to whichever server connection"
    assert all("prepared statement" in error for error in errors), errors
