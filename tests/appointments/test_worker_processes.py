"""Real worker processes on PostgreSQL: two ``manage.py qcluster`` clusters send a burst
of due emails to real SMTP listeners and text messages to local HTTP SMS gateways, and
one of them is killed with SIGKILL mid-send.

Each cluster sends through its own SMTP listener and its own SMS gateway (A or B) so the
records show which cluster delivered what; both listeners write to one record, keyed by
Message-ID (made from the notification's unique key, so a duplicate is recognisable),
and both gateways to another, keyed by the SMS's reference (the same key). Exactly once
is per channel: each email once, each text message once, whoever sent them. The test process
keeps queueing wake-up tasks, as bookings and the minute schedule do, so that both
clusters pick up sweeps and really compete for the same rows.

The control runs the same clusters with a claim that does not lock: it must see
duplicates, which proves the harness would catch them.
"""

import asyncio
import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django_q.models import OrmQ, Schedule
from django_q.tasks import async_task

from appointments.emails import message_id
from appointments.models import Appointment, Notification
from tests.conftest import free_port
from tests.factories import consultation, make_doctor, make_patient
from tests.sms_gateway import Gateway, running_gateway

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

State = Notification.State
Channel = Notification.Channel
BURST = 40
# Every other notification is a reminder, which also goes by SMS: the rows of the burst.
ROWS = BURST + BURST // 2
# Bounds for each wait, so a broken worker fails the test instead of hanging it.
READY_SECONDS = 30
DONE_SECONDS = 45

# The control's worker: django-q2 forks its workers from this process, so they inherit
# the replaced claim. Same query, same order, no FOR UPDATE SKIP LOCKED.
QCLUSTER_WITHOUT_LOCK = """
import django
django.setup()
from appointments import tasks
tasks.claim_next_notification = lambda now: tasks.due_notifications(now).first()
from django.core.management import call_command
call_command("qcluster")
"""


# --- SMTP listeners -----------------------------------------------------------------------


@dataclass
class Delivery:
    listener: str
    message_id: str
    recipient: str


@dataclass
class Hold:
    """Withhold the server's reply to one of the victim's messages until the test has
    killed the victim: at RCPT (the server does not have the message yet) or after
    DATA (the server has accepted it; the worker has not heard so)."""

    stage: Literal["rcpt", "data"]
    after: int  # messages the victim delivers before the held one
    reached: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)
    recipient: str = ""
    message_id: str = ""

    async def wait_for_release(self) -> None:
        deadline = time.monotonic() + DONE_SECONDS
        while not self.released.is_set() and time.monotonic() < deadline:
            await asyncio.sleep(0.01)


@dataclass
class Record:
    deliveries: list[Delivery] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, delivery: Delivery) -> int:
        with self.lock:
            self.deliveries.append(delivery)
            return sum(1 for d in self.deliveries if d.listener == delivery.listener)

    def count(self, listener: str) -> int:
        with self.lock:
            return sum(1 for d in self.deliveries if d.listener == listener)

    def message_ids(self) -> Counter[str]:
        with self.lock:
            return Counter(d.message_id for d in self.deliveries)


@dataclass
class Listener:
    """An aiosmtpd handler: records each accepted message, then answers after ``delay``
    seconds (a slow server, so that a batch takes a while)."""

    name: str
    record: Record
    delay: float
    hold: Hold | None = None
    port: int = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        hold = self.hold
        if (
            hold
            and hold.stage == "rcpt"
            and not hold.reached.is_set()
            and self.record.count(self.name) >= hold.after
        ):
            hold.recipient = address
            hold.reached.set()
            await hold.wait_for_release()
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        message = message_from_bytes(envelope.content, policy=default_policy)
        # Accepted from here on, as a real server's queue would have it.
        delivery = Delivery(self.name, str(message["Message-ID"]), envelope.rcpt_tos[0])
        delivered = self.record.add(delivery)
        await asyncio.sleep(self.delay)
        hold = self.hold
        if hold and hold.stage == "data" and not hold.reached.is_set() and delivered > hold.after:
            hold.recipient, hold.message_id = delivery.recipient, delivery.message_id
            hold.reached.set()
            await hold.wait_for_release()
        return "250 Message accepted for delivery"


