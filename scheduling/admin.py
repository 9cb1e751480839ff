"""Admin for clinics, their staff, doctors and their hours.

A new clinic and its first doctor can be set up here from scratch: add the clinic, then
follow the "Add a doctor" link on it (or use the "+" next to the doctor's clinic). A
doctor is saved together with at least one appointment type and their weekly hours.
"""

import zoneinfo
from functools import cache
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from accounts.admin import UserAdmin
from accounts.models import User
from scheduling.availability import WeeklyHours, first_overlap
from scheduling.languages import join_languages, language_choices
from scheduling.models import (
    AppointmentType,
    Clinic,
    Doctor,
    ExtraHours,
    LegalDocument,
    StaffMembership,
    TimeOff,
    Weekday,
    WeeklyAvailability,
)
from scheduling.services import InactiveType, bump_availability_version, mark_first_visit_type


@cache
def timezone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(zoneinfo.available_timezones())]


class ClinicForm(forms.ModelForm[Clinic]):
    # A list instead of free text: a mistyped zone would shift every slot of the clinic.
    timezone = forms.ChoiceField(
        label=capfirst(_("time zone")),  # as a model field's label is
        choices=timezone_choices,
        initial="Europe/Berlin",
        help_text=_("IANA time zone in which the clinic's hours are defined and shown."),
    )

    class Meta:
        model = Clinic
        fields = (
            "name",
            "slug",
            "timezone",
            "country",
            "address",
            "phone",
            "email",
            "min_notice",
            "booking_horizon",
            "max_upcoming_per_patient",
            "cancellation_cutoff",
        )


class LegalDocumentInline(admin.StackedInline[LegalDocument, Clinic]):
    # Edited with the clinic: its privacy notice, legal notice and terms, one of each,
    # shown at /privacy/, /imprint/ and /terms/ (scheduling/urls.py).
    model = LegalDocument
    extra = 0
    max_num = len(LegalDocument.Kind.choices)
    fields = ("kind", "body")


