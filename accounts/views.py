from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.core.exceptions import BadRequest
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django.views.i18n import set_language as django_set_language
from django_otp import login as otp_login

from accounts import languages, phones, selectors, services
from accounts.decorators import current_patient, patient_required
from accounts.forms import CodeForm, DependantForm, EmailForm, ProfileForm
from accounts.models import Dependant, User
from clinic.client_address import client_address
from clinic.sms import sms_is_configured

SESSION_EMAIL = "login_email"
SESSION_NEXT = "login_next"


def safe_next(request: HttpRequest, url: str | None) -> str | None:
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return None


@require_http_methods(["GET", "POST"])
def login_start(request: HttpRequest) -> HttpResponse:
    form = EmailForm(request.POST or None, initial={"email": request.GET.get("email", "")})
    status = 200
    if request.method == "POST" and form.is_valid():
        email = services.normalize_email(form.cleaned_data["email"])
        next_url = safe_next(request, request.POST.get("next") or request.GET.get("next"))
        try:
            services.request_login_code(email=email, client_address=client_address(request))
        except services.TooManyCodeEmails as error:
            # Codes were sent already: the newest one in the mailbox still works.
            messages.warning(request, error.message)
            return _go_to_code_step(request, email, next_url)
        except services.LoginError as error:
            form.add_error(None, error.message)
            status = error.http_status
        else:
            return _go_to_code_step(request, email, next_url)
    return render(
        request,
        "accounts/login.html",
        # After a refused POST the hidden field carries `next` (the form posts to a URL
        # without a query string).
        {"form": form, "next": request.POST.get("next") or request.GET.get("next", "")},
        status=status,
    )


def _go_to_code_step(request: HttpRequest, email: str, next_url: str | None) -> HttpResponse:
    request.session[SESSION_EMAIL] = email
    if next_url:
        request.session[SESSION_NEXT] = next_url
    return redirect("accounts:login-verify")


@require_http_methods(["GET", "POST"])
def login_verify(request: HttpRequest) -> HttpResponse:
    email = request.session.get(SESSION_EMAIL)
    if not email:
        return redirect("accounts:login")
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            user, device = services.verify_login_code(
                email=email, code=form.cleaned_data["code"], client_address=client_address(request)
            )
        except services.LoginError as error:
            form.add_error("code", error.message)
            status = error.http_status
        else:
            next_url = request.session.get(SESSION_NEXT)
            # login() rotates the session key, so a session fixed before login is useless.
            auth_login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            otp_login(request, device)
            language = languages.language_on_sign_in(user=user, language=translation.get_language())
            if not current_patient(request).is_complete:
                query = f"?{urlencode({'next': next_url})}" if next_url else ""
                response = redirect(reverse("accounts:profile") + query)
            else:
                response = redirect(next_url or settings.LOGIN_REDIRECT_URL)
            return languages.remember_language(response, language)
    return render(
        request,
        "accounts/login_verify.html",
        # `next` only for the booking it may name (appointments/_booking_in_view.html).
        {"form": form, "email": email, "next": request.session.get(SESSION_NEXT, "")},
        status=status,
    )


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    """Sign out; with ``everywhere``, also every other session and every API token."""
    if request.POST.get("everywhere") and isinstance(request.user, User):
        services.sign_out_everywhere(user=request.user)
    auth_logout(request)
    return redirect("home")


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """The language switcher: Django's ``set_language`` (the language cookie, then back to
    the page, by ``next`` or the Referer); a signed-in user's choice is stored too, for
    their messages and next sign-in."""
    language = request.POST.get("language", "")
    if language not in languages.LANGUAGE_CODES:
        # Django's view would set the cookie to any language Django itself knows.
        raise BadRequest("Not a language of this site.")
    response = django_set_language(request)
    if isinstance(request.user, User):
        languages.user_language_set(user=request.user, language=language)
    return response