@pytest.fixture
def listeners() -> Iterator[Callable[..., Listener]]:
    controllers: list[Controller] = []
    holds: list[Hold] = []

    def start(listener: Listener) -> Listener:
        controller = Controller(listener, hostname="127.0.0.1", port=free_port())
        controller.start()
        controllers.append(controller)
        listener.port = controller.port
        if listener.hold:
            holds.append(listener.hold)
        return listener

    yield start
    for hold in holds:
        hold.released.set()
    for controller in controllers:
        controller.stop()


@dataclass
class SmsGateways:
    """One SMS gateway per cluster (a local http.server each), one record: each
    gateway's ``received`` list, read together."""

    gateways: list[Gateway] = field(default_factory=list)

    def references(self) -> Counter[str]:
        counts: Counter[str] = Counter()
        for gateway in self.gateways:
            counts += gateway.references()
        return counts

    def count(self, name: str) -> int:
        return sum(len(g.received) for g in self.gateways if g.name == name)


@pytest.fixture
def sms_gateways() -> Iterator[Callable[..., Gateway]]:
    record = SmsGateways()
    stack: list[Any] = []

    def start(name: str, *, delay: float = 0.1, hold_after: int | None = None) -> Gateway:
        context = running_gateway(Gateway(name=name, delay=delay, hold_after=hold_after))
        gateway = context.__enter__()
        stack.append(context)
        record.gateways.append(gateway)
        return gateway

    start.record = record  # type: ignore[attr-defined]
    yield start
    for context in reversed(stack):
        context.__exit__(None, None, None)


# --- Clusters -----------------------------------------------------------------------------


@dataclass
class Cluster:
    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def log_tail(self) -> str:
        lines = self.log.read_text(errors="replace").splitlines()
        return f"--- {self.name} ({self.log}) ---\n" + "\n".join(lines[-30:])

    def kill(self) -> None:
        """SIGKILL every process of the cluster: its main process, the sentinel, the
        pusher, the monitor and the workers share one process group."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


def cluster_database_url() -> str:
    """This test's database (pytest-django's test_<name>, one per xdist worker)."""
    db = connection.settings_dict
    password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    return (
        f"postgres://{quote(db['USER'], safe='')}{password}@{db['HOST'] or '127.0.0.1'}"
        f":{db['PORT'] or 5432}/{db['NAME']}"
    )


@pytest.fixture
def clusters(transactional_db, tmp_path) -> Iterator[Callable[..., Cluster]]:
    started: list[Cluster] = []

    def start(
        name: str,
        *,
        smtp_port: int,
        workers: int,
        lock: bool = True,
        redis_url: str = "",
        sms_url: str = "",
    ) -> Cluster:
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in {"REDIS_URL", "DATABASE_URL", "EMAIL_URL", "Q_WORKERS"}
            and not key.startswith("SMS_")
        }
        env |= {
            "DJANGO_SETTINGS_MODULE": "clinic.settings",
            "DATABASE_URL": cluster_database_url(),
            "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}?timeout=30",
            "Q_WORKERS": str(workers),
            "SITE_URL": settings.SITE_URL,
            "PYTHONUNBUFFERED": "1",
        }
        if sms_url:
            env |= {
                "SMS_BACKEND": "http",
                "SMS_GATEWAY_URL": sms_url,
                "SMS_GATEWAY_TOKEN": "test-token",
                "SMS_GATEWAY_TIMEOUT_SECONDS": "30",
            }
        if redis_url:
            env["REDIS_URL"] = redis_url
        command = (
            [sys.executable, "manage.py", "qcluster"]
            if lock
            else [sys.executable, "-c", QCLUSTER_WITHOUT_LOCK]
        )
        log = tmp_path / f"qcluster-{name}.log"
        with log.open("wb") as output:
            process = subprocess.Popen(  # noqa: S603 (our own interpreter and manage.py)
                command,
                cwd=settings.BASE_DIR,
                env=env,
                stdout=output,
                stderr=subprocess.STDOUT,
                # Its own process group, so that one killpg reaches all its processes.
                start_new_session=True,
            )
        cluster = Cluster(name, process, log)
        started.append(cluster)
        return cluster

    yield start
    for cluster in started:
        cluster.kill()


def wait_until(
    condition: Callable[[], bool], seconds: float, what: str, clusters: list[Cluster]
) -> float:
    """Poll ``condition`` for up to ``seconds``; return the time it took."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > seconds:
            logs = "\n".join(cluster.log_tail() for cluster in clusters)
            raise AssertionError(f"Gave up after {seconds} s waiting for {what}.\n{logs}")
        time.sleep(0.05)
    return time.monotonic() - started


