"""An appointment as an iCalendar file (RFC 5545) for the patient's own calendar.

The UID stays the same for the life of the appointment and SEQUENCE is the
appointment's change counter, so importing a newer file (after a reschedule or a
cancellation) updates the event instead of adding a second one.
"""

import datetime as dt
from urllib.parse import urlsplit

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar, Event

from appointments.models import Appointment

PRODUCT_ID = "-//Clinic appointments//Appointment calendar//EN"


def event_uid(appointment: Appointment) -> str:
    host = urlsplit(settings.SITE_URL).hostname or "localhost"
    return f"appointment-{appointment.pk}@{host}"


def event_summary(appointment: Appointment) -> str:
    # Doctors' names carry their title ("Dr. Anna Weber"), so none is added here.
    return f"{appointment.appointment_type.name} with {appointment.doctor.name}"


def appointment_calendar(appointment: Appointment) -> bytes:
    clinic = appointment.doctor.clinic
    manage_url = settings.SITE_URL + reverse("appointments:detail", args=[appointment.pk])
    address_lines = [line.strip() for line in clinic.address.splitlines() if line.strip()]
    location = ", ".join([clinic.name, *address_lines])
    # The patient's reason stays out: calendars get synced to third-party services.
    description = "\n".join(
        line
        for line in [
            f"{appointment.appointment_type} at {clinic.name}.",
            f"Clinic phone: {clinic.phone}" if clinic.phone else "",
            f"See, change or cancel this appointment: {manage_url}",
        ]
        if line
    )

    event = Event()
    event.add("uid", event_uid(appointment))
    event.add("sequence", appointment.sequence)
    event.add("dtstamp", timezone.now())
    event.add("created", appointment.created_at)
    event.add("last-modified", appointment.updated_at)
    event.add("dtstart", appointment.starts_at.astimezone(dt.UTC))
    event.add("dtend", appointment.ends_at.astimezone(dt.UTC))
    event.add("summary", event_summary(appointment))
    event.add("location", location)
    event.add("description", description)
    event.add("url", manage_url)
    event.add("status", "CANCELLED" if appointment.is_cancelled else "CONFIRMED")
    event.add("transp", "OPAQUE")

    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add_component(event)
    result: bytes = calendar.to_ical()
    return result
