"""The shared cache's backends: the database cache, with an ``incr`` that rate limits can
count on, and Redis, without a new client object for every operation (at the end).

Without Redis, the shared cache is Django's database cache. Its ``incr`` is the generic
one: a ``get`` and then a ``set`` with the default timeout. So two processes counting at
once can both write the same number, and every count moves the key's expiry to five
minutes from now, which restarts an hour-long rate-limit window after five quiet
minutes. This ``incr`` reads and rewrites the value in one transaction, holding the row
(``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` takes the write
lock first), and leaves ``expires`` as it was.

``set`` and ``set_many`` are one statement however many keys: Django's count the table
and then read and write each key on its own (three queries a key), which would make the
free-time cache's writes grow with the number of doctors on a page. Here: one count (and
Django's cull when the table is full), then one ``INSERT ... ON CONFLICT DO UPDATE``
(PostgreSQL and SQLite both have it) for all the keys.
"""

import base64
import pickle
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.db import DatabaseCache as DjangoDatabaseCache
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient
from django.db import DatabaseError, connections, models, router, transaction
from django.utils.timezone import now as tz_now


class DatabaseCache(DjangoDatabaseCache):
    def set(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> None:
        self.set_many({key: value}, timeout, version)

    def set_many(
        self, data: dict[Any, Any], timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> list[Any]:
        if not data:
            return []
        rows = {}
        for key, value in data.items():
            cache_key = self.make_and_validate_key(key, version=version)
            pickled = pickle.dumps(value, self.pickle_protocol)
            rows[cache_key] = base64.b64encode(pickled).decode("latin1")
        backend_timeout = self.get_backend_timeout(timeout)
        if backend_timeout is None:
            expires = datetime.max
        else:
            expires = datetime.fromtimestamp(backend_timeout, tz=UTC if settings.USE_TZ else None)
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        quote = connection.ops.quote_name
        table = quote(self._table)  # type: ignore[attr-defined]
        adapted = connection.ops.adapt_datetimefield_value(expires.replace(microsecond=0))
        values = ", ".join(["(%s, %s, %s)"] * len(rows))
        parameters = [part for key, encoded in rows.items() for part in (key, encoded, adapted)]
        try:
            with transaction.atomic(using=db), connection.cursor() as cursor:
                cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608
                count = cursor.fetchone()[0]
                if count > self._max_entries:
                    now = tz_now().replace(microsecond=0)
                    self._cull(db, cursor, now, count)  # type: ignore[attr-defined]
                cursor.execute(
                    f"INSERT INTO {table} ({quote('cache_key')}, {quote('value')}, "  # noqa: S608
                    f"{quote('expires')}) VALUES {values} ON CONFLICT ({quote('cache_key')}) "
                    f"DO UPDATE SET {quote('value')} = EXCLUDED.{quote('value')}, "
                    f"{quote('expires')} = EXCLUDED.{quote('expires')}",
                    parameters,
                )
        except DatabaseError:
            # As Django's: a write that lost a race (or a full table) is not an error.
            return list(data)
        return []

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> Any:
        cache_key = self.make_and_validate_key(key, version=version)
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        quote = connection.ops.quote_name
        table = quote(self._table)  # type: ignore[attr-defined]
        lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
        with transaction.atomic(using=db), connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {quote('value')}, {quote('expires')} FROM {table} "  # noqa: S608
                f"WHERE {quote('cache_key')} = %s{lock}",
                [cache_key],
            )
            row = cursor.fetchone()
            if row is None or self._expired(connection, row[1]):
                raise ValueError(f"Key '{key}' not found")
            stored = connection.ops.process_clob(row[0])
            value = pickle.loads(base64.b64decode(stored.encode(), validate=True)) + delta  # noqa: S301
            encoded = base64.b64encode(pickle.dumps(value, self.pickle_protocol)).decode("latin1")
            cursor.execute(
                f"UPDATE {table} SET {quote('value')} = %s "  # noqa: S608
                f"WHERE {quote('cache_key')} = %s",
                [encoded, cache_key],
            )
        return value

    @staticmethod
    def _expired(connection: Any, expires: Any) -> bool:
        """As Django's ``get`` decides it: the column read back as a datetime."""
        expression = models.Expression(output_field=models.DateTimeField())
        converters = connection.ops.get_db_converters(expression) + expression.get_db_converters(
            connection
        )
        for converter in converters:
            expires = converter(expires, expression, connection)
        return bool(expires < tz_now())


class RedisCacheClient(DjangoRedisCacheClient):
    """Django's, keeping one ``redis.Redis`` per connection pool instead of making a new
    one for every operation: each costs building redis-py's table of ~170 response
    callbacks, which on a page with a few cache reads (the session, the free times, a
    rate limit) was a tenth of a millisecond each (docs/performance.md). A client holds
    no connection of its own (they are the pool's), so sharing it changes nothing else."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        # Django's own private helpers, which django-stubs does not declare.
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
        client = self._clients.get(id(pool))
        if client is None:
            client = self._client(connection_pool=pool)  # type: ignore[attr-defined]
            self._clients[id(pool)] = client
        return client


class RedisCache(DjangoRedisCache):
    """Django's Redis cache with ``RedisCacheClient`` above."""

    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient
