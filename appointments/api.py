"""Appointments over JSON: free times; book, list, see, cancel, reschedule, and their
audit trail; for staff, their clinics' appointments, a doctor's calendar and weekly hours
(which answer with the bookings a change leaves outside them).

Every write calls the same service as the pages (``appointments.services``), inside
``run_idempotently`` so that a client can retry it with its ``Idempotency-Key``. The
services' refusals become problems in ``clinic.api.problems`` (409 ``slot_unavailable``,
422 ``too_soon``, ...). A patient sees only their own appointments, staff only those of
their clinics: anything else is a 404, as if it did not exist.
"""

import datetime as dt
import json
from typing import Any
from zoneinfo import ZoneInfo

from django.http import Http404
from django.http.response import HttpResponseBase
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from accounts.models import Dependant, Patient, User
from accounts.selectors import own_dependant, patient_of
from appointments import free_times, search, selectors, services, staff_selectors
from appointments.forms import REASON_MAX_LENGTH
from appointments.models import Appointment, AppointmentQuerySet, Status
from clinic.answers import answer_key, earliest, keep_answer, kept_answer, next_date_change
from clinic.api.fields import (
    AwareDateTimeField,
    LocalDateField,
    WallClockTimeField,
    local_iso,
    problems,
)
from clinic.api.idempotency import (
    IDEMPOTENCY_KEY_OPTIONAL,
    IDEMPOTENCY_KEY_REQUIRED,
    run_idempotently,
)
from clinic.api.models import IdempotencyKey
from clinic.api.pagination import Pagination
from clinic.api.permissions import IsStaff
from scheduling import services as scheduling_services
from scheduling.api import (
    MAX_RANGE_DAYS,
    DateRangeSerializer,
    TimeOffQuerySerializer,
    TimeOffSerializer,
    language_field,
)
from scheduling.models import AppointmentType, Clinic, Doctor, Weekday
from scheduling.selectors import (
    LISTED_DOCTOR_KEY_COLUMNS,
    DoctorFilters,
    active_types,
    bookable_doctor_facts,
    listed_doctor_rows,
    local_day_bounds,
    local_today,
    staff_doctor_or_404,
    staff_doctors,
)

# --- Serializers ------------------------------------------------------------------------


class NamedSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ClinicRefSerializer(NamedSerializer):
    timezone = serializers.CharField()


class TypeRefSerializer(NamedSerializer):
    duration_minutes = serializers.IntegerField()


class PatientRefSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    full_name = serializers.CharField()
    email = serializers.EmailField()
    phone = serializers.CharField()


class DependantRefSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    full_name = serializers.CharField()
    relationship = serializers.ChoiceField(choices=Dependant.Relationship.choices)


class AppointmentSerializer(serializers.Serializer[Appointment]):
    """An appointment as patients and staff see it; times in the clinic's zone."""

    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=Status.choices)
    start = serializers.CharField(help_text="ISO 8601 with the clinic's UTC offset.")
    end = serializers.CharField(help_text="ISO 8601 with the clinic's UTC offset.")
    doctor = NamedSerializer()
    clinic = ClinicRefSerializer()
    appointment_type = TypeRefSerializer()
    patient = PatientRefSerializer()
    reason = serializers.CharField()
    cancellation_reason = serializers.CharField()
    cancelled_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    change_deadline = serializers.CharField(
        help_text="Until when the patient may cancel or reschedule it themselves."
    )
    can_change_online = serializers.BooleanField()

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        fields = super().get_fields()
        # "for" is a Python keyword, so it cannot be declared as a class attribute.
        fields["for"] = DependantRefSerializer(
            allow_null=True,
            help_text="Whom the visit is for when it is one of the people the patient "
            "books for (`/me/dependants`); null: the patient themself.",
        )
        return fields

    def to_representation(self, instance: Appointment) -> dict[str, Any]:
        patient = instance.patient
        return appointment_data(
            selectors.ShownAppointment.of(instance),
            patient_data(
                selectors.ShownPatient(
                    patient.pk, patient.full_name, patient.phone, patient.user.email
                )
            ),
            timezone.now(),
        )