def wait_until_running(clusters: list[Cluster]) -> None:
    def running() -> bool:
        return all("running." in cluster.log.read_text(errors="replace") for cluster in clusters)

    wait_until(running, READY_SECONDS, "the clusters to start", clusters)


@contextmanager
def wake_ups_every(seconds: float) -> Iterator[None]:
    """Queue a sweep every ``seconds`` from another thread (its own connection), as
    bookings committing and the minute schedule do in production."""
    stop = threading.Event()

    def queue_sweeps() -> None:
        try:
            while not stop.is_set():
                async_task("appointments.tasks.send_due_notifications", task_name="test wake-up")
                stop.wait(seconds)
        finally:
            connection.close()

    thread = threading.Thread(target=queue_sweeps, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=10)


# --- Data ---------------------------------------------------------------------------------


def due_burst() -> dict[str, str]:
    """BURST due emails, half confirmations and half reminders, each for its own patient,
    and each reminder by SMS too (the patients have opted in); returns the emails'
    Message-IDs by recipient. ``sms_references()`` are the text messages' keys."""
    doctor = make_doctor()
    first = (timezone.now() + dt.timedelta(days=2)).replace(microsecond=0)
    due = timezone.now() - dt.timedelta(minutes=1)
    expected: dict[str, str] = {}
    for number in range(BURST):
        patient = make_patient(
            f"patient{number}@example.com", phone=f"+49170{number:07d}", sms_opt_in=True
        )
        starts_at = first + dt.timedelta(minutes=30 * number)
        appointment = Appointment.objects.create(
            patient=patient,
            doctor=doctor,
            appointment_type=consultation(doctor),
            starts_at=starts_at,
            ends_at=starts_at + dt.timedelta(minutes=30),
        )
        kind, suffix = (
            (Notification.Kind.BOOKED, "") if number % 2 else (Notification.Kind.REMINDER, "-1440m")
        )
        notification = Notification.objects.create(
            appointment=appointment,
            kind=kind,
            sequence=0,
            key=f"appointment-{appointment.pk}-v0-{kind}{suffix}",
            due_at=due,
        )
        expected[patient.email] = message_id(notification)
        if kind == Notification.Kind.REMINDER:
            Notification.objects.create(
                appointment=appointment,
                kind=kind,
                channel=Channel.SMS,
                sequence=0,
                key=notification.key,
                due_at=due,
            )
    return expected


def sms_references() -> set[str]:
    return set(Notification.objects.filter(channel=Channel.SMS).values_list("key", flat=True))


def all_sent() -> bool:
    return Notification.objects.filter(state=State.SENT).count() == ROWS


# --- The tests ----------------------------------------------------------------------------


