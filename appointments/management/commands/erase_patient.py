"""``manage.py erase_patient``: a patient's erasure request (appointments.erasure)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from accounts.models import Patient
from appointments.erasure import ErasureRefused, erase_patient


class Command(BaseCommand):
    help = (
        "Erase a patient's personal data (name, email, phone, date of birth, visit and "
        "cancellation reasons, in the audit trail too) and keep their appointment records "
        "(date, doctor, type, status). Refused while they have upcoming appointments."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        who = parser.add_mutually_exclusive_group(required=True)
        who.add_argument("--email", help="The patient's sign-in email.")
        who.add_argument("--id", type=int, help="The patient's id (admin: Patients).")
        parser.add_argument("--dry-run", action="store_true", help="Erase, then roll back.")

    def handle(
        self, *args: Any, email: str | None, id: int | None, dry_run: bool, **o: Any
    ) -> None:
        found = Patient.objects.filter(
            **({"user__email": email.strip().lower()} if email else {"pk": id})
        ).first()
        if found is None:
            raise CommandError("No such patient.")
        appointments = found.appointments.count()
        try:
            with transaction.atomic():
                erase_patient(patient=found, erased_by=None)
                if dry_run:
                    transaction.set_rollback(True)
        except ErasureRefused as error:
            raise CommandError(error.message) from error
        verb = "Would erase" if dry_run else "Erased"
        self.stdout.write(
            self.style.SUCCESS(
                f"{verb} the personal data of patient {found.pk}; {appointments} appointment "
                "records kept."
            )
        )
