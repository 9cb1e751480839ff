"""The root URLconf: the one module of the kernel that names every app (the apps' own
URLconfs and API views), as the layers contract in pyproject.toml allows."""

from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path

from accounts import api as accounts_api
from appointments import api as appointments_api
from scheduling import api as scheduling_api
from scheduling import views as scheduling_views

# The site's error pages, and application/problem+json under /api/: a bug, a database
# that is down (503), what Django refuses before any view runs (clinic/error_pages.py).
handler400 = "clinic.error_pages.bad_request"
handler403 = "clinic.error_pages.permission_denied"
handler404 = "clinic.error_pages.page_not_found"
handler500 = "clinic.error_pages.server_error"

# /api/v1/: the paths are the contract in docs/api.md (a test keeps the two equal).
api_patterns: list[URLPattern | URLResolver] = [
    path("auth/otp/request", accounts_api.OtpRequestView.as_view()),
    path("auth/otp/verify", accounts_api.OtpVerifyView.as_view()),
    path("auth/staff/token", accounts_api.StaffTokenView.as_view()),
    path("auth/logout", accounts_api.LogoutView.as_view()),
    path("me", accounts_api.ProfileView.as_view()),
    path("me/dependants", accounts_api.DependantList.as_view()),
    path("me/dependants/<int:pk>", accounts_api.DependantDetail.as_view()),
    path("clinics", scheduling_api.ClinicList.as_view()),
    path("doctors", scheduling_api.DoctorList.as_view()),
    path("doctors/<int:pk>", scheduling_api.DoctorDetail.as_view()),
    path("slots", appointments_api.SlotSearch.as_view()),
    path("doctors/<int:pk>/availability", appointments_api.DoctorAvailability.as_view()),
    path("doctors/<int:pk>/weekly-availability", appointments_api.WeeklyHoursView.as_view()),
    path("doctors/<int:pk>/time-off", appointments_api.TimeOffList.as_view()),
    path("doctors/<int:pk>/calendar", appointments_api.DoctorCalendar.as_view()),
    path("time-off/<int:pk>", scheduling_api.TimeOffDetail.as_view()),
    path("appointments", appointments_api.AppointmentList.as_view()),
    path("appointments/<int:pk>", appointments_api.AppointmentDetail.as_view()),
    path("appointments/<int:pk>/cancel", appointments_api.CancelView.as_view()),
    path("appointments/<int:pk>/reschedule", appointments_api.RescheduleView.as_view()),
    path("appointments/<int:pk>/history", appointments_api.HistoryView.as_view()),
    # The schema, its docs, and a problem 404 for any other path.
    path("", include("clinic.api.urls")),
]

urlpatterns = [
    path("", scheduling_views.home, name="home"),
    path("", include("accounts.urls")),
    path("", include("appointments.urls")),
    path("", include("scheduling.urls")),
    path("staff/", include("accounts.staff_urls")),
    path("staff/", include("scheduling.staff_urls")),
    path("staff/", include("appointments.staff_urls")),
    path("api/v1/", include(api_patterns)),
    path("admin/", admin.site.urls),
]
