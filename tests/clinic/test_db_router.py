"""The replica router's decisions and the read-your-writes pin (clinic/db_router.py).

No replica is needed to see where a query would go: ``QuerySet.db`` asks the router.
The real replica is in tests/scale_out/test_read_replicas.py.
"""

import datetime as dt

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from accounts.models import ApiToken
from appointments.models import Appointment
from clinic.db_router import (
    PIN_COOKIE,
    PrimaryPinMiddleware,
    PrimaryReplicaRouter,
    pinned_to_primary,
    reads_primary,
)

ROUTER = "clinic.db_router.PrimaryReplicaRouter"


@pytest.fixture
def replicas(settings):
    settings.DATABASE_REPLICAS = ["replica_1", "replica_2"]
    settings.DATABASE_ROUTERS = [ROUTER]
    settings.REPLICA_PIN_SECONDS = 5


def test_without_replicas_every_read_goes_to_the_primary(settings):
    settings.DATABASE_REPLICAS = []

    assert PrimaryReplicaRouter().db_for_read(Appointment) == "default"


@pytest.mark.usefixtures("replicas")
def test_a_read_outside_a_transaction_goes_to_a_replica():
    assert Appointment.objects.all().db in {"replica_1", "replica_2"}


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("replicas")
def test_a_read_inside_a_transaction_goes_to_the_primary():
    with transaction.atomic():
        assert Appointment.objects.all().db == "default"


@pytest.mark.usefixtures("replicas")
def test_a_locking_read_goes_to_the_primary():
    assert Appointment.objects.select_for_update().db == "default"


@pytest.mark.usefixtures("replicas")
def test_sessions_tokens_the_cache_and_the_queue_are_read_on_the_primary():
    from django_q.models import OrmQ

    from clinic.cache import DatabaseCache

    router = PrimaryReplicaRouter()
    cache_model = DatabaseCache("cache_entries", {}).cache_model_class

    assert {router.db_for_read(model) for model in (Session, ApiToken, OrmQ, cache_model)} == {
        "default"
    }


@pytest.mark.usefixtures("replicas")
def test_a_pinned_read_goes_to_the_primary():
    with pinned_to_primary():
        assert Appointment.objects.all().db == "default"
    assert Appointment.objects.all().db != "default"


@pytest.mark.usefixtures("replicas")
def test_a_related_read_follows_its_row_to_the_same_replica():
    appointment = Appointment()
    appointment._state.db = "replica_2"

    assert PrimaryReplicaRouter().db_for_read(Appointment, instance=appointment) == "replica_2"


def test_writes_and_migrations_go_to_the_primary_only():
    router = PrimaryReplicaRouter()

    assert router.db_for_write(Appointment) == "default"
    assert router.allow_migrate("default", "appointments")
    assert not router.allow_migrate("replica_1", "appointments")


# --- The pin ------------------------------------------------------------------------------


def view_that_records_where_it_reads(seen: list[bool]):
    def view(request: HttpRequest) -> HttpResponse:
        seen.append(reads_primary())
        return HttpResponse("ok")

    return view


def through_middleware(request: HttpRequest) -> tuple[bool, HttpResponse]:
    seen: list[bool] = []
    response = PrimaryPinMiddleware(view_that_records_where_it_reads(seen))(request)
    return seen[0], response


@pytest.mark.usefixtures("replicas")
def test_a_write_request_reads_the_primary_and_pins_its_client():
    primary, response = through_middleware(RequestFactory().post("/appointments/new/"))

    assert primary
    cookie = response.cookies[PIN_COOKIE]
    assert cookie["max-age"] == 5
    assert cookie["httponly"]


@pytest.mark.usefixtures("replicas")
def test_a_read_request_without_a_pin_reads_a_replica_and_sets_none():
    primary, response = through_middleware(RequestFactory().get("/appointments/"))

    assert not primary
    assert PIN_COOKIE not in response.cookies


@pytest.mark.usefixtures("replicas")
def test_a_read_request_within_the_window_after_a_write_reads_the_primary():
    with time_machine.travel(dt.datetime(2026, 3, 4, 8, 0, tzinfo=dt.UTC), tick=False) as clock:
        _, written = through_middleware(RequestFactory().post("/appointments/new/"))
        pin = written.cookies[PIN_COOKIE].value
        clock.shift(4)
        within, _ = through_middleware(read_with_pin(pin))
        clock.shift(2)
        after, _ = through_middleware(read_with_pin(pin))

    assert within
    assert not after, "the signed timestamp ends the pin even if the cookie is kept"


@pytest.mark.usefixtures("replicas")
def test_a_forged_pin_is_ignored():
    primary, _ = through_middleware(read_with_pin("1:forged:signature"))

    assert not primary


@pytest.mark.usefixtures("replicas")
def test_a_window_of_zero_turns_the_pin_off(settings):
    settings.REPLICA_PIN_SECONDS = 0

    primary, response = through_middleware(RequestFactory().post("/appointments/new/"))

    assert primary, "the write itself still reads the primary"
    assert PIN_COOKIE not in response.cookies


def read_with_pin(value: str) -> HttpRequest:
    request = RequestFactory().get("/appointments/")
    request.COOKIES[PIN_COOKIE] = value
    return request
