"""Admin for users (email is the login, there is no username), patient profiles and API
tokens. Staff memberships of clinics are added to the user page by scheduling.admin."""

from typing import Any, ClassVar

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import ActionLocation
from django.contrib.admin.options import InlineModelAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_otp.plugins.otp_email.admin import EmailDeviceAdmin as OtpEmailDeviceAdmin
from django_otp.plugins.otp_email.models import EmailDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_stubs_ext import StrOrPromise

from accounts import phones
from accounts.api_tokens import revoke_token
from accounts.models import ApiToken, Authenticator, Dependant, Patient, User
from accounts.protection import has_acted
from accounts.services import deactivate_user


def _normalized_unique_email(form: "forms.ModelForm[User]") -> str:
    """The email lower-cased, as the model stores it, and not taken by another user.

    The model's unique check compares exact strings; checking here, case-insensitively,
    turns a would-be duplicate into a form error instead of two logins for one person."""
    email: str = form.cleaned_data["email"].strip().lower()
    others = User.objects.filter(email__iexact=email).exclude(pk=form.instance.pk)
    if others.exists():
        raise forms.ValidationError(_("A user with this email address already exists."))
    return email


class UserCreationForm(AdminUserCreationForm[User]):
    class Meta:
        model = User
        fields = ("email",)

    def clean_email(self) -> str:
        return _normalized_unique_email(self)


class UserEditForm(UserChangeForm[User]):
    class Meta:
        model = User
        fields = "__all__"

    def clean_email(self) -> str:
        return _normalized_unique_email(self)


class PatientInline(admin.StackedInline[Patient, User]):
    model = Patient
    fields = ("full_name", "phone", "date_of_birth")
    # A patient profile is referenced by appointments (PROTECT); it is never removed here.
    can_delete = False
    max_num = 1
    extra = 0


@admin.register(User)
class UserAdmin(DjangoUserAdmin[User]):
    form = UserEditForm
    add_form = UserCreationForm
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "usable_password", "password1", "password2"),
            },
        ),
    )
    # Other apps add theirs (scheduling.admin: the user's clinics).
    inlines: ClassVar[tuple[type[InlineModelAdmin[Any, Any]], ...]] = (PatientInline,)
    list_display = ("email", "patient_name", "is_staff", "is_superuser", "is_active", "last_login")
    list_filter = ("is_staff", "is_superuser", "is_active", "groups")
    list_select_related = ("patient",)
    search_fields = ("email", "patient__full_name")
    ordering = ("email",)
    readonly_fields = ("last_login", "date_joined")

    actions = ["deactivate"]

    def has_delete_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        # Whoever appears in the audit trail stays, deactivated (accounts.protection).
        if obj is not None and has_acted(obj):
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(
        self, request: HttpRequest, action_location: ActionLocation = ActionLocation.CHANGE_LIST
    ) -> Any:
        actions = super().get_actions(request, action_location)
        actions.pop("delete_selected", None)  # one by one, where has_delete_permission says
        return actions

    @admin.action(description=_("Deactivate the selected users (they can no longer sign in)"))
    def deactivate(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset:
            deactivate_user(user=user)
        count = queryset.count()
        self.message_user(
            request,
            ngettext("Deactivated %(count)d user.", "Deactivated %(count)d users.", count)
            % {"count": count},
            messages.SUCCESS,
        )

    def get_inline_instances(self, request: HttpRequest, obj: User | None = None) -> Any:
        # The add page asks only for the login; the patient profile comes after.
        return super().get_inline_instances(request, obj) if obj is not None else []

    @admin.display(description=_("patient"), ordering="patient__full_name")
    def patient_name(self, user: User) -> str:
        patient = getattr(user, "patient", None)
        return patient.full_name if patient is not None else ""


class DependantInline(admin.TabularInline[Dependant, Patient]):
    """The people a patient books for, on the patient's page. One with appointments
    cannot be removed (``on_delete=PROTECT``: the records keep saying whom they were
    for); the admin says so instead of deleting."""

    model = Dependant
    fields = ("full_name", "date_of_birth", "relationship", "erased_at")
    readonly_fields = ("erased_at",)
    extra = 0
    show_change_link = True


@admin.register(Patient)
class PatientAdmin(admin.ModelAdmin[Patient]):
    list_display = ("display_name", "email", "phone", "date_of_birth", "created_at", "appointments")
    list_select_related = ("user",)
    # The phone is encrypted at rest: a number is found by its keyed hash (get_search_results).
    search_fields = ("full_name", "user__email")
    list_filter = ("created_at",)
    autocomplete_fields = ("user",)
    readonly_fields = ("created_at", "erased_at")
    inlines = (DependantInline,)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Patient], search_term: str
    ) -> tuple[QuerySet[Patient], bool]:
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        number = phones.normalise_or_none(search_term)
        if number:
            found = found | queryset.filter(phone_lookup=phones.lookup_hash(number))
        return found, may_have_duplicates

    def get_readonly_fields(self, request: HttpRequest, obj: Patient | None = None) -> Any:
        # Moving a profile, with its appointments, to another login is not an edit.
        readonly = tuple(super().get_readonly_fields(request, obj))
        return (*readonly, "user") if obj is not None else readonly

    @admin.display(description=_("name"), ordering="full_name")
    def display_name(self, patient: Patient) -> str:
        return patient.full_name or str(_("(no name yet)"))

    @admin.display(description=_("email address"), ordering="user__email")
    def email(self, patient: Patient) -> str:
        return patient.user.email

    @admin.display(description=_("appointments"))
    def appointments(self, patient: Patient) -> str:
        url = reverse("admin:appointments_appointment_changelist")
        return format_html('<a href="{}?patient__id__exact={}">{}</a>', url, patient.pk, _("View"))


