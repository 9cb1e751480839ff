"""``Idempotency-Key`` for API writes (IETF draft "The Idempotency-Key HTTP Header Field").

A client sends a unique key with a write and may retry it safely:

- the first request with a key runs, and its response is stored under the key, in the
  transaction of the write itself (a crash leaves neither, so the retry runs afresh);
- a retry with the same key and the same request gets the stored status and body, with
  ``Idempotent-Replayed: true``, and writes nothing (a stored 409 is replayed too);
- the same key with a different request (method, path or JSON body) is a 422;
- the same key while the first request is still running is a 409 with ``Retry-After``,
  and so is a write that could not take its locks in time (``clinic.locking.Busy``):
  neither answer is stored, so the retry runs afresh;
- keys are the caller's own (two users may pick the same key) and expire after
  ``settings.IDEMPOTENCY_KEY_LIFETIME_HOURS`` (24 h), when a daily task deletes them.

Only a fingerprint of the request is kept (SHA-256 of method, path and canonical JSON
body), never the body, which may hold personal data.

"Still running" is seen on PostgreSQL through a transaction-level advisory lock on the
(user, key) pair, taken without waiting. SQLite runs one write transaction at a time,
so there the retry waits for the first request and gets its stored response.
"""

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils import encoders

from clinic import locking
from clinic.api.models import IdempotencyKey
from clinic.api.problems import PROBLEM_CONTENT_TYPE, ApiProblem, problem_for

HEADER = "Idempotency-Key"
_KEY_HELP = (
    "A unique value (a UUID) per new request, the same when retrying it; 1-255 visible "
    "ASCII characters. A retry gets the stored response; see docs/api.md."
)
IDEMPOTENCY_KEY_REQUIRED = OpenApiParameter(
    HEADER, str, OpenApiParameter.HEADER, required=True, description=_KEY_HELP
)
IDEMPOTENCY_KEY_OPTIONAL = OpenApiParameter(
    HEADER, str, OpenApiParameter.HEADER, required=False, description=_KEY_HELP
)
MAX_KEY_LENGTH = 255
IN_FLIGHT_RETRY_AFTER = 1
# Response headers kept with the response and sent again on a replay.
STORED_HEADERS = ("Location",)


def run_idempotently(
    request: Request,
    handler: Callable[[], Response],
    *,
    required: bool,
    may_replay: Callable[[IdempotencyKey], bool] | None = None,
) -> Response:
    """``handler()``'s response, run at most once per ``Idempotency-Key`` of the caller.

    ``handler`` makes the write; its domain and validation errors become problem
    responses here, so that they are stored and replayed like any other answer.
    ``may_replay`` says whether a stored response may still be shown to the caller (the
    record it holds may have left their sight since); when not, the answer is a 404."""
    key = idempotency_key(request, required=required)
    if key is None:
        return handler()
    user_id = request.user.pk
    assert user_id is not None, "only signed-in callers have keys"
    fingerprint = request_fingerprint(request)
    with locking.atomic():
        if not _lock(user_id, key):
            raise _in_flight()
        now = timezone.now()
        stored = IdempotencyKey.objects.filter(user_id=user_id, key=key).first()
        if stored is not None and stored.expires_at <= now:
            stored.delete()
            stored = None
        if stored is not None:
            if stored.fingerprint != fingerprint:
                raise ApiProblem(
                    422,
                    "idempotency_key_mismatch",
                    "This Idempotency-Key was used for a different request. "
                    "Use a new key for a new request.",
                )
            if may_replay is not None and not may_replay(stored):
                raise exceptions.NotFound("What this key created is no longer yours to see.")
            return _replay(stored)

        response = _answer(handler)
        if response.status_code >= 500:
            return response  # not stored: a retry runs again
        if response.status_code >= 400:
            _commit_without_waiting_for_the_disk()
        try:
            # No savepoint of its own: a failure here ends the whole transaction
            # (the raise below), so nothing would be kept to roll back to.
            IdempotencyKey.objects.create(
                user_id=user_id,
                key=key,
                fingerprint=fingerprint,
                response_status=response.status_code,
                response_body=_body_text(response),
                response_headers={
                    name: response[name] for name in STORED_HEADERS if response.has_header(name)
                },
                expires_at=now + dt.timedelta(hours=settings.IDEMPOTENCY_KEY_LIFETIME_HOURS),
            )
        except IntegrityError as error:
            # Another request with this key committed first (the lock makes this all
            # but impossible): undo this one's write and let the client retry.
            raise _in_flight() from error
    return response