@admin.register(Clinic)
class ClinicAdmin(admin.ModelAdmin[Clinic]):
    form = ClinicForm
    inlines = (LegalDocumentInline,)
    list_display = ("name", "slug", "timezone", "phone", "email", "active_doctors")
    search_fields = ("name", "slug", "address")
    list_filter = ("timezone",)
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("doctors_overview",)
    fieldsets = (
        (None, {"fields": ("name", "slug", "timezone", "country")}),
        (_("Contact"), {"fields": ("address", "phone", "email")}),
        (
            _("Booking policy"),
            {
                "fields": (
                    "min_notice",
                    "booking_horizon",
                    "max_upcoming_per_patient",
                    "cancellation_cutoff",
                )
            },
        ),
        (_("Doctors"), {"fields": ("doctors_overview",)}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Clinic]:
        clinics: QuerySet[Clinic] = super().get_queryset(request)
        return clinics.annotate(
            active_doctor_count=Count("doctors", filter=Q(doctors__is_active=True))
        )

    @admin.display(description=_("active doctors"), ordering="active_doctor_count")
    def active_doctors(self, clinic: Clinic) -> int:
        return getattr(clinic, "active_doctor_count", 0)

    @admin.display(description=_("doctors"))
    def doctors_overview(self, clinic: Clinic) -> SafeString | str:
        if clinic.pk is None:
            return str(_("Save the clinic first; then you can add its doctors."))
        inactive = " " + str(_("(inactive)"))
        items = format_html_join(
            "",
            '<li><a href="{}">{}</a>{}</li>',
            (
                (
                    reverse("admin:scheduling_doctor_change", args=[doctor.pk]),
                    doctor.name,
                    "" if doctor.is_active else inactive,
                )
                for doctor in clinic.doctors.order_by("name")
            ),
        )
        return format_html(
            '<ul>{}</ul><a class="addlink" href="{}">{}</a>',
            items,
            add_doctor_url(clinic),
            _("Add a doctor to %(clinic)s") % {"clinic": clinic.name},
        )

    def response_add(
        self, request: HttpRequest, obj: Clinic, post_url_continue: str | None = None
    ) -> HttpResponse:
        if "_popup" not in request.POST:
            self.message_user(
                request,
                format_html(
                    str(_('Next, <a href="{url}">add the first doctor of {clinic}</a>.')),
                    url=add_doctor_url(obj),
                    clinic=obj.name,
                ),
                messages.INFO,
            )
        return super().response_add(request, obj, post_url_continue)


def add_doctor_url(clinic: Clinic) -> str:
    # The admin pre-fills a form field from a query parameter of the same name.
    return f"{reverse('admin:scheduling_doctor_add')}?clinic={clinic.pk}"


class AppointmentTypeAdminForm(forms.ModelForm[AppointmentType]):
    """A type in the admin, on its own page or a row of its doctor's. Ticking "first-visit
    type" moves the mark in one save, as the staff hours page's button does: the type is
    saved unmarked, then ``mark_first_visit_type`` marks it and unmarks the doctor's other
    one in one transaction (``apply_first_visit_mark``). The one-per-doctor constraint is
    therefore not checked against the saved types here: the service keeps it."""

    # Set by save(): the mark is the service's to give, after the row is saved.
    moves_first_visit_mark = False

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("is_first_visit") and cleaned.get("is_active") is False:
            self.add_error("is_first_visit", str(InactiveType.default_message))
        return cleaned

    def validate_constraints(self) -> None:
        # ModelForm.validate_constraints with one field more left out. django-stubs does
        # not declare the two ModelForm helpers it uses (Django's own, since 4.1).
        exclude = self._get_validation_exclusions() | {"is_first_visit"}  # type: ignore[attr-defined]
        try:
            self.instance.validate_constraints(exclude=exclude)
        except forms.ValidationError as error:
            self._update_errors(error)  # type: ignore[attr-defined]

    def save(self, commit: bool = True) -> AppointmentType:
        self.moves_first_visit_mark = bool(
            self.cleaned_data.get("is_first_visit") and not self.initial.get("is_first_visit")
        )
        if self.moves_first_visit_mark:
            self.instance.is_first_visit = False
        return super().save(commit)


def apply_first_visit_mark(form: forms.ModelForm[AppointmentType]) -> None:
    """After ``form`` (an ``AppointmentTypeAdminForm``) saved its type: mark it the
    doctor's first-visit type if it was ticked (the doctor's other one unmarked)."""
    if getattr(form, "moves_first_visit_mark", False):
        mark_first_visit_type(appointment_type=form.instance)


class AppointmentTypeFormSet(
    BaseInlineFormSet[AppointmentType, Doctor, forms.ModelForm[AppointmentType]]
):
    def clean(self) -> None:
        """Refuse two first-visit types in one submission. Each row's own check compares
        it with what is saved, so it cannot see two rows ticked together (which the
        database's unique index would refuse with an error page)."""
        super().clean()
        ticked = [
            form
            for form in self.forms
            if form.cleaned_data
            and not form.cleaned_data.get("DELETE")
            and form.cleaned_data.get("is_first_visit")
        ]
        if len(ticked) > 1:
            raise forms.ValidationError(_("Mark one first-visit type at most."))


class AppointmentTypeInline(admin.TabularInline[AppointmentType, Doctor]):
    model = AppointmentType
    form = AppointmentTypeAdminForm
    formset = AppointmentTypeFormSet
    fields = ("name", "duration", "slot_step", "is_active", "is_first_visit")
    # Every doctor offers something to book; the first row on the add page is required.
    min_num = 1
    extra = 0
    # Appointments point at their type (PROTECT): retire a type by unticking "active".
    can_delete = False

    def get_formset(self, request: HttpRequest, obj: Doctor | None = None, **kwargs: Any) -> Any:
        # InlineModelAdmin has no validate_min option: without it min_num only decides how
        # many empty rows are shown, and a submission with none would still be saved.
        return super().get_formset(request, obj, validate_min=True, **kwargs)


class WeeklyAvailabilityFormSet(
    BaseInlineFormSet[WeeklyAvailability, Doctor, forms.ModelForm[WeeklyAvailability]]
):
    def clean(self) -> None:
        """Reject rows of one submission that overlap each other.

        The model's own check compares a row with what is already saved, so it cannot see
        two new rows of a new doctor, or two rows edited together."""
        super().clean()
        rows = [
            WeeklyHours(int(data["weekday"]), data["start_time"], data["end_time"])
            for data in (form.cleaned_data for form in self.forms)
            if data
            and not data.get("DELETE")
            and data.get("weekday") is not None
            and data.get("start_time")
            and data.get("end_time")
        ]
        overlap = first_overlap(rows)
        if overlap is not None:
            raise forms.ValidationError(
                _("Two intervals on %(weekday)s overlap; merge them into one."),
                params={"weekday": Weekday(overlap[0].weekday).label},
            )


class WeeklyAvailabilityInline(admin.TabularInline[WeeklyAvailability, Doctor]):
    model = WeeklyAvailability
    formset = WeeklyAvailabilityFormSet
    fields = ("weekday", "start_time", "end_time")
    extra = 1


class TimeOffInline(admin.TabularInline[TimeOff, Doctor]):
    model = TimeOff
    fields = ("start_date", "end_date", "start_time", "end_time", "reason")
    extra = 0


class ExtraHoursInline(admin.TabularInline[ExtraHours, Doctor]):
    model = ExtraHours
    fields = ("date", "start_time", "end_time")
    extra = 0


class DoctorAdminForm(forms.ModelForm[Doctor]):
    """Languages as ticks of ISO 639-1 languages, stored as "de,en" on the doctor."""

    languages = forms.MultipleChoiceField(
        label=_("Languages spoken"),
        required=False,
        choices=language_choices,
        widget=forms.SelectMultiple(attrs={"size": 8}),
        help_text=_("Hold Ctrl (Cmd on a Mac) to choose several."),
    )

    class Meta:
        model = Doctor
        fields = ("clinic", "name", "specialty", "bio", "languages", "is_active", "user")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["languages"] = self.instance.language_codes

    def clean_languages(self) -> str:
        return join_languages(self.cleaned_data["languages"])


@admin.register(Doctor)
class DoctorAdmin(admin.ModelAdmin[Doctor]):
    form = DoctorAdminForm
    list_display = (
        "name",
        "clinic",
        "specialty",
        "languages",
        "is_active",
        "appointment_type_names",
    )
    list_filter = ("is_active", "clinic", "specialty")
    list_select_related = ("clinic",)
    search_fields = ("name", "specialty", "clinic__name")
    autocomplete_fields = ("clinic", "user")
    fields = ("clinic", "name", "specialty", "bio", "languages", "is_active", "user")
    inlines = (AppointmentTypeInline, WeeklyAvailabilityInline, TimeOffInline, ExtraHoursInline)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Doctor]:
        doctors: QuerySet[Doctor] = super().get_queryset(request)
        return doctors.prefetch_related("appointment_types")

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        # The inlines are the doctor's types and hours: their cached free times go stale
        # (in the admin's transaction, like the inlines' writes).
        super().save_related(request, form, formsets, change)
        for formset in formsets:
            if isinstance(formset, AppointmentTypeFormSet):
                for row in formset.forms:
                    apply_first_visit_mark(row)
        bump_availability_version(doctor_id=form.instance.pk)

    @admin.display(description=_("appointment types"))
    def appointment_type_names(self, doctor: Doctor) -> str:
        return ", ".join(str(kind) for kind in doctor.appointment_types.all() if kind.is_active)


