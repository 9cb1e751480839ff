"""``make bench``: the hot endpoints side by side with a bare view, the seed mix, and
200 patients racing for one slot, against gunicorn on 127.0.0.1 (issue 14).

    make bench                  # about 5 minutes once the database is seeded
    make bench BENCH_QUICK=1    # a smoke run of a few seconds per phase: no figures

All on this machine, in this order:

1. prepares the PostgreSQL database ``clinic_bench`` (``BENCH_DATABASE_URL``) with
   ``seed_demo``'s defaults (seeded once, then reused), signs in demo patients (sessions
   written directly, API tokens issued);
2. starts gunicorn as production does (``gunicorn.conf.py``, DEBUG off, 4 sync workers,
   ``BENCH_WORKERS``), bound to 127.0.0.1 only;
3. **throughput**: closed-loop clients (two processes, so that the load generator is not
   one GIL) on each endpoint of ``ENDPOINTS`` in turn, interleaved over several rounds so
   that a neighbour's load on the shared machine hits all of them alike; each endpoint's
   requests per second as a ratio to the bare view's (``/healthz``, answered by the first
   middleware: the most any request can get) in the same run;
4. **the seed mix** (``bench/loadtest.py``: 90 % reads, 10 % bookings and cancels through
   the pages) at 10 and at 50 req/s, open loop, latency counted from when each request
   was due (no coordinated omission);
5. **contention**: 200 patients POST one free slot at once through the API; exactly one
   may get 201, every other a 409, none a 5xx;
6. checks in the database that no two active appointments of one doctor, or of one
   patient, overlap;
7. writes ``bench/results/bench.md`` and ``bench/results/bench.json`` (``bench.report``).

Every phase has a fixed duration, and an alarm stops the whole run (and gunicorn) after
``HARD_LIMIT_SECONDS``. Every request goes to 127.0.0.1.
"""

import argparse
import datetime as dt
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from http.client import HTTPConnection
from multiprocessing import get_context
from pathlib import Path
from types import FrameType
from typing import Any

from bench import loadtest, report

ROOT = Path(__file__).resolve().parent.parent
HOST = loadtest.HOST  # 127.0.0.1, never anything else
HARD_LIMIT_SECONDS = 9 * 60
BARE = "bare view (/healthz)"


@dataclass(frozen=True)
class Endpoint:
    """One measured request. ``path`` may name ``{doctor}`` (a random active doctor),
    ``{day}`` (a random local date in the next fortnight), ``{monday}`` and ``{sunday}``
    (a random week of the next four); ``auth`` is ``none``, ``session`` (a signed-in
    patient's cookie) or ``token`` (a patient's API bearer token). An endpoint that
    answers 404 to its first request is reported as absent, not measured."""

    name: str
    auth: str
    path: str


# Adding an endpoint is one line here.
ENDPOINTS = [
    Endpoint(BARE, "none", "/healthz"),
    Endpoint(
        "free times, 1 day (API)",
        "token",
        "/api/v1/doctors/{doctor}/availability?from={day}&to={day}",
    ),
    Endpoint(
        "free times, 1 week (API)",
        "token",
        "/api/v1/doctors/{doctor}/availability?from={monday}&to={sunday}",
    ),
    Endpoint("doctor's week (page)", "session", "/doctors/{doctor}/?week={monday}"),
    Endpoint("doctor list (API)", "token", "/api/v1/doctors"),
    Endpoint("doctor list (page)", "session", "/doctors/"),
    Endpoint("my appointments (page)", "session", "/appointments/"),
    Endpoint("my appointments (API)", "token", "/api/v1/appointments"),
    Endpoint("search across doctors (API)", "token", "/api/v1/slots?from={day}&to={day}"),
    Endpoint("search across doctors (page)", "session", "/search/?date={day}"),
]


