"""Answers kept whole: a JSON answer or a page rendered once and served again, byte for
byte, from the shared cache (``CACHES["default"]``: Redis in production), until what it
depends on or the clock changes it (docs/performance.md, "The fourth round"). An answer
that names someone (My appointments: the patient, the people they book for) is kept in
each process's own memory instead (``using="process"``), never in the shared cache.

The rules every caller keeps:

- **The key names everything the answer depends on** (``answer_key``): the versions that
  are bumped in the same transaction as a change (a doctor's ``availability_version``),
  the rows shown (a digest of their columns), the query, the kind of visitor, the
  language (``answer_key`` adds it itself). A change commits with its version, so the
  next request, anyone's, builds another key: read-your-writes without invalidation.
- **The entry ends when the clock alone would change the answer** (``keep_answer``'s
  ``until``): a free time passing the minimum notice, the horizon reaching a new one, the
  clinic's day changing (``next_date_change``). The moment is stored with the entry and
  checked on every read, and the cache's own expiry is set to it, so an entry is never
  served a moment too late, whatever the cache backend rounds.
- **Nothing of one visitor is kept**: only 200 answers without cookies; the CSRF token of
  a page is rendered as ``CSRF_PLACEHOLDER`` (``render_with_placeholder``) and each
  request's own token is put in on the way out (``kept_answer``, ``keep_answer``), as
  ``{% memo %}`` does for the page shell. Per-request headers (the request id, no-store,
  Vary, the CSRF cookie) are added by the middleware after the view, for a kept answer
  as for a fresh one. What a visitor alone sees (their appointments, family, messages)
  must stay out of a kept answer: the caller renders such a request fresh. No unencrypted
  personal data goes into the shared cache.
- **Never for deciding anything**: a kept answer is only ever shown; the booking path
  reads the database under its locks.
"""

import datetime as dt
import hashlib
import threading
from collections import Counter
from typing import Any, TypeGuard
from zoneinfo import ZoneInfo

from django.core.cache import caches
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.template import loader
from django.template.context import make_context
from django.utils import timezone
from django.utils.translation import get_language

from clinic.templatetags import memo

# The longest an answer is kept, whatever its clock says: correctness does not depend on
# it (the key and ``until`` do); it bounds the room entries of old versions take.
KEPT_ANSWER_SECONDS = 60 * 60
# Below this an answer is not worth a write: it would end before anyone reads it.
SHORTEST_KEPT_SECONDS = 1

# The page shell's placeholder ({% memo %}), so that stretches inside a kept page keep it.
CSRF_PLACEHOLDER = memo.CSRF_PLACEHOLDER
_PLACEHOLDER_BYTES = CSRF_PLACEHOLDER.encode()
# Headers of a view's answer that belong to one request, never kept.
_PER_REQUEST_HEADERS = frozenset({"set-cookie", "x-request-id"})

# Per process, by kind: "hit", "miss", "kept" (written), "skipped" (not kept). For tests
# and a look in a shell; cheap enough to count always.
_counts: Counter[tuple[str, str]] = Counter()
_counts_lock = threading.Lock()


def _count(kind: str, what: str) -> None:
    with _counts_lock:
        _counts[(kind, what)] += 1


def counts() -> dict[tuple[str, str], int]:
    """How often, in this process, each kind of answer was found, missed, kept or not."""
    with _counts_lock:
        return dict(_counts)


def answer_key(kind: str, *parts: object) -> str:
    """``answer:<kind>:<hash>`` of ``parts`` (plain values, tuples, dates, digests) and
    the active language. ``kind`` names the answer (and lets a deployment tell them
    apart); the parts must name everything else it depends on but the clock."""
    text = repr((get_language(), parts))
    return f"answer:{kind}:{hashlib.sha256(text.encode()).hexdigest()[:40]}"


def kept_answer(
    key: str, request: HttpRequest | None = None, *, using: str = "default"
) -> HttpResponse | None:
    """The answer kept under ``key``, as a new response, if it is there and its clock has
    not run out; else None. A page's CSRF placeholder becomes this request's token.
    ``using``: the cache it is kept in (``"process"`` for an answer that names someone,
    which must not leave the process: settings.CACHES)."""
    kind = key.split(":", 2)[1] if key.count(":") >= 2 else key
    entry = caches[using].get(key)
    if not _is_entry(entry) or timezone.now().timestamp() >= entry[0]:
        _count(kind, "miss")
        return None
    _until, body, headers = entry
    _count(kind, "hit")
    response = HttpResponse(_with_token(body, request), headers=dict(headers))
    response.kept_answer = True  # type: ignore[attr-defined]  # for tests and logs
    return response


