from django.contrib import admin
from django.urls import include, path

from scheduling import views as scheduling_views

urlpatterns = [
    path("", scheduling_views.home, name="home"),
    path("", include("accounts.urls")),
    path("doctors/", include("scheduling.urls")),
    path("appointments/", include("appointments.urls")),
    path("staff/", include("accounts.staff_urls")),
    path("staff/", include("scheduling.staff_urls")),
    path("staff/", include("appointments.staff_urls")),
    path("admin/", admin.site.urls),
]
