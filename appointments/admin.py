"""Admin for appointments: a window onto bookings and their history, not a way around
the booking rules.

Nothing is added or deleted here, and patient, doctor, type, times and status are
read-only. The one change, cancelling, is an action that calls
``appointments.services.cancel_appointment``, so it takes the same locks and leaves the
same audit record as a cancellation anywhere else.

Each appointment's page lists its emails (the ``Notification`` outbox) and their state;
the notification list filters them by state and kind, e.g. to find failed sends. Both
only show: the worker (``appointments.tasks``) is the only writer.
"""

import datetime as dt
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import ActionLocation
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_stubs_ext import StrOrPromise
from simple_history.admin import SimpleHistoryAdmin

from accounts.admin import PatientAdmin
from accounts.models import Patient, User
from appointments.erasure import ErasureRefused, erase_patient
from appointments.models import CANCELLED_STATUSES, Appointment, Notification
from appointments.services import cancel_appointment
from clinic.errors import DomainError
from clinic.local_time import local_format

ADMIN_CANCELLATION_REASON = "Cancelled in admin"


def format_local(moment: dt.datetime, appointment: Appointment) -> str:
    """``moment`` on the clinic's wall clock: "Mon 9 Mar 2026, 10:00 CET"."""
    return local_format(moment, "D j M Y, H:i T", appointment.doctor.clinic.zone)