def keep_answer(
    key: str,
    response: HttpResponse,
    *,
    until: dt.datetime | None,
    request: HttpRequest | None = None,
    using: str = "default",
) -> HttpResponse:
    """Keep ``response`` (rendered, with ``CSRF_PLACEHOLDER`` where a token goes) under
    ``key`` until ``until`` (at most ``KEPT_ANSWER_SECONDS``), and return it with this
    request's CSRF token in place of the placeholder. Only a plain 200 without cookies is
    kept; any other answer is returned as it is. ``using``: the cache, as for
    ``kept_answer``."""
    kind = key.split(":", 2)[1] if key.count(":") >= 2 else key
    now = timezone.now()
    latest = now + dt.timedelta(seconds=KEPT_ANSWER_SECONDS)
    ends = latest if until is None else min(until, latest)
    seconds = (ends - now).total_seconds()
    keepable = (
        response.status_code == 200
        and not response.streaming
        and not response.cookies
        and seconds >= SHORTEST_KEPT_SECONDS
    )
    if keepable:
        headers = tuple(
            (name, value)
            for name, value in response.headers.items()
            if name.lower() not in _PER_REQUEST_HEADERS
        )
        # The cache rounds its expiry down to whole seconds (Redis's EX): never later
        # than ``ends``; the stored moment is exact.
        caches[using].set(key, (ends.timestamp(), response.content, headers), int(seconds))
        _count(kind, "kept")
    else:
        _count(kind, "skipped")
    if _PLACEHOLDER_BYTES in response.content:
        response.content = _with_token(response.content, request)
    return response


def render_with_placeholder(
    request: HttpRequest, template_name: str, context: dict[str, Any]
) -> str:
    """``render_to_string`` with ``CSRF_PLACEHOLDER`` for ``{{ csrf_token }}`` and
    ``{% csrf_token %}`` everywhere in the page (``{% memo %}`` stretches included), so
    that the HTML can be kept for anyone; ``keep_answer`` puts each request's token in.
    The context processors run as for any page."""
    template = loader.get_template(template_name)
    engine_template = template.template  # type: ignore[attr-defined]
    bound = make_context(context, request, autoescape=template.backend.engine.autoescape)  # type: ignore[attr-defined]
    # The processors (the real token among them) are bound first; the placeholder is
    # pushed over them, as {% memo %} pushes it over a stretch.
    with bound.bind_template(engine_template):
        bound.template_name = engine_template.name
        with bound.push(csrf_token=CSRF_PLACEHOLDER):
            html: str = engine_template.render(bound)
    return html


def next_date_change(zone: ZoneInfo, now: dt.datetime, *offsets: dt.timedelta) -> dt.datetime:
    """The first moment after ``now`` at which the local date (in ``zone``) of ``now``,
    or of ``now`` plus any of ``offsets`` (a minimum notice, a booking horizon), changes:
    when "today", the first or the last bookable day move on the clinic's wall clock."""
    moments = []
    for offset in (dt.timedelta(0), *offsets):
        local = (now + offset).astimezone(zone)
        midnight = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time.min, zone)
        moments.append(midnight.astimezone(dt.UTC) - offset)
    return min(moments)


def earliest(*moments: dt.datetime | None) -> dt.datetime | None:
    """The soonest of the moments given (None: no end of its own)."""
    known = [moment for moment in moments if moment is not None]
    return min(known) if known else None


# What the cache holds: (until as a POSIX timestamp, the body, the headers).
Entry = tuple[float, bytes, tuple[tuple[str, str], ...]]


def _is_entry(entry: object) -> TypeGuard[Entry]:
    return isinstance(entry, tuple) and len(entry) == 3 and isinstance(entry[1], bytes)


def _with_token(body: bytes, request: HttpRequest | None) -> bytes:
    if _PLACEHOLDER_BYTES not in body:
        return body
    token = get_token(request) if request is not None else ""
    return body.replace(_PLACEHOLDER_BYTES, token.encode())
