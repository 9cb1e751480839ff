"""``/healthz`` and ``/readyz``, for a load balancer, an orchestrator or a container's
HEALTHCHECK.

- ``/healthz``: the process is alive and answers. It asks nothing else (no database), so
  a database outage does not get healthy web processes restarted.
- ``/readyz``: this process can serve: the database answers, the cache stores and reads
  back, the task broker answers, and the worker's schedules (``settings.WORKER_SCHEDULES``,
  made by the migrations) exist. 200 when all pass, else 503 with ``Retry-After``; the
  body names each check ``ok`` or ``failed`` (the reason goes to the log, not to whoever
  asked).

They are answered by a middleware near the top of the stack, not by views, so that they
run before anything reads the Host header (a probe asks by the container's address, which
is not in ALLOWED_HOSTS) or redirects to HTTPS (a probe speaks plain HTTP to the
container), and before the session or the user is looked at. Small checks of our own
rather than django-health-check: the broker and the schedules are django-q2's, which it
has no check for, and the three others are a few lines each.
"""

import logging
import secrets
from collections.abc import Callable

import redis
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import add_never_cache_headers
from django_q.models import OrmQ, Schedule

from clinic.error_pages import RETRY_AFTER_SECONDS

logger = logging.getLogger(__name__)

# Seconds the broker check waits for Redis.
REDIS_TIMEOUT_SECONDS = 2


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_cache() -> None:
    key, value = "readyz-probe", secrets.token_hex(8)
    cache.set(key, value, timeout=30)
    if cache.get(key) != value:
        raise RuntimeError("the cache did not give back what it was given")


def check_broker() -> None:
    """django-q2's queue: Redis when REDIS_URL is set, else the database's table."""
    if settings.REDIS_URL:
        client = redis.Redis.from_url(
            settings.REDIS_URL,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
        )
        try:
            client.ping()
        finally:
            client.close()
    else:
        OrmQ.objects.exists()


def check_schedules() -> None:
    found = set(
        Schedule.objects.filter(name__in=settings.WORKER_SCHEDULES).values_list("name", flat=True)
    )
    if missing := sorted(set(settings.WORKER_SCHEDULES) - found):
        raise RuntimeError(f"schedules missing: {', '.join(missing)}")


READINESS_CHECKS: dict[str, Callable[[], None]] = {
    "database": check_database,
    "cache": check_cache,
    "broker": check_broker,
    "schedules": check_schedules,
}


def readiness() -> dict[str, str]:
    results = {}
    for name, check in READINESS_CHECKS.items():
        try:
            check()
        # Whatever fails is "not ready": a check that crashes must not crash the probe.
        except Exception:
            logger.exception("Readiness check failed: %s", name)
            results[name] = "failed"
        else:
            results[name] = "ok"
    return results


def healthz() -> HttpResponse:
    return JsonResponse({"status": "ok"})


def readyz() -> HttpResponse:
    checks = readiness()
    ready = all(result == "ok" for result in checks.values())
    response = JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks},
        status=200 if ready else 503,
    )
    if not ready:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


PROBES: dict[str, Callable[[], HttpResponse]] = {"/healthz": healthz, "/readyz": readyz}


class HealthCheckMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        probe = PROBES.get(request.path_info)
        if probe is None:
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            response = HttpResponse(status=405)
            response["Allow"] = "GET, HEAD"
            return response
        response = probe()
        add_never_cache_headers(response)
        return response