def test_two_clusters_deliver_a_burst_exactly_once_per_channel(listeners, sms_gateways, clusters):
    expected = due_burst()
    record = Record()
    a = listeners(Listener("A", record, delay=0.1))
    b = listeners(Listener("B", record, delay=0.1))
    gateway_a, gateway_b = sms_gateways("A"), sms_gateways("B")
    both = [
        clusters("A", smtp_port=a.port, workers=2, sms_url=gateway_a.url),
        clusters("B", smtp_port=b.port, workers=2, sms_url=gateway_b.url),
    ]
    wait_until_running(both)

    with wake_ups_every(0.2):
        took = wait_until(all_sent, DONE_SECONDS, "every message to be sent", both)

    counts = record.message_ids()
    assert counts == Counter(set(expected.values())), "each email exactly once"
    texts = sms_gateways.record.references()
    assert texts == Counter(sms_references()), "each text message exactly once"
    assert len(texts) == BURST // 2
    assert record.count("A") > 0
    assert record.count("B") > 0, "both clusters sent some: they shared the burst"
    assert not Notification.objects.exclude(state=State.SENT).exists()
    print(
        f"\n{BURST} emails and {len(texts)} SMS by 2 clusters in {took:.1f} s: "
        f"A sent {record.count('A')} + {gateway_a.received.__len__()}, "
        f"B sent {record.count('B')} + {gateway_b.received.__len__()}"
    )


def test_a_worker_killed_before_the_server_had_the_message_leaves_it_to_the_other_once(
    listeners, sms_gateways, clusters
):
    expected = due_burst()
    record = Record()
    hold = Hold(stage="rcpt", after=2)
    a = listeners(Listener("A", record, delay=0.2, hold=hold))
    b = listeners(Listener("B", record, delay=0.2))
    victim = clusters("A", smtp_port=a.port, workers=1, sms_url=sms_gateways("A").url)
    survivor = clusters("B", smtp_port=b.port, workers=2, sms_url=sms_gateways("B").url)
    wait_until_running([victim, survivor])

    with wake_ups_every(0.2):
        wait_until(hold.reached.is_set, DONE_SECONDS, "A's third message", [victim, survivor])
        # A's worker is inside an SMTP transaction, waiting for "250" to its RCPT.
        victim.kill()
        hold.released.set()
        took = wait_until(all_sent, DONE_SECONDS, "every email to be sent", [survivor])

    assert victim.process.returncode == -signal.SIGKILL
    counts = record.message_ids()
    assert counts == Counter(set(expected.values())), "each email exactly once"
    assert sms_gateways.record.references() == Counter(sms_references()), "each SMS once"
    [held] = [d for d in record.deliveries if d.recipient == hold.recipient]
    assert held.listener == "B", "the message A was sending when it died came from B"
    print(f"\nkilled A at RCPT for {hold.recipient}; B finished in {took:.1f} s; no duplicate")


def test_a_worker_killed_after_the_server_accepted_sends_that_one_email_twice(
    listeners, sms_gateways, clusters
):
    """The crash window docs/operations.md describes: the SMTP server has the message,
    the worker dies before marking it sent, the row goes back to pending and the other
    worker sends it again. The duplicate carries the same Message-ID."""
    expected = due_burst()
    record = Record()
    hold = Hold(stage="data", after=2)
    a = listeners(Listener("A", record, delay=0.2, hold=hold))
    b = listeners(Listener("B", record, delay=0.2))
    victim = clusters("A", smtp_port=a.port, workers=1, sms_url=sms_gateways("A").url)
    survivor = clusters("B", smtp_port=b.port, workers=2, sms_url=sms_gateways("B").url)
    wait_until_running([victim, survivor])

    with wake_ups_every(0.2):
        wait_until(hold.reached.is_set, DONE_SECONDS, "A's third message", [victim, survivor])
        # The server has accepted A's message; A is waiting for the reply that says so.
        victim.kill()
        hold.released.set()
        took = wait_until(all_sent, DONE_SECONDS, "every email to be sent", [survivor])

    counts = record.message_ids()
    assert set(counts) == set(expected.values()), "every email arrived"
    assert {mid: n for mid, n in counts.items() if n > 1} == {hold.message_id: 2}
    copies = [d.listener for d in record.deliveries if d.message_id == hold.message_id]
    assert sorted(copies) == ["A", "B"]
    # The other channel is untouched by the email's crash window: each SMS once.
    assert sms_gateways.record.references() == Counter(sms_references())
    print(f"\nkilled A after DATA; B finished in {took:.1f} s; duplicate: {hold.message_id}")


