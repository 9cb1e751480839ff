"""What one request of each hot endpoint costs this process, measured in-process (no
gunicorn, no network): CPU milliseconds (``time.process_time``, which a busy neighbour on a
shared machine barely moves, unlike wall time) and database queries, median of ``--repeat``
requests with the same random doctors and weeks as ``bench/run.py``, twice: "first" (most
cached entries still to be made) and "again" (the same requests, every entry there).
The server's settings are the bench's (``loadtest.server_environment``: Redis in database
14, emptied first, unless ``BENCH_REDIS_URL`` says otherwise).

    .venv/bin/python -m bench.inprocess            # after make bench seeded clinic_bench
    .venv/bin/python -m bench.inprocess --repeat 200

docs/performance.md quotes it for each optimisation, before and after. The database's
own CPU is not in the figure: the query count stands for it.
"""

import argparse
import os
import random
import statistics
import time
from typing import Any

from bench import loadtest
from bench.run import ENDPOINTS, fill


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/clinic_bench"
        ),
    )
    parser.add_argument("--repeat", type=int, default=100)
    args = parser.parse_args()
    environment = loadtest.server_environment(args.database_url)
    setup: dict[str, Any] = loadtest.prepare_database(environment, 4)

    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    rows: list[tuple[str, list[float] | None]] = []
    for endpoint in ENDPOINTS:
        client = Client(HTTP_HOST=loadtest.HOST)
        headers: dict[str, Any] = {}
        if endpoint.auth == "session":
            client.cookies[settings.SESSION_COOKIE_NAME] = setup["sessions"][0]
        elif endpoint.auth == "token":
            headers["HTTP_AUTHORIZATION"] = f"Bearer {setup['tokens'][0]}"
        rng = random.Random(14)
        paths = [fill(endpoint.path, setup["doctor_ids"], rng) for _ in range(args.repeat)]
        if client.get(paths[0], **headers).status_code == 404:
            rows.append((endpoint.name, None))
            continue
        for path in paths[:20]:  # warm: templates, connections
            client.get(path, **headers)
        # Twice over the same requests: the first pass finds most cached entries
        # missing (as a request after a change does), the second finds them all there
        # (as most requests of a busy site do).
        figures = []
        for _pass in ("first", "again"):
            cpu, wall, queries = [], [], []
            for path in paths:
                with CaptureQueriesContext(connection) as captured:
                    started_cpu, started = time.process_time(), time.perf_counter()
                    response = client.get(path, **headers)
                    cpu.append((time.process_time() - started_cpu) * 1000)
                    wall.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, (path, response.status_code)
                queries.append(len(captured))
            figures += [statistics.median(cpu), statistics.median(wall), max(queries)]
        rows.append((endpoint.name, figures))
    print(f"load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print(
        "| endpoint | first: CPU ms | wall ms | queries (max) "
        "| again: CPU ms | wall ms | queries (max) |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, measured in rows:
        if measured is None:
            print(f"| {name} | absent | | | | | |")
        else:
            cpu1, wall1, most1, cpu2, wall2, most2 = measured
            print(
                f"| {name} | {cpu1:.2f} | {wall1:.2f} | {most1} | {cpu2:.2f} | {wall2:.2f} | "
                f"{most2} |"
            )


if __name__ == "__main__":
    main()
