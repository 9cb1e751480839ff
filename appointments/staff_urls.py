"""Staff pages of the appointments app, under /staff/ (clinic/urls.py)."""

from django.urls import path

from appointments import staff_views

app_name = "staff_appointments"

urlpatterns = [
    path("calendar/", staff_views.calendar, name="calendar"),
    path("appointments/<int:pk>/", staff_views.detail, name="detail"),
    path("appointments/<int:pk>/cancel/", staff_views.cancel, name="cancel"),
    path("appointments/<int:pk>/attendance/", staff_views.attendance, name="attendance"),
    path("patients/", staff_views.patients, name="patients"),
    path("patients/new/", staff_views.new_patient, name="new_patient"),
    path("patients/<int:patient_id>/book/", staff_views.book_for_patient, name="book_for_patient"),
    path(
        "doctors/<int:doctor_id>/days/<str:day>/cancel/",
        staff_views.cancel_day,
        name="cancel_day",
    ),
]