class WhenFilter(admin.SimpleListFilter):
    title = _("when")
    parameter_name = "when"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, StrOrPromise]]:
        return [("upcoming", _("Upcoming")), ("past", _("Past"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        now = timezone.now()
        if self.value() == "upcoming":
            return queryset.filter(starts_at__gte=now)
        if self.value() == "past":
            return queryset.filter(starts_at__lt=now)
        return queryset


NOTIFICATION_FIELDS = (
    "kind",
    "channel",
    "state",
    "due",
    "attempts",
    "retry_at",
    "sent",
    "last_error",
)


class NotificationTimes:
    """Notification times on the clinic's wall clock, like the appointment's own."""

    @admin.display(description=_("due"), ordering="due_at")
    def due(self, notification: Notification) -> str:
        return format_local(notification.due_at, notification.appointment)

    @admin.display(description=_("next attempt"))
    def retry_at(self, notification: Notification) -> str:
        if notification.next_attempt_at is None:
            return "-"
        return format_local(notification.next_attempt_at, notification.appointment)

    @admin.display(description=_("sent"), ordering="sent_at")
    def sent(self, notification: Notification) -> str:
        if notification.sent_at is None:
            return "-"
        return format_local(notification.sent_at, notification.appointment)


class NotificationInline(NotificationTimes, admin.TabularInline[Notification, Appointment]):
    model = Notification
    fields = NOTIFICATION_FIELDS
    readonly_fields = NOTIFICATION_FIELDS
    ordering = ("due_at", "pk")
    extra = 0
    can_delete = False
    show_change_link = True

    def get_queryset(self, request: HttpRequest) -> QuerySet[Notification]:
        return super().get_queryset(request).select_related("appointment__doctor__clinic")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Notification)
class NotificationAdmin(NotificationTimes, admin.ModelAdmin[Notification]):
    list_display = (
        "appointment",
        "patient_email",
        "kind",
        "channel",
        "state",
        "due",
        "attempts",
        "sent",
    )
    list_filter = ("state", "channel", "kind", ("due_at", admin.DateFieldListFilter))
    list_select_related = ("appointment__doctor__clinic", "appointment__patient__user")
    search_fields = ("key", "appointment__patient__user__email", "appointment__patient__full_name")
    date_hierarchy = "due_at"
    fields = ("appointment", "key", "sequence", *NOTIFICATION_FIELDS, "created_at")
    readonly_fields = fields

    @admin.display(description=_("patient"), ordering="appointment__patient__user__email")
    def patient_email(self, notification: Notification) -> str:
        return notification.appointment.patient.email

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Rows are queued by the booking services, in the transaction of the change.
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The record of what the patient was sent stays.
        return False


@admin.register(Appointment)
class AppointmentAdmin(SimpleHistoryAdmin):  # type: ignore[misc]  # simple-history is untyped
    list_display = (
        "starts_utc",
        "local_start",
        "patient_name_and_email",
        "doctor",
        "appointment_type",
        "status",
    )
    list_filter = (
        "status",
        "doctor__clinic",
        WhenFilter,
        ("starts_at", admin.DateFieldListFilter),
    )
    list_select_related = ("patient__user", "doctor__clinic", "appointment_type")
    search_fields = ("patient__full_name", "patient__user__email", "doctor__name")
    date_hierarchy = "starts_at"
    actions = ("cancel_by_clinic",)
    history_list_display = ("status", "starts_at")

    fieldsets = (
        (None, {"fields": ("patient", "dependant", "doctor", "appointment_type", "status")}),
        (_("When"), {"fields": ("starts_utc", "ends_utc", "local_start", "local_end")}),
        (_("Booking"), {"fields": ("reason", "booked_by", "created_at", "updated_at")}),
        (_("Cancellation"), {"fields": ("cancellation_reason", "cancelled_at")}),
    )
    # Only the patient's stated reason can be edited here. Everything that decides whether
    # a time is taken changes through appointments.services alone.
    readonly_fields = (
        "patient",
        "dependant",
        "doctor",
        "appointment_type",
        "status",
        "starts_utc",
        "ends_utc",
        "local_start",
        "local_end",
        "booked_by",
        "created_at",
        "updated_at",
        "cancellation_reason",
        "cancelled_at",
    )

    def get_inlines(self, request: HttpRequest, obj: Appointment | None) -> list[type[Any]]:
        # The emails are shown, never edited: a POST here (saving the reason) has no
        # notification formset to validate, so it needs none of its form fields.
        if obj is None or request.method not in ("GET", "HEAD"):
            return []
        return [NotificationInline]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Booking checks hours, notice, overlaps and limits: it goes through the services.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Appointment | None = None) -> bool:
        # Appointments are cancelled, never deleted: the record and its history stay.
        # Without this permission the admin also drops its "Delete selected" action.
        return False

    def history_form_view(
        self,
        request: HttpRequest,
        object_id: str,
        version_id: str,
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        # simple-history saves a POST to this page as a revert even when reverting is
        # turned off (the setting only hides the button). A revert would write an old
        # status or time straight to the row, around the services: only viewing is allowed.
        if request.method not in ("GET", "HEAD"):
            raise PermissionDenied
        response: HttpResponse = super().history_form_view(
            request, object_id, version_id, extra_context
        )
        return response

    @admin.display(description=_("starts (UTC)"), ordering="starts_at")
    def starts_utc(self, appointment: Appointment) -> str:
        return f"{appointment.starts_at.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"

    @admin.display(description=_("ends (UTC)"))
    def ends_utc(self, appointment: Appointment) -> str:
        return f"{appointment.ends_at.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"

    @admin.display(description=_("local start"), ordering="starts_at")
    def local_start(self, appointment: Appointment) -> str:
        return format_local(appointment.starts_at, appointment)

    @admin.display(description=_("local end"))
    def local_end(self, appointment: Appointment) -> str:
        return format_local(appointment.ends_at, appointment)

    @admin.display(description=_("patient"), ordering="patient__full_name")
    def patient_name_and_email(self, appointment: Appointment) -> SafeString:
        patient = appointment.patient
        if appointment.dependant is not None:
            return format_html(
                "{}<br><small>{}</small>",
                appointment.for_whom,
                patient.user.email,
            )
        return format_html("{}<br><small>{}</small>", patient.full_name, patient.user.email)

    @admin.action(
        description=_("Cancel this appointment (by clinic)"),
        description_plural=_("Cancel selected appointments (by clinic)"),
        permissions=["change"],
        location=[ActionLocation.CHANGE_LIST, ActionLocation.CHANGE_FORM],
    )
    def cancel_by_clinic(self, request: HttpRequest, queryset: QuerySet[Appointment]) -> None:
        actor = request.user if isinstance(request.user, User) else None
        cancelled = already_cancelled = 0
        refused: list[str] = []
        for appointment in queryset:
            if appointment.status in CANCELLED_STATUSES:
                already_cancelled += 1
                continue
            try:
                cancel_appointment(
                    appointment=appointment,
                    cancelled_by=actor,
                    reason=ADMIN_CANCELLATION_REASON,
                    by_clinic=True,
                )
            except DomainError as error:
                refused.append(f"{appointment}: {error.message}")
            else:
                cancelled += 1

        self.message_user(
            request,
            ngettext(
                "Cancelled %(count)d appointment.", "Cancelled %(count)d appointments.", cancelled
            )
            % {"count": cancelled},
            messages.SUCCESS,
        )
        if already_cancelled:
            self.message_user(
                request,
                ngettext(
                    "%(count)d appointment already cancelled.",
                    "%(count)d appointments already cancelled.",
                    already_cancelled,
                )
                % {"count": already_cancelled},
                messages.INFO,
            )
        if refused:
            self.message_user(
                request,
                ngettext(
                    "%(count)d appointment could not be cancelled: %(reasons)s",
                    "%(count)d appointments could not be cancelled: %(reasons)s",
                    len(refused),
                )
                % {"count": len(refused), "reasons": "; ".join(refused)},
                messages.WARNING,
            )


# A patient's erasure needs their appointments, which accounts.admin cannot name (layers):
# the patient admin is registered again here with the action.
admin.site.unregister(Patient)


@admin.register(Patient)
class PatientWithErasureAdmin(PatientAdmin):
    actions = ["erase_personal_data"]

    @admin.action(description=_("Erase the personal data of the selected patients (keeps records)"))
    def erase_personal_data(self, request: HttpRequest, queryset: QuerySet[Patient]) -> None:
        erased = 0
        for patient in queryset.select_related("user"):
            try:
                erase_patient(patient=patient, erased_by=_acting(request))
            except ErasureRefused as error:
                self.message_user(
                    request,
                    _("Patient %(number)s: %(problem)s")
                    % {"number": patient.pk, "problem": error.message},
                    messages.ERROR,
                )
            else:
                erased += 1
        if erased:
            self.message_user(
                request,
                ngettext(
                    "Erased the personal data of %(count)d patient; their appointment records "
                    "stay.",
                    "Erased the personal data of %(count)d patients; their appointment records "
                    "stay.",
                    erased,
                )
                % {"count": erased},
                messages.SUCCESS,
            )


def _acting(request: HttpRequest) -> User | None:
    return request.user if isinstance(request.user, User) else None