def idempotency_key(request: Request, *, required: bool) -> str | None:
    """The request's key: a string of 1 to 255 visible ASCII characters, bare or, as the
    draft writes it (a structured-field string), in double quotes."""
    raw = request.headers.get(HEADER)
    if raw is None or not raw.strip():
        if required:
            raise ApiProblem(
                400,
                "idempotency_key_missing",
                "Send an Idempotency-Key header (a new random value, e.g. a UUID, for each "
                "new request; the same value when retrying it).",
            )
        return None
    key = raw.strip()
    if len(key) >= 2 and key[0] == key[-1] == '"':
        key = key[1:-1]
    if not key or len(key) > MAX_KEY_LENGTH or not all(33 <= ord(c) <= 126 for c in key):
        raise ApiProblem(
            400,
            "idempotency_key_invalid",
            "The Idempotency-Key must be 1 to 255 visible ASCII characters, e.g. a UUID.",
        )
    return key


def request_fingerprint(request: Request) -> str:
    """SHA-256 of the method, the path and the parsed JSON body in canonical form (so
    that key order and spacing do not make two equal requests differ)."""
    body: Any = request.data  # a malformed body is a 400 here, before any key is used
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    text = f"{request.method} {request.path}\n{canonical}"
    return hashlib.sha256(text.encode()).hexdigest()


def purge_expired_keys() -> int:
    """Delete expired keys and their responses (a daily django-q2 schedule)."""
    deleted, _by_model = IdempotencyKey.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted


def _answer(handler: Callable[[], Response]) -> Response:
    try:
        # A savepoint: a refused write leaves nothing behind, the stored answer stays.
        with transaction.atomic():
            return handler()
    except locking.Busy:
        raise  # "try again" is no answer to keep: the retry must run afresh
    except Exception as error:
        response = problem_for(error)
        if response is None:
            raise
        return response


def _commit_without_waiting_for_the_disk() -> None:
    """A refusal changed nothing but its own stored answer, so its commit need not wait
    for the write-ahead log to reach the disk (PostgreSQL's ``synchronous_commit`` off
    for this transaction alone; docs/performance.md, "A refusal's commit"). Should the
    server crash within the moment before the log is written, the stored refusal is
    lost, and a retry with the key is answered afresh, as a first request would be: it
    cannot book twice, because what a key books is committed as before, waiting for the
    disk. When many ask for one taken time at once, each refusal would otherwise wait
    for its own flush (about 4 ms on this machine's disk)."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('synchronous_commit', 'off', true)")


def _lock(user_id: int, key: str) -> bool:
    if connection.vendor != "postgresql":
        return True  # SQLite: BEGIN IMMEDIATE already serialises every write
    digest = hashlib.sha256(f"idempotency:{user_id}:{key}".encode()).digest()
    lock_id = int.from_bytes(digest[:8], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [lock_id])
        row = cursor.fetchone()
    return bool(row and row[0])


def _in_flight() -> ApiProblem:
    return ApiProblem(
        409,
        "idempotency_key_in_flight",
        "A request with this Idempotency-Key is still being processed. Retry shortly.",
        retry_after=IN_FLIGHT_RETRY_AFTER,
    )


def _body_text(response: Response) -> str:
    return json.dumps(response.data, cls=encoders.JSONEncoder, ensure_ascii=False)


def _replay(stored: IdempotencyKey) -> Response:
    headers = {**stored.response_headers, "Idempotent-Replayed": "true"}
    content_type = PROBLEM_CONTENT_TYPE if stored.response_status >= 400 else None
    return Response(
        # Parsed in order, so that it renders as it was first sent.
        json.loads(stored.response_body),
        status=stored.response_status,
        headers=headers,
        content_type=content_type,
    )
