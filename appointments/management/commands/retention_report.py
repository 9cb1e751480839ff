"""``manage.py retention_report``: what is kept, by year, against RETENTION_YEARS."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from accounts.models import Patient
from appointments.erasure import appointments_by_year


class Command(BaseCommand):
    help = (
        "Count the appointment records and their audit records by year of the "
        "appointment, and say which years are past RETENTION_YEARS. It changes nothing: "
        "the app deletes no appointment record, whatever its age."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        years = settings.RETENTION_YEARS
        this_year = timezone.now().year
        self.stdout.write(f"Retention: at least {years} years (RETENTION_YEARS).")
        self.stdout.write("year  appointments  audit records  kept because")
        rows = appointments_by_year()
        for year, appointments, history in rows:
            # A year's records are due for review once its last day is RETENTION_YEARS old.
            due = year + years < this_year
            why = "past the retention period: review before any purge" if due else "retention"
            self.stdout.write(f"{year}  {appointments:>12}  {history:>13}  {why}")
        erased = Patient.objects.filter(erased_at__isnull=False).count()
        self.stdout.write(f"Patients erased on request (records kept, data removed): {erased}")
        total = sum(row[1] for row in rows)
        self.stdout.write(self.style.SUCCESS(f"{total} appointment records kept; none deleted."))
