from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

from appointments import db_guards


def install(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    db_guards.install(schema_editor)


def uninstall(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    db_guards.uninstall(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("appointments", "0001_initial")]

    operations = [
        # A no-op on SQLite. On PostgreSQL it needs a role allowed to create extensions
        # (btree_gist is a trusted extension, so a database owner is enough on PG 13+).
        BtreeGistExtension(),
        migrations.RunPython(install, uninstall),
    ]
