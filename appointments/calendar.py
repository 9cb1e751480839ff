"""An appointment as an iCalendar file (RFC 5545) for the patient's own calendar.

The UID stays the same for the life of the appointment and SEQUENCE is the
appointment's change counter, so importing a newer file (after a reschedule or a
cancellation) updates the event instead of adding a second one.

Three flavours, by iTIP method (RFC 5546):

- ``PUBLISH``: the download on the appointment page, a copy to import.
- ``REQUEST``: the invite attached to booking and reschedule confirmations; mail
  programs offer to add it, or update the event already added.
- ``CANCEL``: attached to cancellations; mail programs remove the event.

Every flavour names the clinic as ORGANIZER (RFC 5546 §3.2.1 requires it of PUBLISH
too); an invite (``REQUEST`` / ``CANCEL``) also names the patient as ATTENDEE, as RFC
5546 requires; RSVP=FALSE because no reply is read.

Summary and description are in the active language: the patient's, in the emails the worker
sends; the page's, for the download.
"""

import datetime as dt
from email.utils import parseaddr
from typing import Literal
from urllib.parse import urlsplit

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from icalendar import Calendar, Event, vCalAddress

from appointments.models import Appointment
from scheduling.models import Clinic, Doctor

PRODUCT_ID = "-//Clinic appointments//Appointment calendar//EN"

Method = Literal["PUBLISH", "REQUEST", "CANCEL"]


def event_uid(appointment: Appointment) -> str:
    host = urlsplit(settings.SITE_URL).hostname or "localhost"
    return f"appointment-{appointment.pk}@{host}"


def event_summary(appointment: Appointment) -> str:
    """ "Consultation with Dr. Anna Weber"; for one of the people the patient books for,
    "Consultation for Mia Muster with Dr. Anna Weber": the account holder's calendar may
    hold the whole family's visits."""
    # Doctors' names carry their title ("Dr. Anna Weber"), so none is added here.
    if appointment.dependant:
        return gettext("%(type)s for %(person)s with %(doctor)s") % {
            "type": appointment.appointment_type.name,
            "person": appointment.dependant.full_name,
            "doctor": appointment.doctor.name,
        }
    return gettext("%(type)s with %(doctor)s") % {
        "type": appointment.appointment_type.name,
        "doctor": appointment.doctor.name,
    }


def appointment_calendar(appointment: Appointment, *, method: Method = "PUBLISH") -> bytes:
    clinic = appointment.doctor.clinic
    manage_url = settings.SITE_URL + reverse("appointments:detail", args=[appointment.pk])
    address_lines = [line.strip() for line in clinic.address.splitlines() if line.strip()]
    location = ", ".join([clinic.name, *address_lines])
    # The patient's reason stays out: calendars get synced to third-party services.
    description = "\n".join(
        line
        for line in [
            gettext("%(type)s at %(clinic)s.")
            % {"type": appointment.appointment_type, "clinic": clinic.name},
            gettext("For %(name)s.") % {"name": appointment.dependant.full_name}
            if appointment.dependant
            else "",
            gettext("Clinic phone: %(phone)s") % {"phone": clinic.phone} if clinic.phone else "",
            gettext("See, change or cancel this appointment: %(url)s") % {"url": manage_url},
        ]
        if line
    )
    cancelled = method == "CANCEL" or appointment.is_cancelled

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
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("transp", "OPAQUE")
    # Every iTIP method, PUBLISH included, names the ORGANIZER (RFC 5546 §3.2.1).
    event.add("organizer", clinic_organizer(clinic))
    if method != "PUBLISH":
        patient = appointment.patient
        event.add(
            "attendee",
            vCalAddress.new(
                patient.email,
                cn=patient.full_name or None,
                role="REQ-PARTICIPANT",
                # The patient chose this time (or agreed it with the clinic): nothing to
                # accept. A cancellation ends the event for everyone; no status needed.
                partstat=None if cancelled else "ACCEPTED",
                rsvp=False,
            ),
        )

    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    calendar.add_component(event)
    result: bytes = calendar.to_ical()
    return result


def clinic_organizer(clinic: Clinic) -> vCalAddress:
    """The clinic as ORGANIZER: its own address if it has one, else the address our mail
    comes from, with its name."""
    address = clinic.email or parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    return vCalAddress.new(address, cn=clinic.name)


def initials(name: str) -> str:
    """ "Petra Pohl" -> "P. P."; what a doctor's feed says of a patient."""
    return " ".join(f"{word[0]}." for word in name.split() if word[:1].isalpha()) or "?"


def doctor_feed(doctor: Doctor, appointments: list[Appointment]) -> bytes:
    """A doctor's subscription feed (RFC 5545): one event per appointment, summary the
    patient's initials and the appointment type, nothing more (no name, no reason: feeds
    are synced to third-party calendar services). UTC times, so no VTIMEZONE is needed.
    UIDs of their own, so that a doctor who is also a patient never sees one event
    update the other. Each event names the clinic as ORGANIZER, which RFC 5546 §3.2.1
    requires of METHOD:PUBLISH as of the patient's download."""
    host = urlsplit(settings.SITE_URL).hostname or "localhost"
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"{doctor.name} · {doctor.clinic.name}")
    calendar.add("x-wr-timezone", doctor.clinic.timezone)
    # RFC 7986 and its older name: how often subscribers should fetch it again.
    calendar.add("refresh-interval", dt.timedelta(minutes=15), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT15M")
    stamp = timezone.now()
    organizer = clinic_organizer(doctor.clinic)
    for appointment in appointments:
        event = Event()
        event.add("uid", f"feed-appointment-{appointment.pk}@{host}")
        event.add("sequence", appointment.sequence)
        event.add("dtstamp", stamp)
        event.add("last-modified", appointment.updated_at)
        event.add("dtstart", appointment.starts_at.astimezone(dt.UTC))
        event.add("dtend", appointment.ends_at.astimezone(dt.UTC))
        event.add(
            "summary",
            f"{initials(appointment.patient.full_name)} · {appointment.appointment_type.name}",
        )
        event.add("status", "CONFIRMED")
        event.add("transp", "OPAQUE")
        event.add("class", "PRIVATE")
        event.add("organizer", organizer)
        calendar.add_component(event)
    result: bytes = calendar.to_ical()
    return result
