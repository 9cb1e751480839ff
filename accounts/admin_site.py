"""The admin site behind the staff sign-in (installed as ``admin.site`` by clinic/apps.py)."""

from typing import Any

from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django_otp.admin import OTPAdminSite

from accounts.decorators import is_verified_staff


class StaffAdminSite(OTPAdminSite):  # type: ignore[misc]  # django-otp is untyped
    """django-otp's admin site (staff only once an OTP device verified the session),
    narrowed to superusers signed in with the staff second factor, with its sign-in on
    the staff sign-in page."""

    def __init__(self, name: str = "admin") -> None:
        # OTPAdminSite defaults to "otpadmin"; "admin" keeps every admin:... URL name.
        super().__init__(name)

    def has_permission(self, request: HttpRequest) -> bool:
        # OTPAdminSite accepts any verified device; a patient's emailed code is not one
        # the admin should accept, even for an account made staff since.
        # Superusers only: the admin shows every clinic's data, while clinic staff work in
        # the staff pages, which show only their own clinics (accounts.selectors).
        return (
            bool(super().has_permission(request))
            and is_verified_staff(request.user)
            and bool(getattr(request.user, "is_superuser", False))
        )

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        if is_verified_staff(request.user):
            # Signed in already, but not a superuser: signing in again would not help,
            # and sending them to the staff sign-in would bring them straight back.
            raise PermissionDenied("The admin is for administrators; use the staff pages.")
        # One sign-in for staff, where the authenticator is also set up the first time;
        # it comes back here (or to the page asked for) when done.
        next_url = request.GET.get(REDIRECT_FIELD_NAME) or reverse("admin:index")
        response: HttpResponse = redirect_to_login(next_url, reverse("staff:login"))
        return response
