"""/healthz (the process answers) and /readyz (database, cache, broker, the worker's
schedules), answered before host checks and the HTTPS redirect, never cached."""

import importlib

import pytest
from django.test import Client, override_settings
from django_q.models import Schedule

from tests.conftest import free_port

# The migrations that make the worker's schedules (settings.WORKER_SCHEDULES).
SCHEDULE_MIGRATIONS = (
    "appointments.migrations.0005_notification_sweep_schedule",
    "clinic.api.migrations.0002_purge_schedule",
    "accounts.migrations.0010_purge_schedule",
)


@pytest.fixture
def schedules(db) -> None:
    """The schedules as migrate makes them (a transactional test before may have flushed
    them away)."""
    from django.apps import apps

    for name in SCHEDULE_MIGRATIONS:
        importlib.import_module(name).create_schedule(apps, None)


def test_healthz_answers_without_asking_the_database():
    # No database access is allowed in this test: pytest-django would raise.
    response = Client().get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-store" in response["Cache-Control"]


def test_healthz_answers_with_any_host_over_plain_http_as_a_probe_asks():
    with override_settings(ALLOWED_HOSTS=["clinic.example.com"], SECURE_SSL_REDIRECT=True):
        response = Client().get("/healthz", HTTP_HOST="10.0.3.7:8000")

    assert response.status_code == 200


def test_healthz_refuses_other_methods():
    response = Client().post("/healthz")

    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"


def test_readyz_answers_ok_when_every_part_answers(schedules):
    response = Client().get("/readyz")

    assert response.status_code == 200, response.json()
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "cache": "ok", "broker": "ok", "schedules": "ok"},
    }
    assert "no-store" in response["Cache-Control"]


def test_readyz_is_unavailable_when_a_worker_schedule_is_missing(schedules):
    Schedule.objects.filter(name="send due notifications").delete()

    response = Client().get("/readyz")

    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response.json()["checks"]["schedules"] == "failed"
    assert response.json()["checks"]["database"] == "ok"


def test_readyz_is_unavailable_when_the_database_is_down(database_down):
    response = Client().get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "failed"


def test_readyz_checks_the_redis_broker_when_there_is_one(schedules, settings, redis_url):
    settings.REDIS_URL = redis_url

    assert Client().get("/readyz").json()["checks"]["broker"] == "ok"


def test_readyz_is_unavailable_when_the_redis_broker_is_down(schedules, settings):
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"

    response = Client().get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"]["broker"] == "failed"
