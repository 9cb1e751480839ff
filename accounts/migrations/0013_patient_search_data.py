"""Existing patients' phones in E.164, with their search keys; and, on PostgreSQL, the
trigram indexes that serve the staff's patient search (docs/data-model.md).

What it needs of accounts/phones.py is copied here, frozen: a migration runs the same
way for ever, whatever the application code becomes. A phone that is not a number of a
possible length stays as it was, without a lookup hash (the search finds that patient by
name). The hash key is the deployment's PHONE_LOOKUP_KEY as the migration runs.
"""

import hashlib
import hmac
import re
import unicodedata

import phonenumbers
from django.conf import settings
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

PHONE_LIKE = re.compile(r"^\+?[\d\s()./-]{6,30}$")
BATCH = 2000

TRIGRAM_INDEXES = [
    "CREATE INDEX patient_name_search_trgm ON accounts_patient "
    "USING gin (name_search gin_trgm_ops)",
    "CREATE INDEX user_email_upper_trgm ON accounts_user USING gin (upper(email) gin_trgm_ops)",
]
DROP_TRIGRAM_INDEXES = [
    "DROP INDEX IF EXISTS patient_name_search_trgm",
    "DROP INDEX IF EXISTS user_email_upper_trgm",
]


def e164(raw: str, region: str) -> str | None:
    raw = raw.strip()
    if not raw or not PHONE_LIKE.match(raw):
        return None
    try:
        number = phonenumbers.parse(raw, region.upper())
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def fold_name(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def fill_search_keys(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    Patient = apps.get_model("accounts", "Patient")
    key = settings.PHONE_LOOKUP_KEY.encode()
    region = settings.PHONE_DEFAULT_REGION
    batch = []
    for patient in Patient.objects.only("pk", "phone", "full_name").iterator(chunk_size=BATCH):
        number = e164(patient.phone, region)
        if number:
            patient.phone = number
        patient.phone_lookup = (
            hmac.new(key, number.encode(), hashlib.sha256).hexdigest() if number else ""
        )
        patient.name_search = fold_name(patient.full_name)
        batch.append(patient)
        if len(batch) >= BATCH:
            Patient.objects.bulk_update(batch, ["phone", "phone_lookup", "name_search"])
            batch = []
    if batch:
        Patient.objects.bulk_update(batch, ["phone", "phone_lookup", "name_search"])


def add_trigram_indexes(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        for statement in TRIGRAM_INDEXES:
            schema_editor.execute(statement)


def drop_trigram_indexes(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        for statement in DROP_TRIGRAM_INDEXES:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0012_patient_search_keys"),
    ]

    operations = [
        migrations.RunPython(fill_search_keys, migrations.RunPython.noop),
        # pg_trgm; does nothing on SQLite.
        TrigramExtension(),
        migrations.RunPython(add_trigram_indexes, drop_trigram_indexes),
    ]
