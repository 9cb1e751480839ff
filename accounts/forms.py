from django import forms

from accounts.validators import validate_date_of_birth, validate_person_name, validate_phone


class EmailForm(forms.Form):
    email = forms.EmailField(
        label="Email address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )


def six_digit_code_field(*, label: str, invalid_message: str) -> forms.RegexField:
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
        label="6-digit code", invalid_message="Enter the 6 digits from the email."
    )


class ProfileForm(forms.Form):
    full_name = forms.CharField(
        label="Full name",
        max_length=200,
        validators=[validate_person_name],
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    phone = forms.CharField(
        label="Phone number",
        max_length=40,
        validators=[validate_phone],
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    date_of_birth = forms.DateField(
        label="Date of birth",
        validators=[validate_date_of_birth],
        widget=forms.DateInput(attrs={"type": "date", "autocomplete": "bday"}, format="%Y-%m-%d"),
    )


class StaffPasswordForm(forms.Form):
    email = forms.EmailField(
        label="Email address",
        max_length=254,
        # "username" lets password managers fill in the pair.
        widget=forms.EmailInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class AuthenticatorCodeForm(forms.Form):
    code = six_digit_code_field(
        label="6-digit code from your authenticator app",
        invalid_message="Enter the 6 digits your authenticator app shows.",
    )