@dataclass(frozen=True)
class Plan:
    quick: bool
    rounds: int
    slice_seconds: float
    processes: int
    threads: int
    mix: tuple[tuple[float, float], ...]  # (req/s, seconds)
    mix_clients: int
    contenders: int


def plan(quick: bool) -> Plan:
    if quick:
        return Plan(True, 1, 0.5, 2, 2, ((10, 2), (50, 2)), 8, 20)
    # 10 endpoints x 3 rounds x 4 s, 30 s + 40 s of mix, one race: about 3 minutes.
    return Plan(False, 3, 4.0, 2, 8, ((10, 30), (50, 40)), 16, 200)


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/clinic_bench"
        ),
    )
    parser.add_argument("--quick", action="store_true", default=bool(os.environ.get("BENCH_QUICK")))
    parser.add_argument("--workers", type=int, default=int(os.environ.get("BENCH_WORKERS", "4")))
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--name", default="", help="file name (default: bench, or bench-quick)")
    return parser.parse_args()


# --- Preparing ---------------------------------------------------------------------------


def prepare(environment: dict[str, str], plan: Plan) -> dict[str, Any]:
    """The seeded database, signed-in patients for the throughput and mix clients, and
    tokens of ``plan.contenders`` patients with nothing booked ahead (so that every
    refusal in the race is about the slot)."""
    setup = loadtest.prepare_database(environment, max(plan.mix_clients, plan.threads))
    from django.utils import timezone

    from accounts.api_tokens import issue_token
    from accounts.models import ApiToken, Patient
    from appointments.models import Appointment

    busy = Appointment.objects.active().filter(starts_at__gt=timezone.now()).values("patient")
    free_patients = (
        Patient.objects.filter(user__email__endswith="@demo.example.com")
        .exclude(full_name="")
        .exclude(pk__in=busy)
        .select_related("user")
        .order_by("-pk")[: plan.contenders]
    )
    setup["contender_tokens"] = [
        issue_token(user=patient.user, kind=ApiToken.Kind.PATIENT)[0] for patient in free_patients
    ]
    return setup


def start_server(environment: dict[str, str], port: int, workers: int) -> subprocess.Popen[bytes]:
    """gunicorn with the production settings file; its access log (stdout) is dropped."""
    server = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "-c", "gunicorn.conf.py", "clinic.wsgi"],
        cwd=ROOT,
        env=environment
        | {
            "GUNICORN_BIND": f"{HOST}:{port}",
            "WEB_CONCURRENCY": str(workers),
            "GUNICORN_LOG_LEVEL": "warning",
        },
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            connection = HTTPConnection(HOST, port, timeout=2)
            connection.request("GET", "/healthz", headers={"Host": HOST})
            if connection.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("gunicorn did not answer within 30 s")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()


# --- Throughput ----------------------------------------------------------------------------


def fill(path: str, doctor_ids: list[int], rng: random.Random) -> str:
    today = dt.date.today()
    monday = today - dt.timedelta(days=today.weekday()) + dt.timedelta(weeks=rng.randint(0, 3))
    return path.format(
        doctor=rng.choice(doctor_ids),
        day=today + dt.timedelta(days=rng.randint(0, 13)),
        monday=monday,
        sunday=monday + dt.timedelta(days=6),
    )


def headers_for(endpoint: Endpoint, setup: dict[str, Any], number: int) -> dict[str, str]:
    headers = {"Host": HOST}
    if endpoint.auth == "session":
        sessions = setup["sessions"]
        headers["Cookie"] = f"{setup['session_cookie']}={sessions[number % len(sessions)]}"
    elif endpoint.auth == "token":
        tokens = setup["tokens"]
        headers["Authorization"] = f"Bearer {tokens[number % len(tokens)]}"
    return headers


