"""``manage.py generate_encryption_key``: a new key for FIELD_ENCRYPTION_KEYS."""

from typing import Any

from django.core.management.base import BaseCommand

from clinic.encryption import new_key


class Command(BaseCommand):
    help = (
        "Print a new random Fernet key for FIELD_ENCRYPTION_KEYS. To rotate, put it first "
        "in the list (keep the old ones after it), deploy, then run rotate_encryption_keys."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(new_key())
