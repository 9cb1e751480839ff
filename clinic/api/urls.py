"""/api/v1/: the paths are the contract in docs/api.md (a test keeps the two equal)."""

from typing import Any

from django.urls import path, re_path
from drf_spectacular.views import SpectacularSwaggerView
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.views import APIView

from accounts import api as accounts_api
from appointments import api as appointments_api
from clinic.api.schema import SchemaView
from scheduling import api as scheduling_api


class NoSuchEndpoint(APIView):
    """Any other path under /api/v1/: a problem+json 404 whatever the method, not the
    site's HTML page."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    schema = None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        raise NotFound("There is no such API endpoint. See /api/v1/docs/.")


urlpatterns = [
    path("auth/otp/request", accounts_api.OtpRequestView.as_view()),
    path("auth/otp/verify", accounts_api.OtpVerifyView.as_view()),
    path("auth/staff/token", accounts_api.StaffTokenView.as_view()),
    path("auth/logout", accounts_api.LogoutView.as_view()),
    path("me", accounts_api.ProfileView.as_view()),
    path("clinics", scheduling_api.ClinicList.as_view()),
    path("doctors", scheduling_api.DoctorList.as_view()),
    path("doctors/<int:pk>", scheduling_api.DoctorDetail.as_view()),
    path("doctors/<int:pk>/availability", scheduling_api.DoctorAvailability.as_view()),
    path("doctors/<int:pk>/weekly-availability", scheduling_api.WeeklyHoursView.as_view()),
    path("doctors/<int:pk>/time-off", scheduling_api.TimeOffList.as_view()),
    path("doctors/<int:pk>/calendar", appointments_api.DoctorCalendar.as_view()),
    path("time-off/<int:pk>", scheduling_api.TimeOffDetail.as_view()),
    path("appointments", appointments_api.AppointmentList.as_view()),
    path("appointments/<int:pk>", appointments_api.AppointmentDetail.as_view()),
    path("appointments/<int:pk>/cancel", appointments_api.CancelView.as_view()),
    path("appointments/<int:pk>/reschedule", appointments_api.RescheduleView.as_view()),
    path("appointments/<int:pk>/history", appointments_api.HistoryView.as_view()),
    path("schema/", SchemaView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    re_path(r"^.*$", NoSuchEndpoint.as_view()),
]
