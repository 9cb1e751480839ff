"""Clinics and doctors over JSON; and, for staff, removing doctors' time off.

Times of day (time off) are wall-clock times in the clinic's zone, as on the staff pages.
Free times, weekly hours and adding time off (which answer with the bookings they leave
out, or cancel) are the appointments app's (``appointments.api``).
"""

import copy
import datetime as dt
from collections.abc import Sequence
from typing import Any, cast

from django.db.models import QuerySet
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from clinic.answers import answer_key, keep_answer, kept_answer
from clinic.api.fields import LocalDateField, WallClockTimeField
from clinic.api.permissions import IsStaff
from scheduling import selectors, services
from scheduling.languages import language_names, parse_languages
from scheduling.models import AppointmentType, Clinic, Doctor, TimeOff

MAX_RANGE_DAYS = 31


# --- Serializers ------------------------------------------------------------------------


def _minutes(duration: dt.timedelta) -> int:
    return int(duration.total_seconds() // 60)


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
    languages = serializers.ListField(
        source="language_codes",
        child=serializers.CharField(),
        read_only=True,
        help_text='ISO 639-1 codes of the languages the doctor speaks, e.g. ["de", "en"].',
    )
    appointment_types = AppointmentTypeSerializer(
        source="active_types",
        many=True,
        read_only=True,
        help_text=(
            "The active types, the default first: the doctor's first-visit type if one "
            "is marked, else the shortest."
        ),
    )

    class Meta:
        model = Doctor
        fields = ["id", "name", "specialty", "bio", "languages", "clinic", "appointment_types"]


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
        first = attrs.get("from") or selectors.local_today(clinic)
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


class LanguageField(serializers.ChoiceField):
    """A choice of the ISO 639-1 codes. DRF deep-copies a serializer's declared fields
    for every serializer it makes (every request of a query serializer), and this
    field's copy re-made its ~190 choices from a deep copy of them: more CPU than the
    rest of a kept doctor list's request. The choices are the same for every copy and
    nothing changes them, so a copy here is a shallow one that shares them; what
    binding sets (the name, the parent, the label) is set on the copy alone."""

    def __deepcopy__(self, memo: dict[int, Any]) -> "LanguageField":
        return copy.copy(self)


def language_field(**kwargs: Any) -> serializers.ChoiceField:
    return LanguageField(
        choices=[(code, code) for code in language_names()],
        required=False,
        help_text="An ISO 639-1 code: only doctors who speak it.",
        **kwargs,
    )


class DoctorQuerySerializer(serializers.Serializer[Any]):
    clinic = serializers.IntegerField(required=False, min_value=1, max_value=2**53)
    specialty = serializers.CharField(required=False, max_length=100)
    language = language_field()
    search = serializers.CharField(
        required=False, allow_blank=True, max_length=100, help_text="Part of the name."
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


# --- Anyone: clinics and doctors ------------------------------------------------


class ClinicList(generics.ListAPIView[Clinic]):
    permission_classes = (AllowAny,)
    serializer_class = ClinicSerializer
    queryset = Clinic.objects.order_by("name", "pk")

    @extend_schema(operation_id="clinics_list", tags=["clinics"])
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


# What the doctor list shows of each doctor, in DoctorSerializer's order.
LISTED_DOCTOR_COLUMNS = ("pk", "name", "specialty", "bio", "languages", "clinic_id")


class DoctorList(generics.ListAPIView[Doctor]):
    permission_classes = (AllowAny,)
    serializer_class = DoctorSerializer

    def get_queryset(self) -> QuerySet[Doctor]:
        return self.filters().doctors()

    def filters(self) -> selectors.DoctorFilters:
        query = DoctorQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return selectors.DoctorFilters(
            name=query.validated_data.get("search", "").strip(),
            specialty=query.validated_data.get("specialty", "").strip(),
            language=query.validated_data.get("language", ""),
            clinic_id=query.validated_data.get("clinic") or None,
        )

    # The answer is the same for every caller and depends on no clock: kept whole
    # (clinic/answers.py) under a key of the address, the media type and the page's rows
    # (their availability versions stand for their types, which every change of them
    # bumps); a hit costs the rows with their count (one query).
    kept: str | None = None

    # A kept answer is a plain HttpResponse, which DRF passes on as it is.
    def list(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase:  # type: ignore[override]
        # DoctorSerializer's answer, byte for byte, without its cost: the page's doctors
        # as plain rows with their count (one query) and their active types (one more),
        # the dictionaries built here instead of three model instances and a serializer
        # tree per doctor (docs/performance.md, "The doctor lists").
        paginator = self.paginator
        assert isinstance(paginator, PageNumberPagination)  # the API's Pagination
        page_size = paginator.get_page_size(request)
        assert page_size  # Pagination.page_size: the API always pages
        rows = selectors.ListedDoctorRows(
            self.filters(),
            (*LISTED_DOCTOR_COLUMNS, "availability_version"),
            # As PageNumberPagination reads it: the page read with the count.
            page=request.query_params.get(paginator.page_query_param) or 1,
            per_page=page_size,
        )
        # What a Django paginator takes (len, slices), though not a Sequence.
        page = self.paginate_queryset(cast("Sequence[tuple[Any, ...]]", rows))
        assert page is not None  # the API always pages
        key = answer_key(
            "doctors",
            request.is_secure(),
            request.get_host(),
            request.get_full_path(),
            request.accepted_media_type,
            tuple(page),
            self.paginator.page.paginator.count,  # type: ignore[union-attr]
        )
        if (kept := kept_answer(key)) is not None:
            return kept
        types = selectors.active_type_rows([row[0] for row in page])
        self.kept = key
        return self.get_paginated_response(
            [
                {
                    "id": pk,
                    "name": name,
                    "specialty": specialty,
                    "bio": bio,
                    "languages": parse_languages(languages),
                    "clinic": clinic_id,
                    "appointment_types": [
                        {"id": kind, "name": kind_name, "duration_minutes": _minutes(duration)}
                        for kind, kind_name, duration in types.get(pk, [])
                    ],
                }
                for pk, name, specialty, bio, languages, clinic_id, _version in page
            ]
        )

    def finalize_response(  # type: ignore[override]
        self, request: Request, response: HttpResponseBase, *args: Any, **kwargs: Any
    ) -> HttpResponseBase:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[arg-type]
        if self.kept is not None and isinstance(response, Response):
            response.render()
            return keep_answer(self.kept, response, until=None)
        return response

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


# --- Staff: removing time off ------------------------------------------------------------


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
            doctor__clinic__in=selectors.staff_clinics(request.user).values("pk"),
        )
        services.remove_time_off(time_off=time_off, changed_by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
