"""Staff pages of the scheduling app, under /staff/ (clinic/urls.py)."""

from django.urls import path

from scheduling import staff_views

app_name = "staff_scheduling"

urlpatterns = [
    path("doctors/", staff_views.doctors, name="doctors"),
]