@admin.register(AppointmentType)
class AppointmentTypeAdmin(admin.ModelAdmin[AppointmentType]):
    form = AppointmentTypeAdminForm
    list_display = ("name", "doctor", "duration", "slot_step", "is_active", "is_first_visit")
    list_filter = ("is_active", "is_first_visit", "doctor__clinic", "name")
    list_select_related = ("doctor",)
    search_fields = ("name", "doctor__name")
    autocomplete_fields = ("doctor",)

    def save_model(
        self, request: HttpRequest, obj: AppointmentType, form: Any, change: bool
    ) -> None:
        super().save_model(request, obj, form, change)
        apply_first_visit_mark(form)
        bump_availability_version(doctor_id=obj.doctor_id)

    def get_readonly_fields(self, request: HttpRequest, obj: AppointmentType | None = None) -> Any:
        # Moving a type to another doctor would move its booked appointments' meaning too.
        readonly = tuple(super().get_readonly_fields(request, obj))
        return (*readonly, "doctor") if obj is not None else readonly

    def has_delete_permission(
        self, request: HttpRequest, obj: AppointmentType | None = None
    ) -> bool:
        # Appointments point at their type (PROTECT) and every doctor keeps at least one:
        # retire a type by unticking "active" instead.
        return False


class DoctorHoursAdmin(SimpleHistoryAdmin):  # type: ignore[misc]  # simple-history is untyped
    """Shared list settings of the three kinds of hours, each with its change history."""

    list_select_related: tuple[str, ...] = ("doctor", "doctor__clinic")
    search_fields: tuple[str, ...] = ("doctor__name",)
    autocomplete_fields: tuple[str, ...] = ("doctor",)

    # Each write of hours here makes the doctor's cached free times stale, in the
    # admin's transaction (the services do the same: scheduling.services._lock_doctor).
    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        bump_availability_version(doctor_id=obj.doctor_id)
        if change and "doctor" in form.changed_data and form.initial.get("doctor"):
            bump_availability_version(doctor_id=form.initial["doctor"])

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        super().delete_model(request, obj)
        bump_availability_version(doctor_id=obj.doctor_id)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        doctor_ids = set(queryset.values_list("doctor_id", flat=True))
        super().delete_queryset(request, queryset)
        for doctor_id in doctor_ids:
            bump_availability_version(doctor_id=doctor_id)


