"""A patient's right to erasure, within the duty to keep medical appointment records
(docs/security.md, "Retention and erasure").

Appointment records are kept ``RETENTION_YEARS`` (7) at least: nothing deletes them. What
a patient can have erased is everything that says who they are and why they came: the
profile (name, email, phone, date of birth), the names and dates of birth of the people
they booked for (their dependants), the visit and cancellation reasons of their
appointments, in the rows and in the audit trail's copies, the stored API answers that
repeat them, their sign-in devices and tokens. What stays is that *an* appointment took
place: its date, doctor, type and status, and who on the staff changed it.
"""

import logging

from django.db import models
from django.db.models.functions import ExtractYear
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import ApiToken, Dependant, Patient, SignInCode, User
from accounts.services import sign_out_everywhere
from appointments.models import Appointment, Notification
from clinic.api.models import IdempotencyKey
from clinic.audit import rewriting_history
from clinic.errors import DomainError

logger = logging.getLogger(__name__)

ERASED_NAME = "(erased)"
ERASED_REASON = "personal data erased"


class ErasureRefused(DomainError):
    code = "erasure_refused"
    http_status = 409
    default_message = _("This patient's data cannot be erased now.")


class UpcomingAppointments(ErasureRefused):
    code = "erasure_upcoming_appointments"
    default_message = _(
        "This patient still has upcoming appointments: cancel them first (the patient is "
        "told), then erase their data."
    )


def erased_email(user: User) -> str:
    """A placeholder that is no one's address (``.invalid`` is reserved, RFC 2606)."""
    return f"erased-{user.pk}@erased.invalid"


def erase_patient(*, patient: Patient, erased_by: User | None) -> Patient:
    """Erase ``patient``'s personal data and keep their appointment records. Erasing an
    erased patient changes nothing. Refused while they have upcoming appointments."""
    if patient.erased_at is not None:
        return patient
    if Appointment.objects.filter(patient=patient).upcoming(timezone.now()).exists():
        raise UpcomingAppointments()
    with rewriting_history():
        user = patient.user
        appointments = list(Appointment.objects.filter(patient=patient))
        for appointment in appointments:
            appointment.reason = ""
            appointment.cancellation_reason = ""
            appointment._history_user = erased_by  # type: ignore[attr-defined]
            appointment._change_reason = ERASED_REASON  # type: ignore[attr-defined]
            appointment.save(update_fields=["reason", "cancellation_reason", "updated_at"])
        _erase_history(appointments)
        Notification.objects.filter(
            appointment__patient=patient, state=Notification.State.PENDING
        ).update(state=Notification.State.SKIPPED)
        Notification.objects.filter(appointment__patient=patient).update(last_error="")

        IdempotencyKey.objects.filter(user=user).delete()
        SignInCode.objects.filter(user=user).delete()
        sign_out_everywhere(user=user)
        ApiToken.objects.filter(user=user).delete()
        user.email = erased_email(user)
        user.is_active = False
        user.set_unusable_password()
        user.save(update_fields=["email", "is_active", "password"])

        # The people they booked for: their names and dates of birth go too; the rows
        # stay, as the appointment records that name them do (on_delete=PROTECT).
        Dependant.objects.filter(patient=patient).update(
            full_name=ERASED_NAME, name_search="", date_of_birth=None, erased_at=timezone.now()
        )

        patient.full_name = ERASED_NAME
        patient.phone = ""
        patient.date_of_birth = None
        patient.erased_at = timezone.now()
        patient.save(update_fields=["full_name", "phone", "date_of_birth", "erased_at"])
    logger.info("Erased the personal data of patient %s", patient.pk)
    return patient


def _erase_history(appointments: list[Appointment]) -> None:
    """Blank the reasons in the audit trail's copies; a change reason keeps what was done
    ("cancelled by patient") and loses what was said after it."""
    history = Appointment.history.model
    for record in history.objects.filter(id__in=[a.pk for a in appointments]):
        said = record.history_change_reason or ""
        done, _colon, _what_was_said = said.partition(": ")
        # Raw UPDATE of this row: a save() of a history record would write a new one.
        history.objects.filter(pk=record.pk).update(
            reason="", cancellation_reason="", history_change_reason=done
        )


def appointments_by_year() -> list[tuple[int, int, int]]:
    """(year, appointments, their audit records) for every year with appointments."""
    history = Appointment.history.model
    counts: dict[int, list[int]] = {}
    for row in (
        Appointment.objects.values(year=ExtractYear("starts_at"))
        .annotate(n=models.Count("pk"))
        .order_by("year")
    ):
        counts.setdefault(row["year"], [0, 0])[0] = row["n"]
    for row in (
        history.objects.values(year=ExtractYear("starts_at"))
        .annotate(n=models.Count("pk"))
        .order_by("year")
    ):
        counts.setdefault(row["year"], [0, 0])[1] = row["n"]
    return [(year, counts[year][0], counts[year][1]) for year in sorted(counts)]
