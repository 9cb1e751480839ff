"""Who may call what: patients (signed in by emailed code) and staff (password and
authenticator). Which records each may see is the selectors' business: a patient's own
appointments, a staff member's clinics' (a record outside them is a 404)."""

from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView


class IsPatient(BasePermission):
    message = "Only patients can do this; staff use the staff endpoints."
    code = "patients_only"

    def has_permission(self, request: Request, view: APIView) -> bool:
        return bool(request.user.is_authenticated and not request.user.is_staff)


class IsStaff(BasePermission):
    message = "Only clinic staff can do this."
    code = "staff_only"

    def has_permission(self, request: Request, view: APIView) -> bool:
        return bool(request.user.is_authenticated and request.user.is_staff)
