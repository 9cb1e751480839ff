"""Load test: the seed's traffic mix against gunicorn on 127.0.0.1, with latency percentiles.

    .venv/bin/python bench/loadtest.py                 # PostgreSQL, 60 s or 30,000 requests
    .venv/bin/python bench/loadtest.py --seconds 20 --concurrency 8
    .venv/bin/python bench/loadtest.py --api           # the same mix through /api/v1/

What it does, all on this machine:

1. prepares a database (PostgreSQL ``clinic_bench`` by default) with ``seed_demo``'s
   default sizes: 50 doctors, 20,000 patients, four weeks of appointments;
2. signs in ``--concurrency`` demo patients by writing their sessions directly (the
   emailed-code step is not what is measured);
3. starts gunicorn with ``--workers`` processes, DEBUG off, bound to 127.0.0.1;
4. offers ``--rate`` requests per second (the seed's peak, 50, by default) from
   ``--concurrency`` clients for at most ``--seconds`` and at most ``--max-requests``
   requests, with the seed's mix: 90 % reads (doctor list, a doctor's week of free
   times, my appointments), 10 % writes (book a free time through the confirmation
   form, cancel it again). Latency is counted from when a request was due, not when it
   was sent, so a server that falls behind is not flattered (no coordinated omission).
   ``--api`` sends the same mix to the JSON API instead (bearer tokens; doctors, a
   week of availability, my appointments; bookings with an ``Idempotency-Key``);
   ``--rate 0`` runs closed-loop clients instead, to find the maximum throughput;
5. prints and writes (``bench/results/latest.md``) p50/p95/p99 per kind of request,
   against the seed's targets (p95 reads 200 ms, writes 500 ms) and our own (ten
   times better: 20 ms, 50 ms).

Every request goes to 127.0.0.1 only, and the run is bounded in requests and seconds.
"""

import argparse
import base64
import datetime as dt
import hashlib
import html
import json
import os
import random
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"  # never anything else
READ_TARGET_MS, WRITE_TARGET_MS = 200, 500
OUR_READ_TARGET_MS, OUR_WRITE_TARGET_MS = 20, 50
SLOT_LINK = re.compile(r'href="(/appointments/new/\?[^"]+)"')
APPOINTMENT_URL = re.compile(r"^/appointments/(\d+)/")
# The cookie names of the server's settings (``__Host-`` prefixed with DEBUG off), set by
# ``prepare_database``.
COOKIE_NAMES = {"session": "sessionid", "csrf": "csrftoken"}


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/clinic_bench")
    parser.add_argument("--seconds", type=float, default=60, help="stop after this long")
    parser.add_argument("--max-requests", type=int, default=30_000, help="stop after this many")
    parser.add_argument("--concurrency", type=int, default=16, help="simultaneous clients")
    parser.add_argument(
        "--rate",
        type=float,
        default=50,
        help="requests per second offered in all (open loop; the seed's peak is 50); "
        "0: closed loop, each client sends its next request as soon as it has an answer "
        "(finds the maximum throughput)",
    )
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--write-share", type=float, default=0.10)
    parser.add_argument("--port", type=int, default=0, help="0: any free port")
    parser.add_argument(
        "--api", action="store_true", help="the JSON API (/api/v1/) instead of the pages"
    )
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "latest.md")
    return parser.parse_args()


# The cache (and task broker) of the server under test: Redis, as production runs it, in a
# database of its own (14), emptied at the start of each run (``flush_bench_redis``).
# BENCH_REDIS_URL= (empty) measures the database cache instead, the default without Redis.
BENCH_REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")


def server_environment(database_url: str, redis_url: str = BENCH_REDIS_URL) -> dict[str, str]:
    return os.environ | {
        "REDIS_URL": redis_url,
        "DJANGO_SETTINGS_MODULE": "clinic.settings",
        "DATABASE_URL": database_url,
        "DEBUG": "false",
        "SECRET_KEY": "bench-" + secrets.token_urlsafe(40),
        # Fixed, public keys: the bench database is seeded once and reused, so the
        # keys its encrypted fields were written with must not change between runs.
        "PHONE_LOOKUP_KEY": "bench-phone-lookup-key-not-a-secret-0000",
        "FIELD_ENCRYPTION_KEYS": base64.urlsafe_b64encode(
            hashlib.sha256(b"clinic bench, not a secret").digest()
        ).decode(),
        "ALLOWED_HOSTS": HOST,
        "SECURE_SSL_REDIRECT": "false",
        "EMAIL_URL": "file:///tmp/clinic-bench-mail",
        "LOG_LEVEL": "WARNING",
        # Each of the few bench clients writes far more than a person would; the
        # per-user limit (120/hour) would turn later runs within the hour into 429s.
        "API_THROTTLE_WRITES": "1000000/hour",
    }


