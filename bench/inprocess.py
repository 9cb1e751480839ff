"""What one request of each hot endpoint costs this process, measured in-process (no
gunicorn, no network): CPU milliseconds (``time.process_time``, which a busy neighbour on a
shared machine barely moves, unlike wall time) and database queries, median of ``--repeat``
requests with the same random doctors and weeks as ``bench/run.py``.

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

    rows: list[tuple[str, float | None, float | None, int | None]] = []
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
            rows.append((endpoint.name, None, None, None))
            continue
        for path in paths[:20]:  # warm: templates, the cache of these entries
            client.get(path, **headers)
        cpu, wall, queries = [], [], []
        for path in paths:
            with CaptureQueriesContext(connection) as captured:
                started_cpu, started = time.process_time(), time.perf_counter()
                response = client.get(path, **headers)
                cpu.append((time.process_time() - started_cpu) * 1000)
                wall.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (path, response.status_code)
            queries.append(len(captured))
        rows.append((endpoint.name, statistics.median(cpu), statistics.median(wall), max(queries)))
    print(f"load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    print("| endpoint | CPU ms (median) | wall ms (median) | queries (max) |")
    print("| --- | ---: | ---: | ---: |")
    for name, cpu_ms, wall_ms, most in rows:
        if cpu_ms is None:
            print(f"| {name} | absent | | |")
        else:
            print(f"| {name} | {cpu_ms:.2f} | {wall_ms:.2f} | {most} |")


if __name__ == "__main__":
    main()