def appointment_data(
    appointment: selectors.ShownAppointment, patient: dict[str, Any], now: dt.datetime
) -> dict[str, Any]:
    """An appointment as ``AppointmentSerializer`` writes it, from plain values (the
    reasons decrypted; ``patient``: ``patient_data``): the one place its shape is made,
    for a model instance and for the rows of the patient's own list alike."""
    zone = ZoneInfo(appointment.clinic_timezone)
    deadline = appointment.change_deadline
    return {
        "id": appointment.id,
        "status": appointment.status,
        "start": local_iso(appointment.starts_at, zone),
        "end": local_iso(appointment.ends_at, zone),
        "doctor": {"id": appointment.doctor_id, "name": appointment.doctor_name},
        "clinic": {
            "id": appointment.clinic_id,
            "name": appointment.clinic_name,
            "timezone": appointment.clinic_timezone,
        },
        "appointment_type": {
            "id": appointment.type_id,
            "name": appointment.type_name,
            "duration_minutes": int(appointment.duration.total_seconds() // 60),
        },
        "patient": patient,
        "for": (
            None
            if appointment.dependant_id is None
            else {
                "id": appointment.dependant_id,
                "full_name": appointment.dependant_name,
                "relationship": appointment.relationship,
            }
        ),
        "reason": appointment.reason,
        "cancellation_reason": appointment.cancellation_reason,
        "cancelled_at": appointment.cancelled_at.isoformat() if appointment.cancelled_at else None,
        "created_at": appointment.created_at.isoformat(),
        "change_deadline": local_iso(deadline, zone),
        "can_change_online": selectors.changeable_online(appointment.status, deadline, now),
    }


def patient_data(patient: selectors.ShownPatient) -> dict[str, Any]:
    """An appointment's ``patient`` as the API shows it (the phone decrypted)."""
    return {
        "id": patient.id,
        "full_name": patient.full_name,
        "email": patient.email,
        "phone": patient.phone,
    }


class BookingSerializer(serializers.Serializer[Any]):
    doctor = serializers.IntegerField(min_value=1, max_value=2**53)
    appointment_type = serializers.IntegerField(min_value=1, max_value=2**53)
    start = AwareDateTimeField(help_text="A free time from the availability endpoint.")
    reason = serializers.CharField(
        required=False, allow_blank=True, max_length=REASON_MAX_LENGTH, default=""
    )
    patient = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=2**53,
        help_text="Staff only (booking for a patient, e.g. by phone); patients leave it out.",
    )

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        fields = super().get_fields()
        # "for" is a Python keyword, so it cannot be declared as a class attribute.
        fields["for"] = serializers.IntegerField(
            required=False,
            allow_null=True,
            min_value=1,
            max_value=2**53,
            help_text="The id of one of the people the patient books for "
            "(`/me/dependants`); left out or null: the patient themself.",
        )
        return fields


class CancelSerializer(serializers.Serializer[Any]):
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=REASON_MAX_LENGTH,
        default="",
        help_text="Staff must give one: the patient is told it.",
    )


class RescheduleSerializer(serializers.Serializer[Any]):
    start = AwareDateTimeField(help_text="The new start: a free time of the same type.")


class AppointmentQuerySerializer(serializers.Serializer[Any]):
    doctor = serializers.IntegerField(required=False, min_value=1, max_value=2**53)
    date = LocalDateField(required=False, help_text="A local date in the clinic's zone.")
    status = serializers.ChoiceField(required=False, choices=Status.choices)


class HistoryEntrySerializer(serializers.Serializer[Any]):
    at = serializers.DateTimeField(help_text="When (UTC).")
    by = serializers.ChoiceField(
        choices=["patient", "staff", "system"], help_text="Who made the change."
    )
    by_email = serializers.EmailField(
        allow_null=True,
        help_text="The email of whoever made the change (patient or staff member); "
        "shown to staff only, null for patients and for system changes.",
    )
    status = serializers.ChoiceField(choices=Status.choices)
    start = serializers.CharField()
    end = serializers.CharField()
    reason = serializers.CharField(help_text="What changed and why.")


class SlotSerializer(serializers.Serializer[Any]):
    start = serializers.CharField(help_text="ISO 8601 with the clinic's UTC offset.")
    end = serializers.CharField(help_text="ISO 8601 with the clinic's UTC offset.")


class AvailabilityQuerySerializer(DateRangeSerializer):
    type = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=2**53,
        help_text="Appointment type id; default the doctor's first (shortest) type.",
    )


