"""Domain errors raised by the booking services.

Each carries a stable machine-readable ``code`` (the API's problem ``code``) and a
message written for the person who tried, shown as-is by the pages.
"""

from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _

from clinic.errors import DomainError


class BookingError(DomainError):
    code = "booking_error"
    default_message = _("This booking could not be made.")


class SlotUnavailable(BookingError):
    code = "slot_unavailable"
    http_status = 409
    default_message = _("Sorry, that time is no longer available. Please choose another time.")


class TooSoon(BookingError):
    code = "too_soon"
    default_message = _("That time is too soon to book. Please choose a later time.")


class TooFarAhead(BookingError):
    code = "too_far_ahead"
    default_message = _("That time is too far ahead to book yet.")


class PatientOverlap(BookingError):
    code = "patient_overlap"
    http_status = 409
    default_message = _("You already have an appointment at that time.")


class NotYourDependant(BookingError):
    code = "not_your_dependant"
    http_status = 403
    default_message = _("You can book only for yourself and the people on your list.")


class TooManyUpcoming(BookingError):
    code = "too_many_upcoming"
    default_message = _(
        "You already have the maximum number of upcoming appointments. "
        "Cancel one or wait until it has taken place."
    )


class NotBookable(BookingError):
    code = "not_bookable"
    default_message = _("This doctor or appointment type cannot be booked.")


class ChangeWindowClosed(BookingError):
    code = "change_window_closed"
    default_message = _("This appointment is too close to change online. Please call the clinic.")


class InvalidTransition(BookingError):
    code = "invalid_transition"
    http_status = 409
    default_message = _("This appointment can no longer be changed.")


class IdempotencyKeyReused(BookingError):
    code = "idempotency_key_reused"
    default_message = _("This request key was already used for a different booking.")


class NotStartedYet(BookingError):
    code = "not_started_yet"
    default_message = _("Attendance can be marked only once the appointment has started.")


class CorrectionTooLate(BookingError):
    code = "correction_too_late"
    default_message = _(
        "Attendance can be corrected only on the day of the appointment, in the clinic's time."
    )


class ProfileIncomplete(BookingError):
    code = "profile_incomplete"
    default_message = _(
        "The patient's name, phone number and date of birth are needed before booking."
    )


class ReasonRequired(BookingError):
    code = "reason_required"
    default_message = _("Give the reason for cancelling: the patient is told it.")


class DayIsOver(BookingError):
    code = "day_is_over"
    default_message = _("This day is over: there is nothing left of it to cancel.")


def overlap_for(person: str | None) -> PatientOverlap:
    """``PatientOverlap`` saying whose time it is: the patient's (None) or a dependant's."""
    if person is None:
        return PatientOverlap()
    return PatientOverlap(
        gettext("%(name)s already has an appointment at that time.") % {"name": person}
    )


def too_many_upcoming_for(person: str | None) -> TooManyUpcoming:
    """``TooManyUpcoming`` saying whose appointments they are."""
    if person is None:
        return TooManyUpcoming()
    return TooManyUpcoming(
        pgettext(
            "dependant",
            "%(name)s already has the maximum number of upcoming appointments. "
            "Cancel one or wait until it has taken place.",
        )
        % {"name": person}
    )