@patient_required
@require_http_methods(["GET", "POST"])
def profile(request: HttpRequest) -> HttpResponse:
    patient = current_patient(request)
    form = ProfileForm(
        request.POST or None,
        initial={
            "full_name": patient.full_name,
            # As people read it (+49 170 1234567), not as it is stored (E.164).
            "phone": phones.display(patient.phone),
            "date_of_birth": patient.date_of_birth,
            "sms_opt_in": patient.sms_opt_in,
            "language": patient.user.language
            or languages.supported_language(translation.get_language()),
        },
        offer_sms=sms_is_configured(),
    )
    if request.method == "POST" and form.is_valid():
        services.update_patient_profile(patient=patient, **form.cleaned_data)
        next_url = safe_next(request, request.POST.get("next") or request.GET.get("next"))
        response = redirect(next_url or settings.LOGIN_REDIRECT_URL)
        if form.cleaned_data["language"]:
            # The pages follow the language chosen for the messages.
            languages.remember_language(response, form.cleaned_data["language"])
        return response
    return render(
        request,
        "accounts/profile.html",
        {
            "form": form,
            "patient": patient,
            "next": request.POST.get("next") or request.GET.get("next", ""),
            "dependants": selectors.dependants_of(patient),
            "dependant_form": DependantForm(),
        },
        status=400 if form.errors else 200,
    )


PEOPLE_ANCHOR = "#people"


@patient_required
@require_http_methods(["GET", "POST"])
def dependant_add(request: HttpRequest) -> HttpResponse:
    """Add someone the patient books for (the form is on the profile page too). Coming
    from a booking's confirm page (``next``), it goes back there with ``for`` naming the
    person added, whom that page then offers as the one the visit is for."""
    patient = current_patient(request)
    form = DependantForm(request.POST or None)
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next"))
    if request.method == "POST" and form.is_valid():
        dependant = services.add_dependant(patient=patient, **form.cleaned_data)
        messages.success(
            request, _("Added %(name)s to the people you book for.") % {"name": dependant}
        )
        if next_url:
            separator = "&" if "?" in next_url else "?"
            return redirect(f"{next_url}{separator}{urlencode({'for': dependant.pk})}")
        return redirect(reverse("accounts:profile") + PEOPLE_ANCHOR)
    return _render_dependant_form(
        request, form, None, status=400 if form.errors else 200, next_url=next_url or ""
    )


@patient_required
@require_http_methods(["GET", "POST"])
def dependant_edit(request: HttpRequest, pk: int) -> HttpResponse:
    dependant = _own_dependant(request, pk)
    form = DependantForm(
        request.POST or None,
        initial={
            "full_name": dependant.full_name,
            "date_of_birth": dependant.date_of_birth,
            "relationship": dependant.relationship,
        },
    )
    if request.method == "POST" and form.is_valid():
        services.update_dependant(dependant=dependant, **form.cleaned_data)
        messages.success(request, _("Saved the details of %(name)s.") % {"name": dependant})
        return redirect(reverse("accounts:profile") + PEOPLE_ANCHOR)
    return _render_dependant_form(request, form, dependant, status=400 if form.errors else 200)


@patient_required
@require_POST
def dependant_remove(request: HttpRequest, pk: int) -> HttpResponse:
    dependant = _own_dependant(request, pk)
    name = dependant.full_name
    try:
        services.remove_dependant(dependant=dependant)
    except services.DependantHasAppointments as error:
        form = DependantForm(
            initial={
                "full_name": dependant.full_name,
                "date_of_birth": dependant.date_of_birth,
                "relationship": dependant.relationship,
            }
        )
        return _render_dependant_form(
            request, form, dependant, status=error.http_status, error=error.message
        )
    messages.success(request, _("Removed %(name)s from the people you book for.") % {"name": name})
    return redirect(reverse("accounts:profile") + PEOPLE_ANCHOR)


def _own_dependant(request: HttpRequest, pk: int) -> Dependant:
    # Someone else's is "not found": ids reveal nothing.
    found = selectors.own_dependant(current_patient(request), pk)
    if found is None:
        raise Http404("No such person.")
    return found


def _render_dependant_form(
    request: HttpRequest,
    form: DependantForm,
    dependant: Dependant | None,
    *,
    status: int,
    error: str = "",
    next_url: str = "",
) -> HttpResponse:
    return render(
        request,
        "accounts/dependant_form.html",
        {"form": form, "dependant": dependant, "error": error, "next": next_url},
        status=status,
    )