class WeeklyIntervalSerializer(serializers.Serializer[Any]):
    weekday = serializers.ChoiceField(choices=Weekday.choices, help_text="0 Monday ... 6 Sunday.")
    start = WallClockTimeField(help_text="Local time, HH:MM.")
    end = WallClockTimeField(help_text="Local time, HH:MM.")


class ConflictSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    start = serializers.CharField()
    end = serializers.CharField()


class WeeklyHoursSerializer(serializers.Serializer[Any]):
    doctor = serializers.IntegerField(read_only=True)
    timezone = serializers.CharField(read_only=True)
    intervals = WeeklyIntervalSerializer(many=True, max_length=100)  # type: ignore[call-arg]
    conflicts = ConflictSerializer(
        many=True,
        read_only=True,
        help_text="Booked appointments now outside the hours; never cancelled by a change.",
    )


def slot_data(start: dt.datetime, end: dt.datetime, clinic: Clinic) -> dict[str, str]:
    zone = clinic.zone
    return {"start": local_iso(start, zone), "end": local_iso(end, zone)}


# --- Free times -------------------------------------------------------------------------


class DoctorAvailability(APIView):
    permission_classes = (AllowAny,)

    @extend_schema(
        operation_id="doctors_availability",
        parameters=[AvailabilityQuerySerializer],
        responses={200: SlotSerializer(many=True)},
        tags=["doctors"],
        summary="Free times",
        description=(
            "The bookable start times of one appointment type, over at most "
            f"{MAX_RANGE_DAYS} local dates. A time is free when it is asked for; booking "
            "it may still find it taken (409)."
        ),
    )
    def get(self, request: Request, pk: int) -> HttpResponseBase:
        # The doctor, clinic and types in one query; with them, the answer's key.
        facts = bookable_doctor_facts(pk)
        if facts is None:
            raise Http404(f"No {Doctor._meta.object_name} matches the given query.")
        doctor = facts.doctor
        query = AvailabilityQuerySerializer(
            data=request.query_params, context={"clinic": doctor.clinic}
        )
        query.is_valid(raise_exception=True)
        types = active_types(doctor)
        type_id = query.validated_data.get("type")
        if type_id is None:
            chosen = types[0] if types else None
        else:
            chosen = next((t for t in types if t.pk == type_id), None)
        if chosen is None:
            raise serializers.ValidationError(
                {"type": "This doctor has no active appointment type with this id."}
            )
        first, last = query.dates
        # Kept whole (clinic/answers.py): the digest names the version (bookings, hours,
        # time off, types), the clinic's zone, notice and horizon and the types' state;
        # the dates are those used (defaults filled in); the renderer's media type says
        # how it is written. No text of it is translated (the API is in English anyway).
        key = answer_key(
            "free-times", facts.digest, chosen.pk, first, last, request.accepted_media_type
        )
        kept = kept_answer(key, request)
        if kept is not None:
            return kept
        slots, changes_at = free_times.shown_free_slots_until(
            doctor=doctor, appointment_type=chosen, first_day=first, last_day=last
        )
        response = Response([slot_data(slot.start, slot.end, doctor.clinic) for slot in slots])
        zone = doctor.clinic.zone
        dates_change_at = next_date_change(zone, timezone.now())
        self.keep_as = (key, earliest(changes_at, dates_change_at))
        return response

    keep_as: tuple[str, dt.datetime | None] | None = None

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        # (A kept answer is a plain HttpResponse: DRF's finalize_response takes any.)
        # Rendered here, with DRF's own renderer and headers, so that the kept bytes are
        # the fresh answer's.
        response = super().finalize_response(request, response, *args, **kwargs)
        if self.keep_as is not None and isinstance(response, Response):
            key, until = self.keep_as
            response.render()
            keep_answer(key, response, until=until, request=request)
        return response


# --- Search across doctors ---------------------------------------------------------------


