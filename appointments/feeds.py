"""Doctors' calendar feeds: private iCalendar subscription addresses that Outlook, Google
and Apple calendars poll. The token in the address is the only key (no sign-in), so it
is long and random, only its SHA-256 is stored, a new address revokes the old one, and
the feed carries as little about patients as a calendar can be useful with: their
initials and the appointment type, never the name or the reason.
"""

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from appointments.models import Appointment, CalendarFeed
from scheduling.models import Doctor

# What a feed shows: the last month, and as far ahead as patients can book.
FEED_PAST = dt.timedelta(days=31)


def feed_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def feed_url(token: str) -> str:
    """``https://clinic.example.com/calendar/<token>.ics``; calendar apps take it as it is
    or as ``webcal://``."""
    return settings.SITE_URL + reverse("appointments:feed", args=[token])


def webcal_url(token: str) -> str:
    return "webcal://" + feed_url(token).split("://", 1)[1]


def create_feed(*, doctor: Doctor, created_by: User) -> tuple[CalendarFeed, str]:
    """A new feed for ``doctor`` and its token (shown once); the live one, if any, ends."""
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        revoke_feeds(doctor=doctor, revoked_by=created_by)
        feed = CalendarFeed.objects.create(
            doctor=doctor, digest=feed_digest(token), created_by=created_by
        )
    return feed, token


def revoke_feeds(*, doctor: Doctor, revoked_by: User) -> int:
    """End the doctor's live feed: its address answers 404 from now on."""
    return CalendarFeed.objects.filter(doctor=doctor, revoked_at__isnull=True).update(
        revoked_at=timezone.now(), revoked_by=revoked_by
    )


def live_feed(doctor: Doctor) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(doctor=doctor, revoked_at__isnull=True).first()


def feed_by_token(token: str) -> CalendarFeed | None:
    """The live feed whose token this is (compared by digest), with its doctor."""
    return (
        CalendarFeed.objects.select_related("doctor__clinic")
        .filter(digest=feed_digest(token), revoked_at__isnull=True)
        .first()
    )


def feed_appointments(feed: CalendarFeed, now: dt.datetime) -> list[Appointment]:
    """The doctor's appointments that take their time (booked, completed, no-show) from a
    month ago to the booking horizon."""
    clinic = feed.doctor.clinic
    return list(
        Appointment.objects.active()
        .filter(
            doctor=feed.doctor,
            starts_at__gte=now - FEED_PAST,
            starts_at__lte=now + clinic.booking_horizon,
        )
        .select_related("patient", "appointment_type")
        .order_by("starts_at", "pk")
    )
