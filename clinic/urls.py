from django.contrib import admin
from django.urls import include, path

from scheduling import views as scheduling_views

# An API request that fails with a bug, or that Django refuses before any view runs,
# still gets application/problem+json.
handler400 = "clinic.api.problems.bad_request"
handler500 = "clinic.api.problems.server_error"

urlpatterns = [
    path("", scheduling_views.home, name="home"),
    path("", include("accounts.urls")),
    path("doctors/", include("scheduling.urls")),
    path("appointments/", include("appointments.urls")),
    path("staff/", include("accounts.staff_urls")),
    path("staff/", include("scheduling.staff_urls")),
    path("staff/", include("appointments.staff_urls")),
    path("api/v1/", include("clinic.api.urls")),
    path("admin/", admin.site.urls),
]
