"""``manage.py rotate_encryption_keys``: rewrite every encrypted value under the first of
FIELD_ENCRYPTION_KEYS, so that the keys after it can be retired."""

from collections.abc import Iterator
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, models

from clinic.audit import rewriting_history
from clinic.encryption import EncryptedMixin, is_under_first_key, rotate

BATCH = 500


def encrypted_columns() -> Iterator[tuple[type[models.Model], list[str]]]:
    """Every model (history models included) with encrypted fields, and their columns."""
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        columns = [
            str(field.column)
            for field in model._meta.concrete_fields
            if isinstance(field, EncryptedMixin)
        ]
        if columns:
            yield model, columns


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted value under the first key of FIELD_ENCRYPTION_KEYS, "
        "in batches of rows (each batch its own transaction, so an interrupted run can "
        "simply be run again: rows already under the first key are skipped). "
        "With --dry-run, only count what would be rewritten."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Count, change nothing.")
        parser.add_argument("--batch-size", type=int, default=BATCH, help="Rows per transaction.")

    def handle(self, *args: Any, dry_run: bool, batch_size: int, **options: Any) -> None:
        total_values = total_rows = 0
        for model, columns in encrypted_columns():
            rows, values = self.rotate_table(model, columns, dry_run=dry_run, batch=batch_size)
            if rows:
                self.stdout.write(f"{model._meta.db_table}: {values} values in {rows} rows")
            total_rows += rows
            total_values += values
        verb = "would re-encrypt" if dry_run else "re-encrypted"
        self.stdout.write(self.style.SUCCESS(f"{verb} {total_values} values in {total_rows} rows."))

    def rotate_table(
        self, model: type[models.Model], columns: list[str], *, dry_run: bool, batch: int
    ) -> tuple[int, int]:
        """Raw SQL on the columns: the ciphertext is rewritten without being decrypted into
        model instances (and without touching ``updated_at`` or the audit trail)."""
        quote = connection.ops.quote_name
        table = quote(model._meta.db_table)
        assert model._meta.pk is not None
        pk = quote(str(model._meta.pk.column))
        listed = ", ".join(quote(column) for column in columns)
        rows_changed = values_changed = 0
        last_pk: Any = None
        while True:
            where = f"WHERE {pk} > %s " if last_pk is not None else ""
            # History copies too: the same text under the new key (clinic/audit.py).
            with rewriting_history(), connection.cursor() as cursor:
                cursor.execute(
                    f"SELECT {pk}, {listed} FROM {table} {where}ORDER BY {pk} LIMIT %s",  # noqa: S608
                    [last_pk, batch] if last_pk is not None else [batch],
                )
                fetched = cursor.fetchall()
                for row_pk, *tokens in fetched:
                    changes = {
                        column: rotate(token)
                        for column, token in zip(columns, tokens, strict=True)
                        if token and not is_under_first_key(token)
                    }
                    if not changes:
                        continue
                    rows_changed += 1
                    values_changed += len(changes)
                    if not dry_run:
                        assignments = ", ".join(f"{quote(column)} = %s" for column in changes)
                        cursor.execute(
                            f"UPDATE {table} SET {assignments} WHERE {pk} = %s",  # noqa: S608
                            [*changes.values(), row_pk],
                        )
            if len(fetched) < batch:
                return rows_changed, values_changed
            last_pk = fetched[-1][0]