def closed_loop(
    endpoint: Endpoint, setup: dict[str, Any], port: int, seconds: float, threads: int, seed: int
) -> dict[str, Any]:
    """``threads`` clients each sending ``endpoint`` as soon as the last answer came, for
    ``seconds``; run in a worker process."""
    latencies: list[float] = []
    statuses: dict[str, int] = defaultdict(int)
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def client(number: int) -> None:
        rng = random.Random(seed * 1000 + number)
        headers = headers_for(endpoint, setup, seed * 1000 + number)
        connection = HTTPConnection(HOST, port, timeout=30)
        while (started := time.perf_counter()) < deadline:
            try:
                connection.request(
                    "GET", fill(endpoint.path, setup["doctor_ids"], rng), headers=headers
                )
                response = connection.getresponse()
                response.read()
                code = str(response.status)
            except (OSError, ConnectionError):
                connection.close()
                code = "error"
            with lock:
                latencies.append((time.perf_counter() - started) * 1000)
                statuses[code] += 1

    started = time.perf_counter()
    workers = [threading.Thread(target=client, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return {
        "requests": len(latencies),
        "seconds": time.perf_counter() - started,
        "latencies_ms": latencies,
        "statuses": dict(statuses),
    }


def probe(endpoint: Endpoint, setup: dict[str, Any], port: int) -> int:
    connection = HTTPConnection(HOST, port, timeout=30)
    path = fill(endpoint.path, setup["doctor_ids"], random.Random(0))
    connection.request("GET", path, headers=headers_for(endpoint, setup, 0))
    response = connection.getresponse()
    response.read()
    return response.status


def measure_throughput(
    setup: dict[str, Any], port: int, plan: Plan
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    present, absent = [], {}
    for endpoint in ENDPOINTS:
        status = probe(endpoint, setup, port)
        if status == 404:
            absent[endpoint.name] = f"absent: `{endpoint.path.split('?')[0]}` answers 404"
        else:
            present.append(endpoint)
    shared = {key: setup[key] for key in ("sessions", "tokens", "doctor_ids", "session_cookie")}
    measured: dict[str, dict[str, Any]] = {
        e.name: {"path": e.path, "requests": 0, "seconds": 0.0, "latencies_ms": [], "statuses": {}}
        for e in present
    }
    order = random.Random(14)
    with ProcessPoolExecutor(plan.processes, mp_context=get_context("spawn")) as pool:
        for round_number in range(plan.rounds):
            endpoints = present[:]
            order.shuffle(endpoints)
            for endpoint in endpoints:
                futures = [
                    pool.submit(
                        closed_loop,
                        endpoint,
                        shared,
                        port,
                        plan.slice_seconds,
                        plan.threads,
                        round_number * plan.processes + process,
                    )
                    for process in range(plan.processes)
                ]
                slices = [future.result() for future in futures]
                data = measured[endpoint.name]
                data["requests"] += sum(s["requests"] for s in slices)
                data["seconds"] += max(s["seconds"] for s in slices)
                data["latencies_ms"] += [v for s in slices for v in s["latencies_ms"]]
                data["statuses"] = report.merge_statuses(
                    [data["statuses"], *(s["statuses"] for s in slices)]
                )
    return report.throughput_rows(measured, BARE), absent


# --- The seed mix ----------------------------------------------------------------------------


def measure_mix(setup: dict[str, Any], port: int, plan: Plan) -> list[dict[str, Any]]:
    runs = []
    for rate, seconds in plan.mix:
        arguments = argparse.Namespace(
            seconds=seconds,
            max_requests=int(rate * seconds * 2),
            concurrency=plan.mix_clients,
            rate=rate,
            api=False,
            write_share=0.10,
        )
        results, elapsed = loadtest.run_load(arguments, port, setup)
        kinds: dict[str, dict[str, Any]] = {}
        groups: dict[str, list[float]] = defaultdict(list)
        for kind in sorted(results.latencies):
            values = results.latencies[kind]
            groups[kind.split(":")[0]] += values
            kinds[kind] = report.latency_summary(values) | {
                "statuses": {str(code): n for code, n in sorted(results.statuses[kind].items())}
            }
        errors = sum(
            report.server_errors({str(code): n for code, n in statuses.items()})
            for statuses in results.statuses.values()
        )
        runs.append(
            {
                "rate": rate,
                "seconds": round(elapsed, 1),
                "clients": plan.mix_clients,
                "requests": results.count,
                "kinds": kinds,
                "groups": {group: report.latency_summary(v) for group, v in groups.items()},
                "errors": errors,
            }
        )
    return runs


# --- Contention ------------------------------------------------------------------------------


def measure_contention(setup: dict[str, Any], port: int, plan: Plan) -> dict[str, Any]:
    """``plan.contenders`` patients POST the same free slot at one moment."""
    from appointments.models import Appointment

    tokens: list[str] = setup["contender_tokens"]
    doctor = setup["doctor_ids"][0]
    first = dt.date.today() + dt.timedelta(days=10)
    last = first + dt.timedelta(days=6)
    connection = HTTPConnection(HOST, port, timeout=30)
    connection.request(
        "GET",
        f"/api/v1/doctors/{doctor}/availability?from={first}&to={last}",
        headers={"Host": HOST, "Authorization": f"Bearer {tokens[0]}"},
    )
    slots = json.loads(connection.getresponse().read())
    start = slots[-1]["start"]
    body = json.dumps(
        {
            "doctor": doctor,
            "appointment_type": setup["type_ids"][doctor],
            "start": start,
            "reason": "contention benchmark",
        }
    )
    attempts = burst(
        port,
        [
            (
                "POST",
                "/api/v1/appointments",
                body,
                {
                    "Authorization": f"Bearer {token}",
                    "Content-Type": "application/json",
                    "Idempotency-Key": str(uuid.uuid4()),
                },
            )
            for token in tokens
        ],
    )
    answers = [
        (status, latency, text, token)
        for (status, latency, text), token in zip(attempts, tokens, strict=True)
    ]
    # The control, in the same run: as many requests at once for the bare view, the
    # cheapest answer the server gives. The contention's p95 can be no better than it.
    bare = burst(port, [("GET", "/healthz", None, {}) for _token in tokens])
    in_database = Appointment.objects.active().filter(doctor_id=doctor, starts_at=start).count()
    statuses: dict[str, int] = defaultdict(int)
    for status, _latency, _text, _token in answers:
        statuses[str(status)] += 1
    # Leave the slot free for the next run: the winner cancels, as a patient would.
    for status, _latency, text, token in answers:
        if status == 201:
            connection = HTTPConnection(HOST, port, timeout=30)
            connection.request(
                "POST",
                f"/api/v1/appointments/{json.loads(text)['id']}/cancel",
                body=json.dumps({"reason": "contention benchmark"}),
                headers={
                    "Host": HOST,
                    "Authorization": f"Bearer {token}",
                    "Content-Type": "application/json",
                    "Idempotency-Key": str(uuid.uuid4()),
                },
            )
            connection.getresponse().read()
    booked = statuses.get("201", 0)
    conflicts = statuses.get("409", 0)
    return {
        "attempts": len(tokens),
        "slot": f"doctor {doctor} at {start}",
        "booked": booked,
        "conflicts": conflicts,
        "other": len(answers) - booked - conflicts,
        "statuses": dict(sorted(statuses.items())),
        "in_database": in_database,
        "latency": report.latency_summary([answer[1] for answer in answers]),
        "bare_latency": report.latency_summary([answer[1] for answer in bare]),
    }


def burst(
    port: int, requests: list[tuple[str, str, str | None, dict[str, str]]]
) -> list[tuple[int | str, float, str]]:
    """Send ``requests`` (method, path, body, headers) all at once, each on its own
    connection opened before a common start; each answer's status, milliseconds and text,
    in the order given."""
    barrier = threading.Barrier(len(requests))
    answers: list[tuple[int | str, float, str]] = [("error", 0.0, "")] * len(requests)

    def attempt(number: int) -> None:
        method, path, body, headers = requests[number]
        own = HTTPConnection(HOST, port, timeout=60)
        barrier.wait()
        started = time.perf_counter()
        try:
            own.request(method, path, body=body, headers={"Host": HOST} | headers)
            response = own.getresponse()
            status: int | str = response.status
            text = response.read().decode()
        except (OSError, ConnectionError):
            status, text = "error", ""
        answers[number] = (status, (time.perf_counter() - started) * 1000, text)
        own.close()

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def count_overlaps() -> dict[str, int]:
    """Pairs of active appointments of one doctor, and of one patient, whose times overlap
    (half-open ranges, as the exclusion constraints have them)."""
    from django.db import connection

    from appointments.models import ACTIVE_STATUSES, Appointment

    table = connection.ops.quote_name(Appointment._meta.db_table)
    statuses = [str(status) for status in ACTIVE_STATUSES]
    found = {}
    for column in ("doctor", "patient"):
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT count(*) FROM {table} a JOIN {table} b "  # noqa: S608
                f"ON a.{column}_id = b.{column}_id AND a.id < b.id "
                "AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at "
                "WHERE a.status = ANY(%s) AND b.status = ANY(%s)",
                [statuses, statuses],
            )
            found[column] = int(cursor.fetchone()[0])
    return found


# --- The run ----------------------------------------------------------------------------------


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main() -> None:
    args = parse_arguments()
    chosen = plan(args.quick)

    def out_of_time(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(f"the benchmark ran past {HARD_LIMIT_SECONDS} s and was stopped")

    signal.signal(signal.SIGALRM, out_of_time)
    signal.alarm(HARD_LIMIT_SECONDS)
    began = time.monotonic()
    load_before = load_average()
    environment = loadtest.server_environment(args.database_url)
    setup = prepare(environment, chosen)
    from django.conf import settings
    from django.db import connections

    setup["session_cookie"] = settings.SESSION_COOKIE_NAME
    connections.close_all()
    port = loadtest.free_port()
    server = start_server(environment, port, args.workers)
    result: dict[str, Any] = {}
    try:
        print("throughput, side by side...", flush=True)
        result["throughput"], result["absent"] = measure_throughput(setup, port, chosen)
        print("the seed mix...", flush=True)
        result["mix"] = measure_mix(setup, port, chosen)
        print("contention...", flush=True)
        result["contention"] = measure_contention(setup, port, chosen)
    finally:
        stop_server(server)
        signal.alarm(0)
    result["overlaps"] = count_overlaps()
    result["run"] = {
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "commit": commit(),
        "quick": chosen.quick,
        "cores": os.cpu_count(),
        "load_before": load_before,
        "load_after": load_average(),
        "server": f"gunicorn -c gunicorn.conf.py, {args.workers} sync workers, DEBUG off, "
        f"PostgreSQL ({args.database_url.split('@')[-1]}), cache: "
        + ("Redis" if environment.get("REDIS_URL") else "database table"),
        "data": f"{len(setup['doctor_ids'])} doctors, {setup['patients']} patients, "
        f"{setup['appointments']} appointments",
        "seconds": time.monotonic() - began,
        "throughput_clients": chosen.processes * chosen.threads,
        "rounds": chosen.rounds,
        "slice_seconds": chosen.slice_seconds,
    }
    name = args.name or ("bench-quick" if chosen.quick else "bench")
    markdown_path, _json_path = report.write(result, args.output, name)
    print(markdown_path.read_text())
    failed = [v["target"] for v in report.verdicts(result) if not v["met"]]
    correctness = result["overlaps"]["doctor"] or result["overlaps"]["patient"]
    if correctness or result["contention"]["booked"] != 1:
        sys.exit("double booking: see the results")
    if failed:
        print(f"{len(failed)} targets not met (see above)")


if __name__ == "__main__":
    main()
