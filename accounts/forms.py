from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from accounts.models import Dependant
from accounts.validators import validate_date_of_birth, validate_person_name, validate_phone

# Django's own message, made the project's: Django REST framework's German catalogue has
# it too ("Gib eine gültige E-Mail Adresse an.", informal) and, as an installed app, wins
# over Django's. In the project's catalogue (LOCALE_PATHS, which wins over both) it reads
# like every other text here ("Sie"); naming it here keeps it there through makemessages.
INVALID_EMAIL = _("Enter a valid email address.")


class EmailForm(forms.Form):
    email = forms.EmailField(
        label=_("Email address"),
        max_length=254,
        error_messages={"invalid": INVALID_EMAIL},
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )


def six_digit_code_field(*, label: StrOrPromise, invalid_message: StrOrPromise) -> forms.RegexField:
    """A field for a 6-digit one-time code, spaces allowed, typed or autofilled."""
    return forms.RegexField(
        label=label,
        regex=r"^\s*(\d\s*){6}$",
        error_messages={"invalid": invalid_message},
        widget=forms.TextInput(
            attrs={
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "autofocus": True,
                "size": 8,
            }
        ),
    )


class CodeForm(forms.Form):
    code = six_digit_code_field(
        label=_("6-digit code"), invalid_message=_("Enter the 6 digits from the email.")
    )


class ProfileForm(forms.Form):
    full_name = forms.CharField(
        label=_("Full name"),
        max_length=200,
        validators=[validate_person_name],
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    phone = forms.CharField(
        label=_("Phone number"),
        max_length=40,
        validators=[validate_phone],
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    date_of_birth = forms.DateField(
        label=_("Date of birth"),
        validators=[validate_date_of_birth],
        widget=forms.DateInput(attrs={"type": "date", "autocomplete": "bday"}, format="%Y-%m-%d"),
    )
    sms_opt_in = forms.BooleanField(
        label=_("Also send me reminders and the clinic's cancellations by text message (SMS)"),
        help_text=_("To the phone number above. Emails come either way."),
        required=False,
    )
    language = forms.ChoiceField(
        label=_("Language of your emails"),
        choices=settings.LANGUAGES,
        help_text=_("Confirmations, reminders and sign-in codes are sent in this language."),
        # The browser always sends one; a form without it leaves the language as it is.
        required=False,
    )

    def __init__(self, *args: Any, offer_sms: bool, **kwargs: Any) -> None:
        """``offer_sms``: whether the clinic sends text messages at all; if not, the
        choice is not offered (and a posted one is ignored)."""
        super().__init__(*args, **kwargs)
        if not offer_sms:
            del self.fields["sms_opt_in"]

    def clean_language(self) -> str | None:
        return self.cleaned_data.get("language") or None


class DependantForm(forms.Form):
    """Someone the patient books for. Prefixed (``person-``) on the profile page, which
    has the patient's own name and date of birth fields too."""

    full_name = forms.CharField(
        label=_("Their name"),
        max_length=200,
        validators=[validate_person_name],
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    date_of_birth = forms.DateField(
        label=_("Their birth date"),
        validators=[validate_date_of_birth],
        widget=forms.DateInput(attrs={"type": "date", "autocomplete": "off"}, format="%Y-%m-%d"),
    )
    relationship = forms.ChoiceField(
        label=_("They are your"),
        choices=Dependant.Relationship.choices,
        initial=Dependant.Relationship.CHILD,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("prefix", "person")
        super().__init__(*args, **kwargs)


class StaffPasswordForm(forms.Form):
    email = forms.EmailField(
        label=_("Email address"),
        max_length=254,
        error_messages={"invalid": INVALID_EMAIL},
        # "username" lets password managers fill in the pair.
        widget=forms.EmailInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class AuthenticatorCodeForm(forms.Form):
    code = six_digit_code_field(
        label=_("6-digit code from your authenticator app"),
        invalid_message=_("Enter the 6 digits your authenticator app shows."),
    )
