"""Clinics, doctors and free times over JSON; and, for staff, doctors' hours and time off.

Times of day (weekly hours, time off) are wall-clock times in the clinic's zone, as on
the staff pages; instants (free slots) are ISO 8601 with the clinic's UTC offset.
"""

import datetime as dt
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from accounts.selectors import staff_clinics
from appointments.staff_selectors import staff_doctor
from clinic.api.fields import local_iso, problems
from clinic.api.idempotency import IDEMPOTENCY_KEY_OPTIONAL, run_idempotently
from clinic.api.permissions import IsStaff
from scheduling import selectors, services
from scheduling.models import AppointmentType, Clinic, Doctor, TimeOff, Weekday

MAX_RANGE_DAYS = 31


# --- Serializers ------------------------------------------------------------------------


def _minutes(duration: dt.timedelta) -> int:
    return int(duration.total_seconds() // 60)


# Far wider than any clinic needs, and narrow enough that a local date's midnight, in
# any zone, and the day after it stay inside Python's dates: 0001-01-01 and 9999-12-31
# overflow when turned into UTC instants, and bad input must not be a 500.
EARLIEST_DATE = dt.date(1900, 1, 1)
LATEST_DATE = dt.date(2999, 12, 31)


class LocalDateField(serializers.DateField):
    """A date in the clinic's zone, YYYY-MM-DD, from 1900 to 2999."""

    default_error_messages = {
        **serializers.DateField.default_error_messages,
        "out_of_range": f"Give a date from {EARLIEST_DATE} to {LATEST_DATE}.",
    }

    def to_internal_value(self, value: Any) -> dt.date:
        date = super().to_internal_value(value)
        if not EARLIEST_DATE <= date <= LATEST_DATE:
            self.fail("out_of_range")
        return date


class WallClockTimeField(serializers.TimeField):
    """A time of day in the clinic's zone, HH:MM. Seconds are refused rather than kept:
    the time is shown as HH:MM, and a hidden 09:00:30 would make the shown hours lie."""

    default_error_messages = {
        **serializers.TimeField.default_error_messages,
        "not_whole_minute": "Give the time in whole minutes, HH:MM.",
        "offset": "Give the clinic's wall-clock time, HH:MM, without a UTC offset.",
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%H:%M", **kwargs)

    def to_internal_value(self, value: Any) -> dt.time:
        if isinstance(value, str) and _has_offset(value):
            # Django's parser would drop the offset silently: 09:00+05:00 is not 09:00.
            self.fail("offset")
        time = super().to_internal_value(value)
        if time.second or time.microsecond:
            self.fail("not_whole_minute")
        return time


def _has_offset(value: str) -> bool:
    try:
        return dt.time.fromisoformat(value.strip()).tzinfo is not None
    except ValueError:
        return False  # not a time at all: TimeField says so


class ClinicSerializer(serializers.ModelSerializer[Clinic]):
    timezone = serializers.CharField(help_text="IANA zone of the clinic's hours and times.")
    min_notice_minutes = serializers.SerializerMethodField()
    booking_horizon_days = serializers.SerializerMethodField()
    cancellation_cutoff_minutes = serializers.SerializerMethodField()

    class Meta:
        model = Clinic
        fields = [
            "id",
            "name",
            "slug",
            "timezone",
            "address",
            "phone",
            "email",
            "min_notice_minutes",
            "booking_horizon_days",
            "cancellation_cutoff_minutes",
            "max_upcoming_per_patient",
        ]

    def get_min_notice_minutes(self, clinic: Clinic) -> int:
        return _minutes(clinic.min_notice)

    def get_booking_horizon_days(self, clinic: Clinic) -> int:
        return clinic.booking_horizon.days

    def get_cancellation_cutoff_minutes(self, clinic: Clinic) -> int:
        return _minutes(clinic.cancellation_cutoff)


class AppointmentTypeSerializer(serializers.ModelSerializer[AppointmentType]):
    duration_minutes = serializers.SerializerMethodField()

    class Meta:
        model = AppointmentType
        fields = ["id", "name", "duration_minutes"]

    def get_duration_minutes(self, appointment_type: AppointmentType) -> int:
        return _minutes(appointment_type.duration)


class DoctorSerializer(serializers.ModelSerializer[Doctor]):
    clinic = serializers.PrimaryKeyRelatedField[Clinic](read_only=True)
    appointment_types = AppointmentTypeSerializer(
        source="active_types",
        many=True,
        read_only=True,
        help_text="The active types, shortest first; the first is the default.",
    )

    class Meta:
        model = Doctor
        fields = ["id", "name", "specialty", "bio", "clinic", "appointment_types"]


class SlotSerializer(serializers.Serializer[Any]):
    start = serializers.CharField(help_text="ISO 8601 with the clinic's UTC offset.")
    end = serializers.CharField(help_text="ISO 8601 with the clinic's UTC offset.")


class DateRangeSerializer(serializers.Serializer[Any]):
    """``?from=YYYY-MM-DD&to=YYYY-MM-DD``, the clinic's local dates, both included.
    Needs the clinic in its context: the defaults are dates in the clinic's zone."""

    # "from" is a Python keyword, so the field is put into the class namespace by name.
    locals()["from"] = LocalDateField(
        required=False, help_text="First local date; default today in the clinic's zone."
    )
    to = LocalDateField(
        required=False,
        help_text=f"Last local date, included; default six days after `from`. "
        f"At most {MAX_RANGE_DAYS} days in all.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # The limits apply to the dates used, defaults included (only `to` may be sent).
        clinic: Clinic = self.context["clinic"]
        first = attrs.get("from") or timezone.now().astimezone(clinic.zone).date()
        last = attrs.get("to") or first + dt.timedelta(days=6)
        if last < first:
            since = "`from`" if attrs.get("from") else "`from` (today, when not given)"
            raise serializers.ValidationError({"to": f"`to` cannot be before {since}."})
        if (last - first).days >= MAX_RANGE_DAYS:
            raise serializers.ValidationError(
                {"to": f"Ask for at most {MAX_RANGE_DAYS} days at a time."}
            )
        return attrs | {"from": first, "to": last}

    @property
    def dates(self) -> tuple[dt.date, dt.date]:
        """The first and last local dates asked for, defaults filled in."""
        return self.validated_data["from"], self.validated_data["to"]


class AvailabilityQuerySerializer(DateRangeSerializer):
    type = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=2**53,
        help_text="Appointment type id; default the doctor's first (shortest) type.",
    )


class DoctorQuerySerializer(serializers.Serializer[Any]):
    clinic = serializers.IntegerField(required=False, min_value=1, max_value=2**53)
    specialty = serializers.CharField(required=False, max_length=100)
    search = serializers.CharField(
        required=False, allow_blank=True, max_length=100, help_text="Part of the name."
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


class TimeOffSerializer(serializers.ModelSerializer[TimeOff]):
    start_date = LocalDateField()
    end_date = LocalDateField(help_text="Included.")
    start_time = WallClockTimeField(
        required=False, allow_null=True, help_text="Empty: from midnight."
    )
    end_time = WallClockTimeField(
        required=False, allow_null=True, help_text="Empty: until the day ends."
    )

    class Meta:
        model = TimeOff
        fields = ["id", "doctor", "start_date", "end_date", "start_time", "end_time", "reason"]
        read_only_fields = ["id", "doctor"]


class TimeOffQuerySerializer(serializers.Serializer[Any]):
    locals()["from"] = LocalDateField(
        required=False, help_text="Only time off ending on or after this date; default today."
    )


def slot_data(start: dt.datetime, end: dt.datetime, clinic: Clinic) -> dict[str, str]:
    zone = clinic.zone
    return {"start": local_iso(start, zone), "end": local_iso(end, zone)}


# --- Anyone: clinics, doctors, free times ------------------------------------------------


class ClinicList(generics.ListAPIView[Clinic]):
    permission_classes = (AllowAny,)
    serializer_class = ClinicSerializer
    queryset = Clinic.objects.order_by("name", "pk")

    @extend_schema(operation_id="clinics_list", tags=["clinics"])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class DoctorList(generics.ListAPIView[Doctor]):
    permission_classes = (AllowAny,)
    serializer_class = DoctorSerializer

    def get_queryset(self) -> QuerySet[Doctor]:
        query = DoctorQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        doctors = selectors.find_doctors(
            name=query.validated_data.get("search", "").strip(),
            specialty=query.validated_data.get("specialty", "").strip(),
        )
        if clinic := query.validated_data.get("clinic"):
            doctors = doctors.filter(clinic_id=clinic)
        return doctors

    @extend_schema(
        operation_id="doctors_list", parameters=[DoctorQuerySerializer], tags=["doctors"]
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class DoctorDetail(generics.RetrieveAPIView[Doctor]):
    permission_classes = (AllowAny,)
    serializer_class = DoctorSerializer
    queryset = selectors.bookable_doctors()

    @extend_schema(operation_id="doctors_retrieve", tags=["doctors"])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


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
    def get(self, request: Request, pk: int) -> Response:
        doctor = get_object_or_404(selectors.bookable_doctors(), pk=pk)
        query = AvailabilityQuerySerializer(
            data=request.query_params, context={"clinic": doctor.clinic}
        )
        query.is_valid(raise_exception=True)
        types = selectors.active_types(doctor)
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
        slots = selectors.doctor_free_slots(
            doctor=doctor, appointment_type=chosen, first_day=first, last_day=last
        )
        return Response([slot_data(slot.start, slot.end, doctor.clinic) for slot in slots])


# --- Staff: a doctor's hours and time off ------------------------------------------------


def staff_doctor_or_404(request: Request, pk: int) -> Doctor:
    """The doctor ``pk`` of one of the caller's clinics; any other is a 404."""
    assert isinstance(request.user, User)
    try:
        return staff_doctor(request.user, pk)
    except Doctor.DoesNotExist as missing:
        raise Http404("No such doctor in your clinics.") from missing


def _weekly_hours(doctor: Doctor) -> dict[str, Any]:
    clinic = doctor.clinic
    conflicts = selectors.availability_conflicts(doctor, timezone.now())
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
        doctor = staff_doctor_or_404(request, pk)
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
        doctor = staff_doctor_or_404(request, pk)
        form = WeeklyHoursSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        assert isinstance(request.user, User)
        services.replace_weekly_hours(
            doctor=doctor,
            intervals=[
                (int(item["weekday"]), item["start"], item["end"])
                for item in form.validated_data["intervals"]
            ],
            changed_by=request.user,
        )
        return Response(WeeklyHoursSerializer(_weekly_hours(doctor)).data)


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
        doctor = staff_doctor_or_404(request, pk)
        query = TimeOffQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        since = (
            query.validated_data.get("from") or timezone.now().astimezone(doctor.clinic.zone).date()
        )
        periods = doctor.time_off.filter(end_date__gte=since).order_by("start_date", "pk")
        return Response(TimeOffSerializer(periods, many=True).data)

    @extend_schema(
        operation_id="doctors_time_off_create",
        request=TimeOffSerializer,
        responses={201: TimeOffSerializer, **problems(409, 422)},
        parameters=[IDEMPOTENCY_KEY_OPTIONAL],
        tags=["staff"],
        summary="Add time off",
        description="Free times inside it disappear; booked appointments stay (see the "
        "weekly-availability conflicts).",
    )
    def post(self, request: Request, pk: int) -> Response:
        doctor = staff_doctor_or_404(request, pk)
        assert isinstance(request.user, User)
        user = request.user

        def add() -> Response:
            form = TimeOffSerializer(data=request.data)
            form.is_valid(raise_exception=True)
            data = form.validated_data
            time_off = services.add_time_off(
                doctor=doctor,
                start_date=data["start_date"],
                end_date=data["end_date"],
                start_time=data.get("start_time"),
                end_time=data.get("end_time"),
                reason=data.get("reason", ""),
                changed_by=user,
            )
            return Response(TimeOffSerializer(time_off).data, status=status.HTTP_201_CREATED)

        return run_idempotently(request, add, required=False)


class TimeOffDetail(APIView):
    permission_classes = (IsStaff,)

    @extend_schema(
        operation_id="time_off_destroy",
        responses={204: OpenApiResponse(description="Removed.")},
        tags=["staff"],
        summary="Remove time off",
    )
    def delete(self, request: Request, pk: int) -> Response:
        assert isinstance(request.user, User)
        time_off = get_object_or_404(
            TimeOff.objects.select_related("doctor"),
            pk=pk,
            doctor__clinic__in=staff_clinics(request.user).values("pk"),
        )
        services.remove_time_off(time_off=time_off, changed_by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