class ErasedFilter(admin.SimpleListFilter):
    title = _("erased")
    parameter_name = "erased"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, StrOrPromise]]:
        return [("no", _("Not erased")), ("yes", _("Erased"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "no":
            return queryset.filter(erased_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(erased_at__isnull=False)
        return queryset


@admin.register(Dependant)
class DependantAdmin(admin.ModelAdmin[Dependant]):
    """The people patients book for (children, relatives in their care). The date of
    birth is encrypted at rest, like the patient's own: shown, never searched, filtered
    or sorted (its column holds ciphertext). Erasure is the patient's action
    (``appointments.erasure``), which takes their family members' data too."""

    list_display = ("full_name", "relationship", "born", "account_holder", "created_at")
    list_select_related = ("patient__user",)
    search_fields = ("full_name", "patient__full_name", "patient__user__email")
    list_filter = ("relationship", ErasedFilter, "created_at")
    autocomplete_fields = ("patient",)
    fields = ("patient", "full_name", "date_of_birth", "relationship", "created_at", "erased_at")
    readonly_fields = ("created_at", "erased_at")

    def get_readonly_fields(self, request: HttpRequest, obj: Dependant | None = None) -> Any:
        # Moving someone, with their appointments, to another account holder is not an edit.
        readonly = tuple(super().get_readonly_fields(request, obj))
        return (*readonly, "patient") if obj is not None else readonly

    @admin.display(description=_("date of birth"))
    def born(self, person: Dependant) -> str:
        if person.date_of_birth is None:
            return "-"
        return formats.date_format(person.date_of_birth, "DATE_FORMAT")

    @admin.display(description=_("account holder"), ordering="patient__full_name")
    def account_holder(self, person: Dependant) -> SafeString:
        url = reverse("admin:accounts_patient_change", args=[person.patient_id])
        return format_html('<a href="{}">{}</a>', url, person.patient)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[ApiToken]):
    """Tokens are issued by signing in through the API; here they can be seen and revoked
    (a lost phone, say). The token itself is never stored, so never shown."""

    list_display = ["prefix", "user", "kind", "created_at", "expires_at", "revoked_at"]
    list_filter = ["kind", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["user__email", "prefix"]
    readonly_fields = [
        "user",
        "kind",
        "device",
        "prefix",
        "created_at",
        "expires_at",
        "revoked_at",
    ]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        for token in queryset:
            revoke_token(token)
        count = queryset.count()
        self.message_user(
            request,
            ngettext("Revoked %(count)d token.", "Revoked %(count)d tokens.", count)
            % {"count": count},
            messages.SUCCESS,
        )


def titled(filter_class: type[admin.FieldListFilter], title: StrOrPromise) -> Any:
    """``filter_class`` under ``title``: a third-party model's field names the filter in
    English otherwise (its ``verbose_name`` is no translation)."""

    class Titled(filter_class):  # type: ignore[valid-type,misc]  # a class made at run time
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.title = title

    return Titled


# django-otp's admin of the addresses patients get sign-in codes at, its English field
# names and sections replaced by translated ones (the model's names: accounts/apps.py).
if admin.site.is_registered(EmailDevice):
    admin.site.unregister(EmailDevice)


class EmailDeviceForm(forms.ModelForm[EmailDevice]):
    class Meta:
        model = EmailDevice
        fields = ("user", "name", "confirmed", "email")
        labels = {
            "user": _("user"),
            "name": _("name"),
            "confirmed": _("confirmed"),
            "email": _("Email"),
        }
        help_texts = {
            "name": _("What this way of signing in is called; the sign-in names it “email”."),
            "confirmed": _("Codes are sent only to a confirmed address."),
            "email": _("Empty: the codes go to the user's own email address."),
        }


@admin.register(EmailDevice)
class EmailDeviceAdmin(OtpEmailDeviceAdmin):  # type: ignore[misc]  # django-otp is untyped
    form = EmailDeviceForm
    list_display = ["account", "device_name", "created", "last_used", "is_confirmed"]
    list_filter = [
        ("created_at", titled(admin.DateFieldListFilter, _("created"))),
        ("last_used_at", titled(admin.DateFieldListFilter, _("last used"))),
        ("confirmed", titled(admin.BooleanFieldListFilter, _("confirmed"))),
    ]
    readonly_fields = ["created", "last_used"]
    fieldsets = [
        (_("Who"), {"fields": ["user", "name", "confirmed"]}),
        (_("When"), {"fields": ["created", "last_used"]}),
        (_("Where the codes go"), {"fields": ["email"]}),
    ]

    @admin.display(description=_("user"), ordering="user__email")
    def account(self, device: EmailDevice) -> object:
        return device.user

    @admin.display(description=_("name"), ordering="name")
    def device_name(self, device: EmailDevice) -> str:
        return str(device.name)

    @admin.display(description=_("created"), ordering="created_at")
    def created(self, device: EmailDevice) -> str:
        return _local_datetime(device.created_at)

    @admin.display(description=_("last used"), ordering="last_used_at")
    def last_used(self, device: EmailDevice) -> str:
        return _local_datetime(device.last_used_at)

    @admin.display(description=_("confirmed"), boolean=True, ordering="confirmed")
    def is_confirmed(self, device: EmailDevice) -> bool:
        return bool(device.confirmed)


def _local_datetime(value: Any) -> str:
    return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT") if value else "—"


# django-otp's own TOTP devices are replaced by Authenticator (keys encrypted at rest);
# its admin would only show an empty list.
if admin.site.is_registered(TOTPDevice):
    admin.site.unregister(TOTPDevice)


@admin.register(Authenticator)
class AuthenticatorAdmin(admin.ModelAdmin[Authenticator]):
    """Staff members' authenticator apps. Deleting one resets it (a lost phone): the next
    sign-in sets up a new one, and the staff API tokens issued against it end. The key is
    never shown: seen here, it would be a second factor for someone else's account."""

    list_display = ["user", "name", "confirmed", "created_at", "last_used_at"]
    list_filter = ["confirmed"]
    list_select_related = ["user"]
    search_fields = ["user__email"]
    fields = ("user", "name", "confirmed", "created_at", "last_used_at", "throttling_failure_count")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # set up at the staff sign-in, where the key is shown once