def prepare_database(environment: dict[str, str], clients: int) -> dict[str, object]:
    """Migrate and seed the database, then sign in ``clients`` demo patients."""
    os.environ.update(environment)
    sys.path.insert(0, str(ROOT))
    _create_postgres_database(environment["DATABASE_URL"])
    _flush_redis(environment.get("REDIS_URL", ""))
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_email.models import EmailDevice

    from accounts.api_tokens import issue_token
    from accounts.models import ApiToken, Patient
    from accounts.sessions import LAST_SEEN, SIGNED_IN_AT
    from appointments.models import Appointment
    from scheduling.models import Doctor

    COOKIE_NAMES.update(session=settings.SESSION_COOKIE_NAME, csrf=settings.CSRF_COOKIE_NAME)
    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    call_command("seed_demo", allow_without_debug=True, verbosity=1)

    patients = list(
        Patient.objects.filter(user__email__endswith="@demo.example.com")
        .exclude(full_name="")
        .select_related("user")
        .order_by("pk")[:clients]
    )
    sessions = []
    tokens = [issue_token(user=p.user, kind=ApiToken.Kind.PATIENT)[0] for p in patients]
    for patient in patients:
        device, _ = EmailDevice.objects.get_or_create(
            user=patient.user, name="email", defaults={"confirmed": True}
        )
        store = SessionStore()
        store[SESSION_KEY] = str(patient.user.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = patient.user.get_session_auth_hash()
        store[DEVICE_ID_SESSION_KEY] = device.persistent_id
        # As a sign-in leaves them (accounts.sessions.stamp_sign_in).
        store[SIGNED_IN_AT] = store[LAST_SEEN] = time.time()
        store.create()
        sessions.append(store.session_key)
    doctor_ids = list(Doctor.objects.filter(is_active=True).values_list("pk", flat=True))
    # Each doctor's default appointment type (the shortest), which the API books.
    type_ids: dict[int, int] = {}
    for doctor in Doctor.objects.filter(pk__in=doctor_ids).prefetch_related("appointment_types"):
        active = [t for t in doctor.appointment_types.all() if t.is_active]
        type_ids[doctor.pk] = min(active, key=lambda t: (t.duration, t.name)).pk
    return {
        "sessions": sessions,
        "tokens": tokens,
        "type_ids": type_ids,
        "doctor_ids": doctor_ids,
        "appointments": Appointment.objects.count(),
        "patients": Patient.objects.count(),
    }


def _create_postgres_database(url: str) -> None:
    if not url.startswith("postgres"):
        return
    import psycopg

    name = url.rsplit("/", 1)[1].split("?")[0]
    server = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(server, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{name}"')


def _flush_redis(url: str) -> None:
    """Empty the bench's own Redis database, so that no run inherits the last one's cached
    entries, sessions or rate-limit counts."""
    if not url:
        return
    import redis

    redis.Redis.from_url(url, socket_connect_timeout=2).flushdb()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def start_server(environment: dict[str, str], port: int, workers: int) -> subprocess.Popen[bytes]:
    command = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "clinic.wsgi",
        f"--bind={HOST}:{port}",
        f"--workers={workers}",
        "--worker-class=sync",
        "--keep-alive=30",
        "--log-level=warning",
    ]
    server = subprocess.Popen(command, cwd=ROOT, env=environment)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            connection = HTTPConnection(HOST, port, timeout=2)
            connection.request("GET", "/", headers={"Host": HOST})
            if connection.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("gunicorn did not answer within 30 s")


@dataclass
class Results:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, dict[int, int]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int))
    )
    lock: threading.Lock = field(default_factory=threading.Lock)
    count: int = 0

    def record(self, kind: str, seconds: float, status: int) -> None:
        with self.lock:
            self.latencies[kind].append(seconds * 1000)
            self.statuses[kind][status] += 1
            self.count += 1