def test_a_worker_killed_after_the_sms_gateway_took_the_message_sends_that_one_sms_twice(
    listeners, sms_gateways, clusters
):
    """The same crash window on the SMS channel: the gateway has the message, the worker
    dies before its answer, the other cluster sends it again with the same reference
    and Idempotency-Key (which gateways that deduplicate by key turn into one message).
    The emails are untouched: each once."""
    expected = due_burst()
    record = Record()
    a = listeners(Listener("A", record, delay=0.1))
    b = listeners(Listener("B", record, delay=0.1))
    gateway_a = sms_gateways("A", hold_after=2)
    victim = clusters("A", smtp_port=a.port, workers=1, sms_url=gateway_a.url)
    survivor = clusters("B", smtp_port=b.port, workers=2, sms_url=sms_gateways("B").url)
    wait_until_running([victim, survivor])

    with wake_ups_every(0.2):
        wait_until(gateway_a.held.is_set, DONE_SECONDS, "A's third SMS", [victim, survivor])
        victim.kill()
        gateway_a.released.set()
        took = wait_until(all_sent, DONE_SECONDS, "every message to be sent", [survivor])

    texts = sms_gateways.record.references()
    assert set(texts) == sms_references(), "every SMS arrived"
    assert {ref: n for ref, n in texts.items() if n > 1} == {gateway_a.held_reference: 2}
    copies = [
        g.name
        for g in sms_gateways.record.gateways
        for r in g.received
        if r.body["reference"] == gateway_a.held_reference
    ]
    assert sorted(copies) == ["A", "B"]
    assert record.message_ids() == Counter(set(expected.values())), "each email once"
    print(f"\nkilled A while the gateway held its SMS; B finished in {took:.1f} s")


def test_control_without_the_row_lock_the_harness_sees_duplicates(
    listeners, sms_gateways, clusters
):
    expected = due_burst()
    record = Record()
    a = listeners(Listener("A", record, delay=0.1))
    b = listeners(Listener("B", record, delay=0.1))
    both = [
        clusters("A", smtp_port=a.port, workers=2, lock=False, sms_url=sms_gateways("A").url),
        clusters("B", smtp_port=b.port, workers=2, lock=False, sms_url=sms_gateways("B").url),
    ]
    wait_until_running(both)

    with wake_ups_every(0.2):
        wait_until(all_sent, DONE_SECONDS, "every email to be sent", both)

    counts = record.message_ids()
    texts = sms_gateways.record.references()
    assert set(counts) == set(expected.values())
    assert set(texts) == sms_references()
    duplicates = sum(n - 1 for n in counts.values())
    sms_duplicates = sum(n - 1 for n in texts.values())
    assert duplicates > 0
    assert sms_duplicates > 0
    print(
        f"\ncontrol: {duplicates} duplicate emails among {BURST}, "
        f"{sms_duplicates} duplicate SMS among {len(texts)}"
    )


def test_with_redis_url_set_the_worker_takes_its_tasks_from_redis(listeners, clusters, redis_url):
    # Only the wake-up below may send: no minute schedule to do it instead.
    Schedule.objects.all().delete()
    expected = due_burst()
    record = Record()
    a = listeners(Listener("A", record, delay=0))
    cluster = clusters("A", smtp_port=a.port, workers=1, redis_url=redis_url)
    wait_until_running([cluster])
    time.sleep(2)
    assert not Notification.objects.filter(state=State.SENT).exists(), "nothing woke it yet"

    # The wake-up goes through Redis, as a web process with REDIS_URL set sends it; the
    # database-backed queue stays empty.
    env = os.environ | {"REDIS_URL": redis_url, "DATABASE_URL": cluster_database_url()}
    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            "from django_q.tasks import async_task; "
            "async_task('appointments.tasks.send_due_notifications')",
        ],
        cwd=settings.BASE_DIR,
        env=env,
        check=True,
        capture_output=True,
        timeout=30,
    )
    wait_until(all_sent, 40, "every email to be sent via the Redis queue", [cluster])

    assert record.message_ids() == Counter(set(expected.values()))
    assert not OrmQ.objects.exists(), "nothing went through the database queue"