class SlotSearchQuerySerializer(serializers.Serializer[Any]):
    """``?specialty=&clinic=&language=&type_name=&from=&to=``: the dates are each
    clinic's local dates, both included."""

    specialty = serializers.CharField(required=False, allow_blank=True, max_length=100)
    clinic = serializers.IntegerField(
        required=False, min_value=1, max_value=2**53, help_text="Clinic id."
    )
    language = language_field()
    type_name = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=100,
        help_text="Appointment type name (any case), e.g. `Consultation`; default each "
        "doctor's first type.",
    )
    locals()["from"] = LocalDateField(
        required=False, help_text="First local date; default today in each clinic's zone."
    )
    to = LocalDateField(
        required=False,
        help_text=f"Last local date, included; default {search.DEFAULT_SEARCH_DAYS - 1} days "
        f"after `from`. At most {search.MAX_SEARCH_DAYS} days in all.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        first = attrs.get("from")
        last = attrs.get("to")
        # Without `from`, "today" differs by clinic; UTC's date is within a day of each.
        since = first or timezone.now().date()
        if last is not None and last < since:
            where = "`from`" if first else "`from` (today, when not given)"
            raise serializers.ValidationError({"to": f"`to` cannot be before {where}."})
        if last is not None and (last - since).days >= search.MAX_SEARCH_DAYS:
            raise serializers.ValidationError(
                {"to": f"Ask for at most {search.MAX_SEARCH_DAYS} days at a time."}
            )
        return attrs


class SearchDoctorSerializer(NamedSerializer):
    specialty = serializers.CharField()
    clinic = serializers.IntegerField(help_text="Clinic id.")


class FoundTimeSerializer(serializers.Serializer[search.FoundTime]):
    doctor = SearchDoctorSerializer()
    appointment_type = TypeRefSerializer()
    start = serializers.CharField(help_text="ISO 8601 with the clinic's UTC offset.")
    end = serializers.CharField(help_text="ISO 8601 with the clinic's UTC offset.")

    def to_representation(self, instance: search.FoundTime) -> dict[str, Any]:
        doctor, kind = instance.doctor, instance.appointment_type
        return {
            "doctor": {
                "id": doctor.pk,
                "name": doctor.name,
                "specialty": doctor.specialty,
                "clinic": doctor.clinic_id,
            },
            "appointment_type": {
                "id": kind.pk,
                "name": kind.name,
                "duration_minutes": int(kind.duration.total_seconds() // 60),
            },
            **slot_data(instance.start, instance.end, doctor.clinic),
        }


class SlotSearch(generics.ListAPIView[Any]):  # not models: found times, paged as a list
    permission_classes = (AllowAny,)
    serializer_class = FoundTimeSerializer

    # The answer is the same for every caller: kept whole (clinic/answers.py) under a key
    # of the request's address and the doctors searched (their rows with their
    # availability versions, one query) until the clock changes it
    # (``search.search_changes_at``); only a miss searches.
    kept: tuple[str, dt.datetime | None] | None = None

    # A kept answer is a plain HttpResponse, which DRF passes on as it is.
    def list(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase:  # type: ignore[override]
        query = SlotSearchQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        filters = {
            "specialty": data.get("specialty", "").strip(),
            "clinic_id": data.get("clinic"),
            "language": data.get("language", ""),
        }
        rows = listed_doctor_rows(DoctorFilters(**filters), LISTED_DOCTOR_KEY_COLUMNS)
        # The address (the page links are absolute), the media type written, the rows.
        key = answer_key(
            "slots",
            request.is_secure(),
            request.get_host(),
            request.get_full_path(),
            request.accepted_media_type,
            rows,
        )
        if (kept := kept_answer(key)) is not None:
            return kept
        now = timezone.now()
        found = search.search_free_times(
            **filters,
            type_name=data.get("type_name", "").strip(),
            first_day=data.get("from"),
            last_day=data.get("to"),
            now=now,
        )
        page = self.paginate_queryset(found)
        response = self.get_paginated_response(self.get_serializer(page, many=True).data)
        until = search.search_changes_at(
            clinics=search.searched_clinics(rows),
            found=found,
            first_day=data.get("from"),
            last_day=data.get("to"),
            now=now,
        )
        self.kept = (key, until)
        return response

    def finalize_response(  # type: ignore[override]
        self, request: Request, response: HttpResponseBase, *args: Any, **kwargs: Any
    ) -> HttpResponseBase:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[arg-type]
        if self.kept is not None and isinstance(response, Response):
            key, until = self.kept
            response.render()
            return keep_answer(key, response, until=until)
        return response

    @extend_schema(
        operation_id="slots_search",
        parameters=[SlotSearchQuerySerializer],
        tags=["doctors"],
        summary="Soonest free times across doctors",
        description=(
            "The free times of every bookable doctor who fits, soonest first, over at "
            f"most {search.MAX_SEARCH_DAYS} local dates, within each clinic's booking "
            f"window; the first {search.MAX_RESULTS} at most. Book one with "
            "`POST /api/v1/appointments`."
        ),
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


# --- Reads ------------------------------------------------------------------------------


def visible_appointments(request: Request) -> AppointmentQuerySet:
    """The caller's own appointments (a patient) or their clinics' (staff)."""
    assert isinstance(request.user, User)
    return selectors.visible_appointments(request.user)


def visible_appointment(request: Request, pk: int) -> Appointment:
    assert isinstance(request.user, User)
    return selectors.visible_appointment_or_404(request.user, pk)


class AppointmentList(generics.ListAPIView[Appointment]):
    permission_classes = (IsAuthenticated,)
    serializer_class = AppointmentSerializer

    def get_queryset(self) -> AppointmentQuerySet:
        query = AppointmentQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        appointments = visible_appointments(self.request)
        if doctor := query.validated_data.get("doctor"):
            appointments = appointments.filter(doctor_id=doctor)
        if wanted := query.validated_data.get("status"):
            appointments = appointments.filter(status=wanted)
        if day := query.validated_data.get("date"):
            appointments = selectors.starting_on_local_date(appointments, day)
        return appointments.order_by("starts_at", "pk")

    @extend_schema(
        operation_id="appointments_list",
        parameters=[AppointmentQuerySerializer],
        tags=["appointments"],
        summary="Your appointments (staff: your clinics')",
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase:  # type: ignore[override]
        user = request.user
        assert isinstance(user, User)  # IsAuthenticated
        if not user.is_staff and not request.query_params:
            own = self._own_first_page(request, user)
            if own is not None:
                return own
        return super().get(request, *args, **kwargs)

    def _own_first_page(self, request: Request, user: User) -> HttpResponseBase | None:
        """A patient's list without parameters (the first page, as the generic path's
        pagination writes it) from one query (``selectors.own_appointment_rows``), kept
        whole in this process's memory (CACHES["process"]: it names the patient and
        the people they book for, and shows the reasons) under every value it shows, the
        phone and the reasons as stored (encrypted): read on every request, so a
        booking, a cancel, a move, a rename shows on the next one. ``can_change_online``
        is the one value the clock changes: it is in the key too. None without a
        patient profile: the generic path makes it."""
        pagination = self.paginator
        assert isinstance(pagination, Pagination)  # settings.REST_FRAMEWORK's
        size = pagination.page_size
        own = selectors.own_appointment_rows(user, limit=size)
        if own is None:
            return None
        now = timezone.now()
        changeable = tuple(
            selectors.changeable_online(row.status, row.change_deadline, now) for row in own.rows
        )
        url = request.build_absolute_uri()
        # The address (the links are absolute) and the media type written.
        key = answer_key("my-appointments-api", url, request.accepted_media_type, own, changeable)
        if (kept := kept_answer(key, request, using="process")) is not None:
            return kept
        patient = patient_data(
            own.patient._replace(phone=selectors.decrypted(own.patient.phone, Patient, "phone"))
        )
        self.keep_as = key
        return Response(
            {
                "count": own.count,
                "next": (
                    replace_query_param(url, pagination.page_query_param, 2)
                    if own.count > size
                    else None
                ),
                "previous": None,
                "results": [appointment_data(row.decrypted(), patient, now) for row in own.rows],
            }
        )

    keep_as: str | None = None

    def finalize_response(  # type: ignore[override]
        self, request: Request, response: HttpResponseBase, *args: Any, **kwargs: Any
    ) -> HttpResponseBase:
        # Rendered here, with DRF's own renderer and headers, so that the kept bytes are
        # the fresh answer's (as AvailabilityView's).
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[arg-type]
        if self.keep_as is not None and isinstance(response, Response):
            response.render()
            return keep_answer(self.keep_as, response, until=None, using="process")
        return response

    @extend_schema(
        operation_id="appointments_create",
        request=BookingSerializer,
        responses={201: AppointmentSerializer, **problems(409, 422)},
        parameters=[IDEMPOTENCY_KEY_REQUIRED],
        tags=["appointments"],
        summary="Book",
        description=(
            "Needs an Idempotency-Key. 409 `slot_unavailable` when the time was taken; "
            "422 for rules (`too_soon`, `too_far_ahead`, `too_many_upcoming`, "
            "`profile_incomplete`, ...)."
        ),
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        def may_replay(stored: IdempotencyKey) -> bool:
            # A stored booking holds its appointment; a stored refusal holds none.
            if stored.response_status != status.HTTP_201_CREATED:
                return True
            booked_id = json.loads(stored.response_body)["id"]
            return visible_appointments(request).filter(pk=booked_id).exists()

        return run_idempotently(
            request, lambda: self._book(request), required=True, may_replay=may_replay
        )

    def _book(self, request: Request) -> Response:
        user = request.user
        assert isinstance(user, User)
        form = BookingSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        if not user.is_staff:
            # Every active doctor is a patient's to book, so telling them a time is
            # taken tells them nothing the free times do not; staff see only their
            # clinics' doctors, and go the whole way.
            services.refuse_a_taken_start(doctor_id=data["doctor"], starts_at=data["start"])
        patient = _booking_patient(user, data.get("patient"))
        dependant = _booking_dependant(patient, data.get("for"))
        try:
            doctor = (
                staff_doctors(user).get(pk=data["doctor"])
                if user.is_staff
                else Doctor.objects.select_related("clinic").get(pk=data["doctor"])
            )
        except Doctor.DoesNotExist as missing:
            raise serializers.ValidationError({"doctor": "No such doctor."}) from missing
        kind = AppointmentType.objects.filter(pk=data["appointment_type"], doctor=doctor).first()
        if kind is None:
            raise serializers.ValidationError(
                {"appointment_type": "This doctor has no appointment type with this id."}
            )
        appointment = services.book_appointment(
            patient=patient,
            doctor=doctor,
            appointment_type=kind,
            starts_at=data["start"],
            reason=data["reason"],
            booked_by=user,
            dependant=dependant,
        )
        # Answered with the appointment as booked: it holds the rows it was made of
        # (the caller's patient, the doctor and clinic, the type), as a read would.
        return Response(
            AppointmentSerializer(appointment).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": f"/api/v1/appointments/{appointment.pk}"},
        )


def _booking_patient(user: User, patient_id: int | None) -> Patient:
    """Whom a booking is for: the caller, or for staff the patient they name."""
    if not user.is_staff:
        if patient_id is not None:
            raise serializers.ValidationError({"patient": "Leave this out: you book for yourself."})
        return patient_of(user)
    if patient_id is None:
        raise serializers.ValidationError({"patient": "Staff book for a patient: give their id."})
    found = staff_selectors.patients_for_staff(user).filter(pk=patient_id).first()
    if found is None:
        raise serializers.ValidationError({"patient": "No such patient in your clinics."})
    return found


def _booking_dependant(patient: Patient, dependant_id: int | None) -> Dependant | None:
    """Whom among the patient's people the booking is for (None: the patient)."""
    if dependant_id is None:
        return None
    found = own_dependant(patient, dependant_id)
    if found is None:
        raise serializers.ValidationError(
            {"for": "Not one of the people this patient books for (see /me/dependants)."}
        )
    return found


class AppointmentDetail(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        operation_id="appointments_retrieve",
        responses=AppointmentSerializer,
        tags=["appointments"],
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(AppointmentSerializer(visible_appointment(request, pk)).data)


class CancelView(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        operation_id="appointments_cancel",
        request=CancelSerializer,
        responses={200: AppointmentSerializer, **problems(409, 422)},
        parameters=[IDEMPOTENCY_KEY_OPTIONAL],
        tags=["appointments"],
        summary="Cancel",
        description=(
            "Cancelling a cancelled appointment answers 200 with it as it is. Patients "
            "can cancel until the clinic's cutoff (422 `change_window_closed`)."
        ),
    )
    def post(self, request: Request, pk: int) -> Response:
        user = request.user
        assert isinstance(user, User)
        # Looked up before the key, so that a replay too needs the caller to see it still.
        appointment = visible_appointment(request, pk)

        def cancel() -> Response:
            form = CancelSerializer(data=request.data)
            form.is_valid(raise_exception=True)
            cancelled = services.cancel_appointment(
                appointment=appointment,
                cancelled_by=user,
                reason=form.validated_data["reason"],
                by_clinic=user.is_staff,
            )
            return Response(AppointmentSerializer(cancelled).data)  # as locked and changed

        return run_idempotently(request, cancel, required=False)


class RescheduleView(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        operation_id="appointments_reschedule",
        request=RescheduleSerializer,
        responses={200: AppointmentSerializer, **problems(409, 422)},
        parameters=[IDEMPOTENCY_KEY_OPTIONAL],
        tags=["appointments"],
        summary="Move to another free time of the same doctor and type",
    )
    def post(self, request: Request, pk: int) -> Response:
        user = request.user
        assert isinstance(user, User)
        appointment = visible_appointment(request, pk)  # before the key, as for cancel

        def reschedule() -> Response:
            form = RescheduleSerializer(data=request.data)
            form.is_valid(raise_exception=True)
            moved = services.reschedule_appointment(
                appointment=appointment,
                starts_at=form.validated_data["start"],
                rescheduled_by=user,
                by_clinic=user.is_staff,
            )
            return Response(AppointmentSerializer(moved).data)  # as locked and changed

        return run_idempotently(request, reschedule, required=False)


class HistoryView(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        operation_id="appointments_history",
        responses=HistoryEntrySerializer(many=True),
        tags=["appointments"],
        summary="The audit trail: every change, oldest first",
    )
    def get(self, request: Request, pk: int) -> Response:
        appointment = visible_appointment(request, pk)
        viewer_is_staff = bool(request.user.is_staff)
        zone = appointment.doctor.clinic.zone
        entries = []
        for record in appointment.history.select_related("history_user").order_by(
            "history_date", "history_id"
        ):
            actor = record.history_user
            by = "system" if actor is None else "staff" if actor.is_staff else "patient"
            entries.append(
                {
                    "at": record.history_date,
                    "by": by,
                    "by_email": actor.email if viewer_is_staff and actor is not None else None,
                    "status": record.status,
                    "start": local_iso(record.starts_at, zone),
                    "end": local_iso(record.ends_at, zone),
                    "reason": record.history_change_reason or "",
                }
            )
        return Response(HistoryEntrySerializer(entries, many=True).data)


class DoctorCalendar(APIView):
    permission_classes = (IsStaff,)

    @extend_schema(
        operation_id="doctors_calendar",
        parameters=[DateRangeSerializer],
        responses=AppointmentSerializer(many=True),
        tags=["staff"],
        summary="A doctor's appointments over local dates",
        description=(
            f"Booked, completed and no-show appointments (not cancelled ones) from `from` "
            f"to `to` (the clinic's local dates, at most {MAX_RANGE_DAYS} days)."
        ),
    )
    def get(self, request: Request, pk: int) -> Response:
        user = request.user
        assert isinstance(user, User)
        doctor = staff_doctor_or_404(user, pk)
        query = DateRangeSerializer(data=request.query_params, context={"clinic": doctor.clinic})
        query.is_valid(raise_exception=True)
        first, last = query.dates
        start, end = local_day_bounds(first, last, doctor.clinic.zone)
        appointments = (
            selectors.appointments_for_staff(user)
            .filter(doctor=doctor)
            .active()
            .overlapping(start, end)
            .order_by("starts_at", "pk")
        )
        return Response(AppointmentSerializer(appointments, many=True).data)  # type: ignore[arg-type]


# --- Staff: a doctor's weekly hours ----------------------------------------------------


def _weekly_hours(doctor: Doctor) -> dict[str, Any]:
    clinic = doctor.clinic
    conflicts = free_times.availability_conflicts(doctor, timezone.now())
    return {
        "doctor": doctor.pk,
        "timezone": clinic.timezone,
        "intervals": [
            {"weekday": rule.weekday, "start": rule.start_time, "end": rule.end_time}
            for rule in doctor.weekly_rules.order_by("weekday", "start_time")
        ],
        "conflicts": [
            {"id": appointment.pk, **slot_data(appointment.starts_at, appointment.ends_at, clinic)}
            for appointment in conflicts
        ],
    }


class WeeklyHoursView(APIView):
    permission_classes = (IsStaff,)

    @extend_schema(
        operation_id="doctors_weekly_availability_retrieve",
        responses=WeeklyHoursSerializer,
        tags=["staff"],
        summary="A doctor's weekly hours",
    )
    def get(self, request: Request, pk: int) -> Response:
        doctor = staff_doctor_or_404(request.user, pk)
        return Response(WeeklyHoursSerializer(_weekly_hours(doctor)).data)

    @extend_schema(
        operation_id="doctors_weekly_availability_update",
        request=WeeklyHoursSerializer,
        responses={200: WeeklyHoursSerializer, **problems(409, 422)},
        tags=["staff"],
        summary="Replace a doctor's weekly hours",
        description=(
            "The intervals sent become the doctor's whole week. Booked appointments left "
            "outside the new hours are listed in `conflicts`, never cancelled."
        ),
    )
    def put(self, request: Request, pk: int) -> Response:
        doctor = staff_doctor_or_404(request.user, pk)
        form = WeeklyHoursSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        assert isinstance(request.user, User)
        scheduling_services.replace_weekly_hours(
            doctor=doctor,
            intervals=[
                (int(item["weekday"]), item["start"], item["end"])
                for item in form.validated_data["intervals"]
            ],
            changed_by=request.user,
        )
        return Response(WeeklyHoursSerializer(_weekly_hours(doctor)).data)


# --- Staff: a doctor's time off, which may cancel what it covers --------------------------


class TimeOffCreateSerializer(TimeOffSerializer):
    cancel_booked = serializers.BooleanField(
        default=False,
        write_only=True,
        help_text="Cancel the booked appointments inside it, each patient emailed `reason` "
        "(then required). Without it they stay booked and are listed in `conflicts`.",
    )

    class Meta(TimeOffSerializer.Meta):
        fields = [*TimeOffSerializer.Meta.fields, "cancel_booked"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("cancel_booked") and not attrs.get("reason", "").strip():
            raise serializers.ValidationError(
                {"reason": "Give the reason: the patients of cancelled appointments read it."}
            )
        return attrs


class TimeOffResultSerializer(TimeOffSerializer):
    cancelled = ConflictSerializer(
        many=True, read_only=True, help_text="The appointments cancelled (`cancel_booked`)."
    )
    conflicts = ConflictSerializer(
        many=True,
        read_only=True,
        help_text="Booked appointments inside it, left booked (without `cancel_booked`).",
    )

    class Meta(TimeOffSerializer.Meta):
        fields = [*TimeOffSerializer.Meta.fields, "cancelled", "conflicts"]


def _time_off_result(closed: services.ClosedTime) -> dict[str, Any]:
    clinic = closed.time_off.doctor.clinic

    def listed(appointments: list[Appointment]) -> list[dict[str, Any]]:
        return [
            {"id": each.pk, **slot_data(each.starts_at, each.ends_at, clinic)}
            for each in appointments
        ]

    data: dict[str, Any] = dict(TimeOffSerializer(closed.time_off).data)
    return data | {"cancelled": listed(closed.cancelled), "conflicts": listed(closed.conflicts)}


class TimeOffList(APIView):
    permission_classes = (IsStaff,)

    @extend_schema(
        operation_id="doctors_time_off_list",
        parameters=[TimeOffQuerySerializer],
        responses=TimeOffSerializer(many=True),
        tags=["staff"],
        summary="A doctor's time off that has not ended",
    )
    def get(self, request: Request, pk: int) -> Response:
        doctor = staff_doctor_or_404(request.user, pk)
        query = TimeOffQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        since = query.validated_data.get("from") or local_today(doctor.clinic)
        periods = doctor.time_off.filter(end_date__gte=since).order_by("start_date", "pk")
        return Response(TimeOffSerializer(periods, many=True).data)

    @extend_schema(
        operation_id="doctors_time_off_create",
        request=TimeOffCreateSerializer,
        responses={201: TimeOffResultSerializer, **problems(409, 422)},
        parameters=[IDEMPOTENCY_KEY_OPTIONAL],
        tags=["staff"],
        summary="Add time off",
        description="Free times inside it disappear. Booked appointments inside it stay "
        "booked and are listed in `conflicts`; with `cancel_booked` they are cancelled in "
        "the same transaction, each patient emailed `reason`, and listed in `cancelled`.",
    )
    def post(self, request: Request, pk: int) -> Response:
        doctor = staff_doctor_or_404(request.user, pk)
        assert isinstance(request.user, User)
        user = request.user

        def add() -> Response:
            form = TimeOffCreateSerializer(data=request.data)
            form.is_valid(raise_exception=True)
            data = form.validated_data
            closed = services.close_doctor_time(
                doctor=doctor,
                start_date=data["start_date"],
                end_date=data["end_date"],
                start_time=data.get("start_time"),
                end_time=data.get("end_time"),
                reason=data.get("reason", ""),
                cancel_booked=data["cancel_booked"],
                changed_by=user,
            )
            return Response(_time_off_result(closed), status=status.HTTP_201_CREATED)

        return run_idempotently(request, add, required=False)
