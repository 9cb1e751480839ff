"""Recompute every patient's search keys: after PHONE_LOOKUP_KEY changed, or after phones
were written past ``Patient.save()`` (a raw UPDATE, an import with bulk_create)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from accounts.models import Patient

BATCH = 2000


class Command(BaseCommand):
    help = (
        "Recompute each patient's phone lookup hash (under the current PHONE_LOOKUP_KEY) "
        "and folded name, which the staff's patient search uses."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would change, change nothing."
        )

    def handle(self, *args: Any, dry_run: bool = False, **options: Any) -> None:
        changed: list[Patient] = []
        seen = count = 0
        fields = ("phone", "phone_lookup", "name_search")
        for patient in Patient.objects.only("pk", *fields, "full_name").iterator(BATCH):
            seen += 1
            before = tuple(getattr(patient, name) for name in fields)
            if tuple(getattr(patient.with_search_keys(), name) for name in fields) != before:
                changed.append(patient)
                count += 1
            if not dry_run and len(changed) >= BATCH:
                Patient.objects.bulk_update(changed, fields)
                changed.clear()
        if not dry_run and changed:
            Patient.objects.bulk_update(changed, fields)
        verb = "would change" if dry_run else "changed"
        self.stdout.write(f"{seen} patients; search keys {verb} for {count}.")
