"""The database cache's table (settings.CACHES, ``cache_entries``), so that ``migrate``
alone brings a database to a working state: rate limits and the API's throttles count in
the cache, and without the table every sign-in and API write was a 500 until someone ran
``createcachetable``.

The SQL is what ``manage.py createcachetable --dry-run`` printed for Django 6.1 on each
database, frozen here as text, with ``IF NOT EXISTS`` so that a database whose table
``createcachetable`` made already (every one before this migration; the test runner's,
which runs it after migrating) passes unchanged. With REDIS_URL set the cache is Redis and
the table stays empty.

Unapplying keeps the table: the cache holds nothing that must go, and the code before this
migration expects the table as well (it asked for ``createcachetable``).
"""

from django.db import migrations

TABLE_SQL = {
    "postgresql": [
        'CREATE TABLE IF NOT EXISTS "cache_entries" ('
        '"cache_key" varchar(255) NOT NULL PRIMARY KEY, '
        '"value" text NOT NULL, '
        '"expires" timestamp with time zone NOT NULL)',
        'CREATE INDEX IF NOT EXISTS "cache_entries_expires" ON "cache_entries" ("expires")',
    ],
    "sqlite": [
        'CREATE TABLE IF NOT EXISTS "cache_entries" ('
        '"cache_key" varchar(255) NOT NULL PRIMARY KEY, '
        '"value" text NOT NULL, '
        '"expires" datetime NOT NULL)',
        'CREATE INDEX IF NOT EXISTS "cache_entries_expires" ON "cache_entries" ("expires")',
    ],
}


def create_cache_table(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor not in TABLE_SQL:
        raise RuntimeError(
            f"No cache-table SQL for {vendor}: run `manage.py createcachetable` instead."
        )
    for statement in TABLE_SQL[vendor]:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0005_encrypt_at_rest"),
    ]

    operations = [
        migrations.RunPython(create_cache_table, migrations.RunPython.noop, elidable=False),
    ]