class Client:
    """One signed-in patient with a keep-alive connection, doing the seed's mix."""

    DOCTORS, MINE, CANCEL = "/doctors/", "/appointments/", "/appointments/{}/cancel/"

    def __init__(self, port: int, session_key: str, doctor_ids: list[int], seed: int) -> None:
        self.port = port
        self.connection = HTTPConnection(HOST, port, timeout=30)
        self.csrf = secrets.token_hex(16)  # Django accepts an unmasked 32-char secret
        self.cookie = f"{COOKIE_NAMES['session']}={session_key}; {COOKIE_NAMES['csrf']}={self.csrf}"
        self.doctor_ids = doctor_ids
        self.random = random.Random(seed)
        self.booked: list[str] = []
        self.due: float | None = None

    def request(
        self, method: str, path: str, body: dict[str, object] | None = None
    ) -> tuple[int, str, str]:
        headers = {"Host": HOST, "Cookie": self.cookie}
        data = None
        if body is not None:
            data = urlencode(body)
            headers |= {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-CSRFToken": self.csrf,
            }
        try:
            self.connection.request(method, path, body=data, headers=headers)
            response = self.connection.getresponse()
        except (OSError, ConnectionError):
            self.connection.close()
            self.connection = HTTPConnection(HOST, self.port, timeout=30)
            self.connection.request(method, path, body=data, headers=headers)
            response = self.connection.getresponse()
        text = response.read().decode()
        return response.status, response.getheader("Location") or "", text

    def timed(
        self,
        results: Results,
        kind: str,
        method: str,
        path: str,
        body: dict[str, object] | None = None,
    ) -> tuple[int, str, str]:
        # Open loop: count from when the request was due (see the module docstring).
        started = self.due if self.due is not None else time.perf_counter()
        self.due = None
        status, location, text = self.request(method, path, body)
        results.record(kind, time.perf_counter() - started, status)
        return status, location, text

    def doctor_week(self, results: Results) -> str:
        path = f"/doctors/{self.random.choice(self.doctor_ids)}/"
        weeks_ahead = self.random.randint(0, 3)
        if weeks_ahead:
            day = dt.date.today() + dt.timedelta(days=7 * weeks_ahead)
            path += f"?week={day.isoformat()}"
        _status, _location, text = self.timed(results, "read: doctor's week", "GET", path)
        return text

    def step(self, results: Results, write_share: float) -> None:
        roll = self.random.random()
        if roll < write_share:
            self.write(results)
        elif roll < write_share + 0.25:
            self.timed(results, "read: doctor list", "GET", self.DOCTORS)
        elif roll < write_share + 0.70:
            self.doctor_week(results)
        else:
            self.timed(results, "read: my appointments", "GET", self.MINE)

    def write(self, results: Results) -> None:
        if self.booked:
            path = self.CANCEL.format(self.booked.pop())
            self.timed(results, "write: cancel", "POST", path, {"reason": "load test"})
            return
        self.book(results)

    def book(self, results: Results) -> None:
        links = SLOT_LINK.findall(self.doctor_week(results))
        if not links:
            return
        path = html.unescape(self.random.choice(links[: max(1, len(links) // 2)]))
        status, location, _text = self.timed(
            results,
            "write: book",
            "POST",
            path,
            {"reason": "load test", "booking_key": uuid.uuid4().hex},
        )
        match = APPOINTMENT_URL.match(location) if status in (302, 303) else None
        if match:
            self.booked.append(match.group(1))


class ApiClient(Client):
    """The same mix through the JSON API, signed in with a bearer token."""

    DOCTORS, MINE, CANCEL = (
        "/api/v1/doctors",
        "/api/v1/appointments",
        "/api/v1/appointments/{}/cancel",
    )

    def __init__(
        self, port: int, token: str, doctor_ids: list[int], type_ids: dict[int, int], seed: int
    ) -> None:
        super().__init__(port, "", doctor_ids, seed)
        self.token = token
        self.type_ids = type_ids
        self.last_doctor = doctor_ids[0]

    def request(
        self, method: str, path: str, body: dict[str, object] | None = None
    ) -> tuple[int, str, str]:
        headers = {"Host": HOST, "Authorization": f"Bearer {self.token}"}
        data = None
        if body is not None:
            data = json.dumps(body)
            headers |= {"Content-Type": "application/json", "Idempotency-Key": str(uuid.uuid4())}
        try:
            self.connection.request(method, path, body=data, headers=headers)
            response = self.connection.getresponse()
        except (OSError, ConnectionError):
            self.connection.close()
            self.connection = HTTPConnection(HOST, self.port, timeout=30)
            self.connection.request(method, path, body=data, headers=headers)
            response = self.connection.getresponse()
        return response.status, response.getheader("Location") or "", response.read().decode()

    def doctor_week(self, results: Results) -> str:
        doctor = self.random.choice(self.doctor_ids)
        first = dt.date.today() + dt.timedelta(days=7 * self.random.randint(0, 3))
        last = first + dt.timedelta(days=6)
        path = f"/api/v1/doctors/{doctor}/availability?from={first}&to={last}"
        _status, _location, text = self.timed(results, "read: doctor's week", "GET", path)
        self.last_doctor = doctor
        return text

    def book(self, results: Results) -> None:
        slots = json.loads(self.doctor_week(results) or "[]")
        if not isinstance(slots, list) or not slots:
            return
        slot = self.random.choice(slots[: max(1, len(slots) // 2)])
        doctor = self.last_doctor
        status, _location, text = self.timed(
            results,
            "write: book",
            "POST",
            "/api/v1/appointments",
            {
                "doctor": doctor,
                "appointment_type": self.type_ids[doctor],
                "start": slot["start"],
                "reason": "load test",
            },
        )
        if status == 201:
            self.booked.append(str(json.loads(text)["id"]))


def run_load(
    args: argparse.Namespace, port: int, setup: dict[str, object]
) -> tuple[Results, float]:
    results = Results()
    sessions: list[str] = setup["sessions"]  # type: ignore[assignment]
    doctor_ids: list[int] = setup["doctor_ids"]  # type: ignore[assignment]
    tokens: list[str] = setup["tokens"]  # type: ignore[assignment]
    type_ids: dict[int, int] = setup["type_ids"]  # type: ignore[assignment]
    deadline = time.monotonic() + args.seconds

    interval = args.concurrency / args.rate if args.rate else 0.0

    def work(number: int) -> None:
        client: Client
        if args.api:
            token = tokens[number % len(tokens)]
            client = ApiClient(port, token, doctor_ids, type_ids, seed=number)
        else:
            client = Client(port, sessions[number % len(sessions)], doctor_ids, seed=number)
        # Spread the clients' first requests over one interval.
        next_due = time.perf_counter() + interval * number / args.concurrency
        while time.monotonic() < deadline and results.count < args.max_requests:
            if interval:
                time.sleep(max(0.0, next_due - time.perf_counter()))
                client.due = next_due
                next_due += interval
            client.step(results, args.write_share)
        # Leave no booking behind that would block the next run's patients.
        while client.booked:
            client.write(results)

    started = time.monotonic()
    threads = [threading.Thread(target=work, args=(n,)) for n in range(args.concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, time.monotonic() - started


def percentile(values: list[float], share: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=1000, method="inclusive")[int(share * 1000) - 1]


def report(
    args: argparse.Namespace, setup: dict[str, object], results: Results, elapsed: float
) -> str:
    lines = [
        "# Load test results",
        "",
        f"- when: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        f"- machine: {os.cpu_count()} cores; load generator, gunicorn and database share it",
        f"- database: {args.database_url.split('@')[-1]}; {setup['patients']} patients, "
        f"{setup['appointments']} appointments, {len(setup['doctor_ids'])} doctors",  # type: ignore[arg-type]
        f"- surface: {'JSON API (/api/v1/)' if args.api else 'HTML pages'}",
        f"- gunicorn: {args.workers} sync workers; {args.concurrency} clients; "
        + (f"{args.rate:g} req/s offered (open loop)" if args.rate else "closed loop")
        + f"; write share {args.write_share:.0%}",
        f"- {results.count} requests in {elapsed:.1f} s: {results.count / elapsed:.0f} req/s",
        "",
        "| request | count | p50 ms | p95 ms | p99 ms | max ms | statuses |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    groups: dict[str, list[float]] = defaultdict(list)
    for kind in sorted(results.latencies):
        values = results.latencies[kind]
        groups[kind.split(":")[0]].extend(values)
        statuses = ", ".join(f"{code}: {n}" for code, n in sorted(results.statuses[kind].items()))
        lines.append(
            f"| {kind} | {len(values)} | {percentile(values, 0.5):.1f} | "
            f"{percentile(values, 0.95):.1f} | {percentile(values, 0.99):.1f} | "
            f"{max(values):.1f} | {statuses} |"
        )
    lines.append("")
    verdicts = []
    for group, seed_target, our_target in (
        ("read", READ_TARGET_MS, OUR_READ_TARGET_MS),
        ("write", WRITE_TARGET_MS, OUR_WRITE_TARGET_MS),
    ):
        values = groups.get(group, [])
        if not values:
            continue
        p95 = percentile(values, 0.95)
        verdicts.append(
            f"- all {group}s: p95 {p95:.1f} ms; seed target {seed_target} ms: "
            f"{'met' if p95 <= seed_target else 'MISSED'}; ours {our_target} ms: "
            f"{'met' if p95 <= our_target else 'MISSED'}"
        )
    server_errors = sum(
        n for statuses in results.statuses.values() for code, n in statuses.items() if code >= 500
    )
    verdicts.append(f"- server errors (5xx): {server_errors}")
    return "\n".join(lines + verdicts) + "\n"


def main() -> None:
    args = parse_arguments()
    environment = server_environment(args.database_url)
    setup = prepare_database(environment, args.concurrency)
    port = args.port or free_port()
    server = start_server(environment, port, args.workers)
    try:
        results, elapsed = run_load(args, port, setup)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    text = report(args, setup, results, elapsed)
    print(text)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)


if __name__ == "__main__":
    main()
