"""The database cache counts rate limits right: an increment keeps the window's expiry,
and parallel increments on PostgreSQL lose none."""

import datetime as dt
import time
from typing import Any

import pytest
import time_machine
from django.core.cache import cache, caches
from django.core.cache.backends.base import BaseCache
from django.utils import timezone

from clinic.cache import DatabaseCache, RedisCache
from clinic.rate_limits import allow
from tests.concurrency import run_together

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def test_the_default_cache_without_redis_is_ours():
    assert isinstance(caches["default"], DatabaseCache)


def test_an_increment_keeps_the_expiry_the_key_was_added_with():
    with time_machine.travel(timezone.now(), tick=False) as clock:
        cache.add("counter", 1, timeout=3600)
        assert cache.incr("counter") == 2

        clock.shift(dt.timedelta(minutes=30))  # past Django's default timeout of 5 min
        assert cache.get("counter") == 2

        clock.shift(dt.timedelta(minutes=31))
        assert cache.get("counter") is None


def test_incrementing_a_missing_or_expired_key_is_a_value_error():
    with pytest.raises(ValueError, match="not found"):
        cache.incr("never-added")

    with time_machine.travel(timezone.now(), tick=False) as clock:
        cache.add("short", 1, timeout=60)
        clock.shift(dt.timedelta(minutes=2))
        with pytest.raises(ValueError, match="not found"):
            cache.incr("short")


def test_an_hourly_limit_stays_reached_after_quiet_minutes():
    # The window is the clock hour: start just after it begins.
    hour = timezone.now().replace(minute=0, second=5, microsecond=0) + dt.timedelta(hours=1)
    with time_machine.travel(hour, tick=False) as clock:
        answers = [allow("test", "ada@example.com", limit=2, per=dt.timedelta(hours=1))]
        answers += [allow("test", "ada@example.com", limit=2, per=dt.timedelta(hours=1))]
        answers += [allow("test", "ada@example.com", limit=2, per=dt.timedelta(hours=1))]

        clock.shift(dt.timedelta(minutes=10))  # quiet, but the same window
        answers += [allow("test", "ada@example.com", limit=2, per=dt.timedelta(hours=1))]

        clock.shift(dt.timedelta(minutes=50))  # the next window
        answers += [allow("test", "ada@example.com", limit=2, per=dt.timedelta(hours=1))]

    assert answers == [True, True, False, False, True]


# --- Parallel increments (PostgreSQL) --------------------------------------------------

COUNTERS = 20


def count_in_parallel(incr: Any) -> list[int]:
    cache.add("parallel", 0, timeout=3600)
    counts: list[int] = run_together([lambda: incr("parallel")] * COUNTERS)
    return counts


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.xdist_group("postgres_races")
@pytest.mark.django_db(transaction=True)
def test_parallel_increments_each_get_their_own_count():
    counts = count_in_parallel(cache.incr)

    assert sorted(counts) == list(range(1, COUNTERS + 1))
    assert cache.get("parallel") == COUNTERS


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.xdist_group("postgres_races")
@pytest.mark.django_db(transaction=True)
def test_control_djangos_generic_increment_loses_counts_in_the_same_harness(monkeypatch):
    get = DatabaseCache.get
    reads = []

    def slow_get(self: DatabaseCache, *args: Any, **kwargs: Any) -> Any:
        value = get(self, *args, **kwargs)
        reads.append(value)
        time.sleep(0.05)  # widen the window between read and write
        return value

    # On the class: each thread has its own cache object.
    monkeypatch.setattr(DatabaseCache, "get", slow_get)

    counts = count_in_parallel(lambda key: BaseCache.incr(caches["default"], key))

    assert len(reads) == COUNTERS  # Django's incr read, slowly, in every thread

    assert len(set(counts)) < COUNTERS
    assert cache.get("parallel") < COUNTERS


# --- Redis (REDIS_URL) ------------------------------------------------------------------


def test_the_redis_cache_reuses_one_client_and_stores_and_reads_as_djangos(redis_url):
    # Its own keys only: clear() would empty the database another test's queue may use.
    ours = RedisCache(redis_url, {"KEY_PREFIX": f"test-cache-{time.time_ns()}"})
    try:
        ours.set_many({"a": [1, 2, 3], "b": {"x": 1}}, 60)
        ours.set("c", "text", 60)
        assert ours.add("counter", 1, 60)

        assert ours.get_many(["a", "b", "c", "missing"]) == {
            "a": [1, 2, 3],
            "b": {"x": 1},
            "c": "text",
        }
        assert ours.incr("counter") == 2
        assert ours._cache.get_client(write=True) is ours._cache.get_client()
    finally:
        ours.delete_many(["a", "b", "c", "counter"])
