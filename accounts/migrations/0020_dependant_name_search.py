"""The folded names of the people patients book for, so that the staff's patient search
finds a caller by their child's or relative's name (docs/data-model.md): the column, its
values for the rows there are, and on PostgreSQL its trigram index, as 0013 did for the
patients' own names.

``fold_name`` is accounts/phones.py's, copied here, frozen: a migration runs the same way
for ever, whatever the application code becomes.
"""

import unicodedata

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

BATCH = 2000


def fold_name(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def fill_name_search(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    Dependant = apps.get_model("accounts", "Dependant")
    batch = []
    people = Dependant.objects.filter(erased_at__isnull=True).only("pk", "full_name")
    for person in people.iterator(chunk_size=BATCH):
        person.name_search = fold_name(person.full_name)
        batch.append(person)
        if len(batch) >= BATCH:
            Dependant.objects.bulk_update(batch, ["name_search"])
            batch = []
    if batch:
        Dependant.objects.bulk_update(batch, ["name_search"])


def add_trigram_index(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    # pg_trgm is there since 0013.
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX dependant_name_search_trgm ON accounts_dependant "
            "USING gin (name_search gin_trgm_ops)"
        )


def drop_trigram_index(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS dependant_name_search_trgm")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0019_verbose_names"),
    ]

    operations = [
        migrations.AddField(
            model_name="dependant",
            name="name_search",
            field=models.CharField(blank=True, editable=False, max_length=200),
        ),
        migrations.RunPython(fill_name_search, migrations.RunPython.noop),
        migrations.RunPython(add_trigram_index, drop_trigram_index),
    ]