@admin.register(WeeklyAvailability)
class WeeklyAvailabilityAdmin(DoctorHoursAdmin):
    list_display = ("doctor", "weekday", "start_time", "end_time", "clinic")
    list_filter = ("weekday", "doctor__clinic")

    @admin.display(description=_("clinic"), ordering="doctor__clinic__name")
    def clinic(self, rule: WeeklyAvailability) -> Clinic:
        return rule.doctor.clinic


@admin.register(TimeOff)
class TimeOffAdmin(DoctorHoursAdmin):
    list_display = ("doctor", "start_date", "end_date", "start_time", "end_time", "reason")
    list_filter = ("doctor__clinic", "start_date")
    # The reason is encrypted at rest (clinic.encryption): it cannot be searched.
    search_fields = ("doctor__name",)
    date_hierarchy = "start_date"


@admin.register(ExtraHours)
class ExtraHoursAdmin(DoctorHoursAdmin):
    list_display = ("doctor", "date", "start_time", "end_time")
    list_filter = ("doctor__clinic", "date")
    date_hierarchy = "date"


class StaffMembershipInline(admin.TabularInline[StaffMembership, User]):
    model = StaffMembership
    fields = ("clinic", "role", "created_at")
    readonly_fields = ("created_at",)
    autocomplete_fields = ("clinic",)
    extra = 0


# A user's clinics are edited on the user's page. accounts.admin cannot name them (it
# knows nothing of clinics), so the user admin is registered again here with the inline.
admin.site.unregister(User)


@admin.register(User)
class UserWithClinicsAdmin(UserAdmin):
    inlines = (*UserAdmin.inlines, StaffMembershipInline)


@admin.register(StaffMembership)
class StaffMembershipAdmin(admin.ModelAdmin[StaffMembership]):
    list_display = ("user", "clinic", "role", "created_at")
    list_filter = ("role", "clinic")
    list_select_related = ("user", "clinic")
    search_fields = ("user__email", "clinic__name")
    # The user field offers staff accounts only (the model's limit_choices_to).
    autocomplete_fields = ("user", "clinic")
    readonly_fields = ("created_at",)
