"""What the JSON API's machinery keeps: the responses of idempotent writes.

An idempotency key keeps a fingerprint of the request it answered, not the request
(which may hold personal data). It does keep the response, which a retry must get (for a
booking, the appointment), for 24 hours. (Bearer tokens belong to users: accounts.models.)
"""

from django.conf import settings
from django.db import models

from clinic.encryption import EncryptedTextField


class IdempotencyKey(models.Model):
    """One ``Idempotency-Key`` a caller sent with a write, and the response it got.

    The row commits in the transaction of the write it guards, so a key is either
    unused or answered: a retry gets the stored response and causes no second write."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="idempotency_keys"
    )
    key = models.CharField(max_length=255)
    # SHA-256 of the method, the path and the canonical JSON body.
    fingerprint = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField()
    # JSON text, not a JSON column: PostgreSQL's jsonb reorders an object's keys, and a
    # replay must send the very body of the first answer. Encrypted at rest: a booking's
    # answer holds the patient's name, phone and reason.
    response_body = EncryptedTextField()
    response_headers = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.user}, {self.response_status})"
