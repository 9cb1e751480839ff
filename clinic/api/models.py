"""What the JSON API keeps: callers' bearer tokens and the responses of idempotent writes.

Neither holds a secret or a request body in the clear: a token is stored as its SHA-256
(the caller holds the only copy), and an idempotency key keeps a fingerprint of the
request it answered, not the request (which may hold personal data). It does keep the
response, which a retry must get (for a booking, the appointment), for 24 hours.
"""

from django.conf import settings
from django.db import models


class ApiToken(models.Model):
    """A bearer token: ``Authorization: Bearer <token>``. It works until ``expires_at``,
    until it is revoked (``POST /api/v1/auth/logout``, or in the admin), until the
    user's password changes, or (staff) until their authenticator is reset."""

    class Kind(models.TextChoices):
        PATIENT = "patient", "Patient (emailed code)"
        STAFF = "staff", "Staff (password and authenticator)"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    # SHA-256 of the token, hex. The token itself is shown once, when it is issued.
    digest = models.CharField(max_length=64, unique=True, editable=False)
    # The token's first characters, so that a user and the admin can tell tokens apart.
    prefix = models.CharField(max_length=8, editable=False)
    # The user's session auth hash when the token was issued (an HMAC of the password
    # hash): a password change ends every token, as it ends every session.
    auth_hash = models.CharField(max_length=128, editable=False)
    # A staff token is issued against one authenticator (django-otp device). Removing
    # that authenticator in the admin (resetting it) deletes its tokens, as it ends the
    # staff member's verified sessions.
    device = models.ForeignKey(
        "otp_totp.TOTPDevice",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        editable=False,
        related_name="api_tokens",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["user", "created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="patient", device__isnull=True)
                | models.Q(kind="staff", device__isnull=False),
                name="api_token_staff_has_device",
            )
        ]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"


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
    # replay must send the very body of the first answer.
    response_body = models.TextField()
    response_headers = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.user}, {self.response_status})"
